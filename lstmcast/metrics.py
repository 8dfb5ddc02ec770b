"""Forecast metrics in plain numpy, with the M4 competition's definitions, and the skill's interval."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "mae",
    "rmse",
    "mape",
    "count_zero_actuals",
    "smape",
    "mase",
    "mase_scale",
    "mase_scales",
    "band_scale",
    "BAND_SCALE",
    "pinball",
    "coverage",
    "interval_width",
    "skill",
    "skill_interval",
    "verdict",
]

# Every metric reduces over the last axis: a 1-D input (one horizon) gives a float, a 2-D
# input (series x horizon) gives one value per row.
Score = float | np.ndarray


def _pair(
    a: np.ndarray, b: np.ndarray, names: str = "y_true, y_pred"
) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"{names} must have the same shape, got {a.shape} and {b.shape}")
    if a.ndim not in (1, 2):
        raise ValueError(f"{names} must be 1-D (horizon) or 2-D (series x horizon), got {a.ndim}-D")
    return a, b


def _score(x: np.ndarray) -> Score:
    return float(x) if np.ndim(x) == 0 else x


def _mean(terms: np.ndarray) -> Score:
    return _score(terms.mean(axis=-1))


def mae(y_true: np.ndarray, y_pred: np.ndarray) -> Score:
    """Mean absolute error: mean |y - f|."""
    y, f = _pair(y_true, y_pred)
    return _mean(np.abs(y - f))


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> Score:
    """Root mean squared error: sqrt(mean (y - f)^2)."""
    y, f = _pair(y_true, y_pred)
    return _score(np.sqrt(((y - f) ** 2).mean(axis=-1)))


def mape(y_true: np.ndarray, y_pred: np.ndarray) -> Score:
    """Mean absolute percentage error, in percent: mean of 100 |y - f| / |y| over y != 0.

    Zero actuals are left out of the mean (so it is never inf); `count_zero_actuals` says how
    many were left out. A row whose actuals are all zero has no defined MAPE: NaN.
    """
    y, f = _pair(y_true, y_pred)
    nonzero = y != 0
    safe_y = np.where(nonzero, y, 1.0)  # keeps the division quiet where y == 0
    total = np.where(nonzero, 100 * np.abs(y - f) / np.abs(safe_y), 0.0).sum(axis=-1)
    count = nonzero.sum(axis=-1)
    return _score(np.where(count > 0, total / np.maximum(count, 1), np.nan))


def count_zero_actuals(y_true: np.ndarray) -> int | np.ndarray:
    """Number of actuals equal to 0, which `mape` skips: an int, or one count per row for 2-D."""
    zeros = (np.asarray(y_true) == 0).sum(axis=-1)
    return int(zeros) if np.ndim(zeros) == 0 else zeros


def smape(y_true: np.ndarray, y_pred: np.ndarray) -> Score:
    """Symmetric MAPE on the M4 scale 0-200: mean of 200 |y - f| / (|y| + |f|).

    A step where both y and f are 0 is a perfect forecast and counts as 0, not NaN.
    """
    y, f = _pair(y_true, y_pred)
    denom = np.abs(y) + np.abs(f)
    safe = np.where(denom > 0, denom, 1.0)
    return _mean(np.where(denom > 0, 200 * np.abs(y - f) / safe, 0.0))


def mase_scale(insample: np.ndarray, season: int = 1) -> float:
    """MASE denominator of one series: mean |y_t - y_{t-m}| over its in-sample values.

    m = `season`, or 1 when the in-sample has fewer than m + 1 values. 0 for a constant
    in-sample (then `mase` is NaN); NaN for a single value, which has no differences at all.
    """
    x = np.asarray(insample, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"insample must be one series (1-D), got shape {x.shape}")
    m = season if season >= 1 and len(x) > season else 1
    if len(x) <= m:
        return float("nan")
    return float(np.abs(x[m:] - x[:-m]).mean())


LEVEL_WINDOW_MIN = 12  # values at least in the recent level a band scale follows
# What a model file's `band_scale` says when its per-series method bands are in band_scale units.
BAND_SCALE = "mase scale, grown with the recent level of positive data"


def band_scale(insample: np.ndarray, season: int, horizon: int, follow_level: bool = True) -> float:
    """The unit of a per-series method's band: the series' MASE scale (mase_scale), grown by
    how far its recent level stands above its mean level when every value is positive.

    Errors of positive data grow with their level (a price, a count, a demand that doubled),
    so differences averaged over the whole history understate the scale of a series that has
    grown. The recent level is the mean of the last max(2 horizon, season, LEVEL_WINDOW_MIN)
    values. The scale is never shrunk below the MASE scale: a series that fell keeps the
    band its whole history gives. Data with zeros or negative values (or `follow_level`
    False, as model files from before it hold) get the plain MASE scale.
    """
    x = np.asarray(insample, dtype=np.float64)
    scale = mase_scale(x, season)
    if not follow_level or len(x) < 2 or not np.isfinite(scale) or float(x.min()) <= 0:
        return scale
    recent = x[-max(2 * horizon, season, LEVEL_WINDOW_MIN) :]
    return scale * max(1.0, float(recent.mean() / x.mean()))


def mase_scales(insamples: Sequence[np.ndarray], season: int = 1) -> np.ndarray:
    """`mase_scale` of each series, for the `scale` of a 2-D `mase`."""
    return np.array([mase_scale(x, season) for x in insamples], dtype=np.float64)


def mase(y_true: np.ndarray, y_pred: np.ndarray, scale: float | np.ndarray) -> Score:
    """Mean absolute scaled error: mean |y - f| / scale, the scale from `mase_scale`.

    For 2-D input `scale` holds one value per row. A scale of 0 (constant in-sample) or NaN
    gives NaN rather than inf, so callers can count such series and leave them out.
    """
    err = np.asarray(mae(y_true, y_pred))
    scale = np.asarray(scale, dtype=np.float64)
    if scale.shape not in ((), err.shape):
        raise ValueError(f"scale must be a number or one per series {err.shape}, got {scale.shape}")
    usable = scale > 0  # False for 0 and for NaN
    return _score(np.where(usable, err / np.where(usable, scale, 1.0), np.nan))


def pinball(y_true: np.ndarray, q_pred: np.ndarray, q: float) -> Score:
    """Mean pinball (quantile) loss at level q: mean of max(q (y - f), (q - 1) (y - f))."""
    if not 0 < q < 1:
        raise ValueError(f"quantile level q must lie strictly between 0 and 1, got {q}")
    y, f = _pair(y_true, q_pred, "y_true, q_pred")
    e = y - f
    return _mean(np.maximum(q * e, (q - 1) * e))


def coverage(y_true: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> Score:
    """Share of actuals inside the closed interval: mean of [lower <= y <= upper]."""
    y, lo = _pair(y_true, lower, "y_true, lower")
    _, hi = _pair(y_true, upper, "y_true, upper")
    return _mean(((y >= lo) & (y <= hi)).astype(np.float64))


def interval_width(lower: np.ndarray, upper: np.ndarray) -> Score:
    """Mean interval width: mean (upper - lower)."""
    lo, hi = _pair(lower, upper, "lower, upper")
    return _mean(hi - lo)


def skill(model_error, baseline_error):
    """Skill against a baseline: 1 - model_error / baseline_error (lstmcast uses MASE).

    Above 0 the model beats the baseline, 0 ties, below 0 loses. Two numbers give a float,
    or None where it is undefined: an error is missing (None) or the baseline's is 0.
    Arrays or columns (one value per series) give one skill per element, with numpy's
    NaN or -inf where a baseline's error is NaN or 0.
    """
    if np.ndim(model_error) or np.ndim(baseline_error):
        with np.errstate(divide="ignore", invalid="ignore"):
            return 1 - model_error / baseline_error
    if model_error is None or not baseline_error:
        return None
    return float(1 - model_error / baseline_error)


BOOTSTRAP = 2000  # resamples behind a skill's interval
LEVEL = 0.9  # the skill's interval: "beats" when all of it lies above 0
MIN_UNITS = 5  # series (else windows) below which the interval is not drawn: a tie


def skill_interval(model: np.ndarray, other: np.ndarray, cluster: np.ndarray | None = None):
    """Skill 1 - sum(model) / sum(other) of paired errors (one pair per window), and its
    LEVEL bootstrap interval (low, high): whole clusters (the series) resampled when there
    are MIN_UNITS or more, since windows of one series are alike, else single windows.

    (skill, None, None), which `verdict` reads as a tie, with fewer than MIN_UNITS windows;
    (None, None, None) without any pair. A fixed seed: the same data give the same interval.
    """
    model, other = np.asarray(model, np.float64), np.asarray(other, np.float64)
    if not len(model):
        return None, None, None
    point = skill(float(model.sum()), float(other.sum()))
    units = np.arange(len(model)) if cluster is None else np.asarray(cluster)
    _, inverse = np.unique(units, return_inverse=True)
    if inverse.max() + 1 < MIN_UNITS:
        inverse = np.arange(len(model))
    n = int(inverse.max()) + 1
    if n < MIN_UNITS or point is None:  # a bootstrap of so few says nothing: no interval
        return point, None, None
    a = np.bincount(inverse, weights=model, minlength=n)
    b = np.bincount(inverse, weights=other, minlength=n)
    draw = np.random.default_rng(0).integers(0, n, size=(BOOTSTRAP, n))
    with np.errstate(divide="ignore", invalid="ignore"):
        skills = 1 - a[draw].sum(axis=1) / b[draw].sum(axis=1)
    skills = skills[np.isfinite(skills)]
    if not len(skills):
        return point, None, None
    tail = (1 - LEVEL) / 2
    low, high = np.quantile(skills, [tail, 1 - tail])
    return point, round(float(low), 6), round(float(high), 6)


def verdict(low: float | None, high: float | None) -> str:
    """ "beats" when a skill's whole interval lies above 0, "loses" when below, else "ties"."""
    if low is not None and low > 0:
        return "beats"
    if high is not None and high < 0:
        return "loses"
    return "ties"


def as_written(frame):
    """A table of scores as files and JSON show it: float64 columns as float32, so a MASE
    reads 0.7723456 (about 7 significant digits, as forecasts are written), not 17 digits
    of float64 noise. Summaries are computed from the float64 table before this."""
    return frame.astype(
        {name: "float32" for name, kind in frame.dtypes.items() if kind == "float64"}
    )
