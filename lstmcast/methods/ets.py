"""ETS: exponential smoothing with the error, trend and season forms chosen per series.

statsforecast's AutoETS picks additive or multiplicative error, no, additive or damped
trend, and no, additive or multiplicative season (multiplicative forms only for positive
data) by AICc (Hyndman et al., Forecasting with Exponential Smoothing, 2008).
"""

from __future__ import annotations

import numpy as np

from lstmcast.methods import Method
from lstmcast.methods._history import fitted_forecast

MAX_SEASON = 24  # statsforecast's ETS models at most 24 seasonal states; longer is fit without
# From this season on the season is kept (additive): with 24 states AICc drops it on most M4
# Hourly series (MASE 1.61 against 1.06 with it kept, BENCHMARKS.md).
FORCE_SEASON = 24


def forecast(values: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """AutoETS's point forecast (naive where it cannot fit: see fitted_forecast)."""

    def fit(x: np.ndarray):
        from statsforecast.models import AutoETS

        m = season if 1 < season <= MAX_SEASON and len(x) >= 2 * season + 2 else 1
        form = "ZZA" if m >= FORCE_SEASON else "ZZZ"
        return AutoETS(season_length=m, model=form).forecast(y=x, h=horizon)["mean"]

    return fitted_forecast(values, horizon, season, fit)


METHOD = Method("ets", "ETS", 5, forecast, fitted=True)
