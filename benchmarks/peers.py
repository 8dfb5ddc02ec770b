"""Statistical peers from statsforecast (AutoETS, AutoTheta) on plain numpy series.

statsforecast is a benchmark-only dependency (`pip install -e '.[bench]'`): it is imported
inside the functions that need it, so a script that can run without the peers still does.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

import numpy as np

__all__ = ["PEERS", "LEVEL", "MISSING", "available", "PeerForecast", "forecast_peers"]

PEERS = ("AutoETS", "Theta")  # column names; Theta is statsforecast's AutoTheta
LEVEL = 80  # the interval level compared with lstmcast's 80 % band
MISSING = (
    "statsforecast is not installed, so the AutoETS and Theta peers are left out: "
    "pip install -e '.[bench]' (or pip install statsforecast)"
)


def available() -> bool:
    """Whether statsforecast can be imported, without importing it (it is slow to import)."""
    return importlib.util.find_spec("statsforecast") is not None


@dataclass(frozen=True)
class PeerForecast:
    """One peer's forecast of one series: point and the LEVEL % interval, each (H,)."""

    mean: np.ndarray
    lo: np.ndarray
    hi: np.ndarray


def _models(season: int) -> dict:
    from statsforecast.models import AutoETS, AutoTheta

    m = max(1, int(season))  # season 1: no seasonal component
    return {"AutoETS": AutoETS(season_length=m), "Theta": AutoTheta(season_length=m)}


def forecast_peers(y: np.ndarray, horizon: int, season: int) -> dict[str, PeerForecast | str]:
    """Fit each peer on the series `y` (no missing values) and forecast `horizon` steps.

    Returns, per peer name, its forecast, or the reason it failed (a string) so one failing
    series does not stop a benchmark. Raises ModuleNotFoundError without statsforecast.
    """
    y = np.asarray(y, dtype=np.float64)
    if not np.isfinite(y).all():
        raise ValueError("the peers need a series without missing values: fill its gaps first")
    out: dict[str, PeerForecast | str] = {}
    for name, model in _models(season).items():
        try:
            fc = model.forecast(y=y, h=horizon, level=[LEVEL])
        except Exception as exc:  # statsforecast raises plain errors on too-short series
            out[name] = f"{type(exc).__name__}: {exc}"
            continue
        out[name] = PeerForecast(
            np.asarray(fc["mean"], dtype=np.float64),
            np.asarray(fc[f"lo-{LEVEL}"], dtype=np.float64),
            np.asarray(fc[f"hi-{LEVEL}"], dtype=np.float64),
        )
    return out
