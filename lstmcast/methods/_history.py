"""What every per-series method does with the history it is given."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

FIT_HISTORY_SEASONS = 10  # a fitted method sees the last ten seasons (FIT_HISTORY_MIN points
FIT_HISTORY_MIN = 256  # at least): older data rarely change the forecast; the fit's cost grows


def history(values: np.ndarray) -> np.ndarray:
    """`values` as a float64 1-D array with at least one value."""
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1 or len(x) == 0:
        raise ValueError(f"history must be a non-empty 1-D series, got shape {x.shape}")
    return x


def fitted_forecast(
    values: np.ndarray, horizon: int, season: int, fit: Callable[[np.ndarray], object]
) -> np.ndarray:
    """`fit(x)`'s point forecast from the recent history x, or the last value repeated
    (naive) when x is too short (< 4) or flat to fit, or the fit fails or gives a value that
    is not a number: a fitted method never crashes a run over one series."""
    x = history(values)[-max(FIT_HISTORY_SEASONS * season, FIT_HISTORY_MIN) :]
    if len(x) >= 4 and np.ptp(x) > 0:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                point = np.asarray(fit(x), dtype=np.float64)
            if point.shape == (horizon,) and np.isfinite(point).all():
                return point
        except Exception:  # a fit that fails to converge: the plainest forecast instead
            pass
    return np.full(horizon, x[-1])
