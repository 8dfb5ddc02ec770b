"""Seasonal naive: the last seasonal cycle, repeated."""

from __future__ import annotations

import numpy as np

from lstmcast.methods import Method, naive
from lstmcast.methods._history import history


def forecast(values: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """f_{n+h} = y_{n-m+((h-1) mod m)+1}; naive when m <= 1 or the history is shorter than
    one cycle."""
    x = history(values)
    if season <= 1 or len(x) < season:
        return naive.forecast(x, horizon)
    return np.resize(x[-season:], horizon)  # resize tiles the cycle


METHOD = Method("seasonal_naive", "seasonal naive", 2, forecast, seasonal=True)
