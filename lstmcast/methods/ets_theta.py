"""ETS and Theta combined: the mean of their point forecasts.

Averaging two good forecasts whose errors differ cancels part of each one's error; equal
weights need nothing fitted on the validation windows, so its score there is as honest as
its members' (Makridakis et al., the M4 competition, 2020: combinations led).
"""

from __future__ import annotations

import numpy as np

from lstmcast.methods import Method, ets, theta


def forecast(values: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """(ETS + Theta) / 2."""
    return (ets.forecast(values, horizon, season) + theta.forecast(values, horizon, season)) / 2


METHOD = Method("ets_theta", "ETS + Theta", 6, forecast, fitted=True, members=("ets", "theta"))
