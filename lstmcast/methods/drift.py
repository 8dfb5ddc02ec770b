"""Drift: the line through the first and last values."""

from __future__ import annotations

import numpy as np

from lstmcast.methods import Method, naive
from lstmcast.methods._history import history


def forecast(values: np.ndarray, horizon: int, season: int = 1) -> np.ndarray:
    """f_{n+h} = y_n + h (y_n - y_1) / (n - 1); naive for a single value."""
    x = history(values)
    if len(x) == 1:
        return naive.forecast(x, horizon)
    slope = (x[-1] - x[0]) / (len(x) - 1)
    return x[-1] + slope * np.arange(1, horizon + 1)


METHOD = Method("drift", "drift", 3, forecast)
