"""M4's Naive2 baseline: the classical multiplicative decomposition the M4 organisers used.

Only the M4 benchmarks score against Naive2, so it lives beside them rather than in
lstmcast.metrics. Run a benchmark as a script (its folder is then on sys.path) and
`from m4_metrics import naive2_forecast`.
"""

from __future__ import annotations

import numpy as np

from lstmcast.methods import naive

__all__ = ["naive2_forecast"]


def _acf(x: np.ndarray, k: int) -> float:
    """Autocorrelation at lag k as the M4 code has it: sum (x_t - mean)(x_{t+k} - mean) / sum (x - mean)^2."""
    d = x - x.mean()
    return float(np.dot(d[:-k], d[k:]) / np.dot(d, d))


def _is_seasonal(x: np.ndarray, m: int) -> bool:
    """M4's 90 % seasonality test: |acf_m| > 1.645 sqrt((1 + 2 sum_{k=1}^{m-1} acf_k^2) / n)."""
    if np.all(x == x[0]):
        return False  # a constant series has no autocorrelation to test
    acf = np.array([_acf(x, k) for k in range(1, m + 1)])
    limit = 1.645 * np.sqrt((1 + 2 * np.sum(acf[:-1] ** 2)) / len(x))
    return bool(abs(acf[-1]) > limit)


def _seasonal_indices(x: np.ndarray, m: int) -> np.ndarray:
    """Classical multiplicative decomposition (R's `decompose`): the m seasonal indices.

    Trend: centred moving average of order m (2 x m for even m). Index of each position in
    the cycle: mean of data / trend there, normalised so the m indices average to 1.
    """
    weights = np.r_[0.5, np.ones(m - 1), 0.5] / m if m % 2 == 0 else np.ones(m) / m
    trend = np.convolve(x, weights, mode="valid")  # (n - len(weights) + 1,), centred on x[half:]
    half = (len(weights) - 1) // 2
    ratio = np.full(len(x), np.nan)
    ratio[half : half + len(trend)] = x[half : half + len(trend)] / trend
    # Position 0 is the first observation; every position has at least two ratios as n >= 3m.
    idx = np.array([np.nanmean(ratio[i::m]) for i in range(m)])
    return idx / idx.mean()


def naive2_forecast(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """M4's Naive2: naive on the seasonally adjusted series, then reseasonalised.

    f_{n+h} = y_n / s(n) * s(n + h), with s(t) the multiplicative seasonal index of t's place in
    the cycle, when the series passes the 90 % seasonality test at lag m. Plain naive when it does not,
    when m <= 1, when n < 3m, or when some value is <= 0 (multiplicative indices need y > 0).
    """
    last = naive.forecast(history, horizon)  # also refuses an empty or non 1-D history
    x = np.asarray(history, dtype=np.float64)
    n, m = len(x), season
    if m <= 1 or n < 3 * m or np.any(x <= 0) or not _is_seasonal(x, m):
        return last
    idx = _seasonal_indices(x, m)
    level = x[-1] / idx[(n - 1) % m]
    return level * idx[np.arange(n, n + horizon) % m]
