"""Theta: the dynamic optimised Theta method (Fiorucci et al., 2016).

statsforecast's DynamicOptimizedTheta deseasonalises the series (multiplicative classical
decomposition, when a test finds a season), fits the theta line with its parameter
optimised and its trend updated as data arrive, and reseasonalises the forecast.
"""

from __future__ import annotations

import numpy as np

from lstmcast.methods import Method
from lstmcast.methods._history import fitted_forecast


def forecast(values: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """The Theta point forecast (naive where it cannot fit: see fitted_forecast)."""

    def fit(x: np.ndarray):
        from statsforecast.models import DynamicOptimizedTheta

        m = season if season > 1 and len(x) >= 2 * season else 1
        return DynamicOptimizedTheta(season_length=m).forecast(y=x, h=horizon)["mean"]

    return fitted_forecast(values, horizon, season, fit)


METHOD = Method("theta", "Theta", 4, forecast, fitted=True)
