"""Point and interval forecast metrics and naive baselines, in plain numpy."""

from __future__ import annotations

import numpy as np

__all__ = [
    "mae",
    "rmse",
    "mape",
    "smape",
    "mase",
    "mase_scale",
    "pinball",
    "coverage",
    "interval_width",
    "naive_forecast",
    "seasonal_naive_forecast",
    "drift_forecast",
    "naive2_forecast",
]


def _reduce(values: np.ndarray):
    """Mean over the last axis: a float for 1-D input, one value per row for 2-D."""
    with np.errstate(invalid="ignore"):
        out = (
            np.nanmean(values, axis=-1) if values.shape[-1] else np.full(values.shape[:-1], np.nan)
        )
    return float(out) if np.ndim(out) == 0 else out


def mae(y_true: np.ndarray, y_pred: np.ndarray):
    """Mean absolute error: mean |y - f|."""
    return _reduce(np.abs(np.asarray(y_true, float) - np.asarray(y_pred, float)))


def rmse(y_true: np.ndarray, y_pred: np.ndarray):
    """Root mean squared error: sqrt(mean (y - f)^2)."""
    mse = _reduce((np.asarray(y_true, float) - np.asarray(y_pred, float)) ** 2)
    return float(np.sqrt(mse)) if np.ndim(mse) == 0 else np.sqrt(mse)


def mape(y_true: np.ndarray, y_pred: np.ndarray):
    """Mean absolute percentage error in percent: mean 100 |y - f| / |y| over y != 0.

    Zero actuals are skipped (never inf); a row whose actuals are all zero gives NaN.
    """
    y, f = np.asarray(y_true, float), np.asarray(y_pred, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ape = np.where(y != 0, 100 * np.abs(y - f) / np.abs(y), np.nan)
    return _reduce(ape)


def smape(y_true: np.ndarray, y_pred: np.ndarray):
    """Symmetric MAPE on the M4 scale (0-200): mean 200 |y - f| / (|y| + |f|); 0 where both are 0."""
    y, f = np.asarray(y_true, float), np.asarray(y_pred, float)
    denom = np.abs(y) + np.abs(f)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(denom > 0, 200 * np.abs(y - f) / denom, 0.0)
    return _reduce(terms)


def mase_scale(insample: np.ndarray, season: int = 1) -> float:
    """MASE denominator: mean |y_t - y_{t-m}| over the in-sample values (m = 1 if too short)."""
    x = np.asarray(insample, float)
    m = season if len(x) > season else 1
    if len(x) <= m:
        return float("nan")
    return float(np.mean(np.abs(x[m:] - x[:-m])))


def mase(y_true: np.ndarray, y_pred: np.ndarray, scale):
    """Mean absolute scaled error: mean |y - f| / scale; NaN where the scale is 0 (constant history)."""
    err = mae(y_true, y_pred)
    scale = np.asarray(scale, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(scale > 0, err / np.where(scale > 0, scale, 1), np.nan)
    return float(out) if np.ndim(out) == 0 else out


def pinball(y_true: np.ndarray, q_pred: np.ndarray, q: float):
    """Mean quantile loss at level q: mean max(q (y - f), (q - 1)(y - f))."""
    e = np.asarray(y_true, float) - np.asarray(q_pred, float)
    return _reduce(np.maximum(q * e, (q - 1) * e))


def coverage(y_true: np.ndarray, lower: np.ndarray, upper: np.ndarray):
    """Share of actuals inside [lower, upper]."""
    y = np.asarray(y_true, float)
    return _reduce(((y >= lower) & (y <= upper)).astype(float))


def interval_width(lower: np.ndarray, upper: np.ndarray):
    """Mean width of the interval: mean (upper - lower)."""
    return _reduce(np.asarray(upper, float) - np.asarray(lower, float))


def naive_forecast(history: np.ndarray, horizon: int) -> np.ndarray:
    """Repeat the last value."""
    return np.full(horizon, float(history[-1]))


def seasonal_naive_forecast(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Repeat the last seasonal cycle (tiled past one season); naive when history < season."""
    if season <= 1 or len(history) < season:
        return naive_forecast(history, horizon)
    cycle = np.asarray(history[-season:], float)
    return np.resize(cycle, horizon)


def drift_forecast(history: np.ndarray, horizon: int) -> np.ndarray:
    """Last value plus the average step: y_n + h (y_n - y_1) / (n - 1)."""
    n = len(history)
    if n < 2:
        return naive_forecast(history, horizon)
    slope = (float(history[-1]) - float(history[0])) / (n - 1)
    return float(history[-1]) + slope * np.arange(1, horizon + 1)


def _acf(x: np.ndarray, k: int) -> float:
    mean = x.mean()
    denom = np.sum((x - mean) ** 2)
    return float(np.sum((x[:-k] - mean) * (x[k:] - mean)) / denom) if denom > 0 else 0.0


def _is_seasonal(x: np.ndarray, m: int) -> bool:
    """The M4 organisers' 90 % test: |acf_m| > 1.645 sqrt((1 + 2 sum_{k<m} acf_k^2) / n)."""
    acfs = np.array([_acf(x, k) for k in range(1, m + 1)])
    limit = 1.645 * np.sqrt((1 + 2 * np.sum(acfs[:-1] ** 2)) / len(x))
    return abs(acfs[-1]) > limit


def _seasonal_indices(x: np.ndarray, m: int) -> np.ndarray:
    """Classical multiplicative decomposition: mean ratio of data to its centred MA, per position."""
    if m % 2 == 0:
        ma = np.convolve(x, np.r_[0.5, np.ones(m - 1), 0.5] / m, mode="valid")  # 2 x m MA
    else:
        ma = np.convolve(x, np.ones(m) / m, mode="valid")
    half = (len(x) - len(ma)) // 2
    ratio = np.full(len(x), np.nan)
    ratio[half : half + len(ma)] = x[half : half + len(ma)] / ma
    idx = np.array([np.nanmean(ratio[i::m]) for i in range(m)])
    return idx * m / idx.sum()


def naive2_forecast(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """M4 Naive2: naive on seasonally adjusted data, reseasonalised (when the 90 % test says seasonal)."""
    x = np.asarray(history, float)
    n = len(x)
    if season <= 1 or n < 3 * season or not _is_seasonal(x, season):
        return naive_forecast(x, horizon)
    idx = _seasonal_indices(x, season)
    position = np.arange(n) % season
    adjusted = x / idx[position]
    future = np.arange(n, n + horizon) % season
    return adjusted[-1] * idx[future]
