"""Theta: the dynamic optimised Theta method (Fiorucci et al., 2016).

statsforecast's DynamicOptimizedTheta deseasonalises the series (multiplicative classical
decomposition, when a test finds a season), fits the theta line with its parameter
optimised and its trend updated as data arrive, and reseasonalises the forecast.
"""

from __future__ import annotations

import warnings

import numpy as np

from lstmcast.methods import Method, naive
from lstmcast.methods._history import history

FIT_HISTORY_SEASONS = 10  # as ets.py: the last ten seasons, at least FIT_HISTORY_MIN points
FIT_HISTORY_MIN = 256


def forecast(values: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """The Theta point forecast; naive for a history too short or too flat to fit."""
    x = history(values)
    x = x[-max(FIT_HISTORY_SEASONS * season, FIT_HISTORY_MIN) :]
    if len(x) < 4 or np.ptp(x) == 0:
        return naive.forecast(x, horizon)
    from statsforecast.models import DynamicOptimizedTheta

    m = season if season > 1 and len(x) >= 2 * season else 1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            point = DynamicOptimizedTheta(season_length=m).forecast(y=x, h=horizon)["mean"]
    except Exception:  # a fit that fails: the plainest forecast, never a crash
        return naive.forecast(x, horizon)
    point = np.asarray(point, dtype=np.float64)
    return point if np.isfinite(point).all() else naive.forecast(x, horizon)


METHOD = Method("theta", "Theta", 4, forecast, fitted=True)
