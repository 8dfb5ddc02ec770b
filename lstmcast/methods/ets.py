"""ETS: exponential smoothing with the error, trend and season forms chosen per series.

statsforecast's AutoETS picks additive or multiplicative error, no, additive or damped
trend, and no, additive or multiplicative season (multiplicative forms only for positive
data) by AICc (Hyndman et al., Forecasting with Exponential Smoothing, 2008).
"""

from __future__ import annotations

import warnings

import numpy as np

from lstmcast.methods import Method, naive
from lstmcast.methods._history import history

FIT_HISTORY_SEASONS = 10  # fit on the last ten seasons (at least FIT_HISTORY_MIN points):
FIT_HISTORY_MIN = 256  # older data rarely changes the forecast, and the fit's cost grows with it
MAX_SEASON = 24  # statsforecast's ETS models at most 24 seasonal states; longer is fit without
# From this season on the season is kept (additive): with 24 states AICc drops it on most M4
# Hourly series (MASE 1.61 against 1.06 with it kept, BENCHMARKS.md).
FORCE_SEASON = 24


def forecast(values: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """AutoETS's point forecast; naive for a history too short or too flat to fit."""
    x = history(values)
    x = x[-max(FIT_HISTORY_SEASONS * season, FIT_HISTORY_MIN) :]
    if len(x) < 4 or np.ptp(x) == 0:
        return naive.forecast(x, horizon)
    from statsforecast.models import AutoETS

    m = season if 1 < season <= MAX_SEASON and len(x) >= 2 * season + 2 else 1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            form = "ZZA" if m >= FORCE_SEASON else "ZZZ"
            point = AutoETS(season_length=m, model=form).forecast(y=x, h=horizon)["mean"]
    except Exception:  # a fit that fails to converge: the plainest forecast, never a crash
        return naive.forecast(x, horizon)
    point = np.asarray(point, dtype=np.float64)
    return point if np.isfinite(point).all() else naive.forecast(x, horizon)


METHOD = Method("ets", "ETS", 5, forecast, fitted=True)
