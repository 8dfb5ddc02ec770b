"""Naive (M4's Naive1): the last value, repeated."""

from __future__ import annotations

import numpy as np

from lstmcast.methods import Method
from lstmcast.methods._history import history


def forecast(values: np.ndarray, horizon: int, season: int = 1) -> np.ndarray:
    """f_{n+h} = y_n."""
    return np.full(horizon, history(values)[-1])


METHOD = Method("naive", "naive", 1, forecast)
