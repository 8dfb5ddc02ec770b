"""The one check every per-series method makes of the history it is given."""

from __future__ import annotations

import numpy as np


def history(values: np.ndarray) -> np.ndarray:
    """`values` as a float64 1-D array with at least one value."""
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1 or len(x) == 0:
        raise ValueError(f"history must be a non-empty 1-D series, got shape {x.shape}")
    return x
