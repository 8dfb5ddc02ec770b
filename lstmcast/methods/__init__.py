"""Every forecasting method as one unit, and the registry every list of methods comes from.

A method is one module of this package that defines `METHOD`, a `Method`: its name (the
value of the forecast's `model` column and the key in tables, model files and JSON), its
label, and, for a method fitted on one series at a time, its point forecast from a
history. The LSTM, trained once across all series, is the one global method; its network
lives in `lstm.py` and is the only module here that imports torch. Adding a method is
adding one module.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np

__all__ = [
    "Method",
    "LSTM",
    "registry",
    "names",
    "local_names",
    "candidates",
    "get",
    "label",
    "forecast_many",
    "mix",
    "partner",
    "uses_lstm",
    "fitted_names",
]

Forecast = Callable[[np.ndarray, int, int], np.ndarray]  # (history, horizon, season) -> (H,)


@dataclass(frozen=True)
class Method:
    """One forecasting method.

    `forecast` maps a series' history (float64, no gaps) to its point forecast over the
    horizon, refitting on that history each time (None for the LSTM, which forecasts
    through its network). `order` ranks methods for ties and listings: the LSTM first, then
    the simplest. `seasonal`: a candidate only when the data have a season. `fitted`: it
    estimates parameters per series (ETS, Theta), so each validation window costs a fit.
    """

    name: str
    label: str
    order: int
    forecast: Forecast | None = None
    seasonal: bool = False
    fitted: bool = False
    members: tuple[str, ...] = ()


LSTM = Method("lstm", "LSTM", 0)
SKIP = {"lstm"}  # modules of this package that hold no METHOD


@cache
def registry() -> dict[str, Method]:
    """name -> Method for every method, in `order`: discovered from this package's modules."""
    found = [LSTM]
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name in SKIP:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        found.append(module.METHOD)
    return {m.name: m for m in sorted(found, key=lambda m: (m.order, m.name))}


def names() -> tuple[str, ...]:
    """Every method's name: the LSTM, the per-series methods, then each half-and-half mix of
    the LSTM with one of them (`lstm+theta`)."""
    return (*registry(), *(mix(m) for m in local_names()))


def local_names() -> tuple[str, ...]:
    """The methods fitted per series from its own history: every one but the LSTM."""
    return tuple(n for n in registry() if n != LSTM.name)


MIX = "lstm+"  # a mix's name: the LSTM's and a per-series method's forecast, averaged


def mix(name: str) -> str:
    """The name of the LSTM mixed with the per-series method `name`."""
    return MIX + name


def partner(name: str) -> str | None:
    """The per-series method in a mix (`lstm+theta` -> `theta`); None for any other name."""
    return name[len(MIX) :] if name.startswith(MIX) else None


def uses_lstm(name: str) -> bool:
    """Whether forecasting by `name` runs the network: the LSTM and its mixes."""
    return name == LSTM.name or name.startswith(MIX)


def candidates(season: int) -> tuple[str, ...]:
    """The per-series methods that compete for data with this season (seasonal ones only
    when there is a season)."""
    return tuple(
        n for n, m in registry().items() if m is not LSTM and (season > 1 or not m.seasonal)
    )


def get(name: str) -> Method:
    try:
        return registry()[name]
    except KeyError:
        raise ValueError(f"unknown method {name!r}; known: {', '.join(registry())}") from None


def label(name: str) -> str:
    """How tables, summaries and plots name a method ("chosen": the per-series choice)."""
    if name == "chosen":
        return "chosen per series"
    if partner(name) in registry():
        return f"LSTM + {registry()[partner(name)].label}"
    return registry()[name].label if name in registry() else name


# What a worker process's numerical libraries read for their thread counts.
THREAD_COUNTS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
                 "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")  # fmt: skip
ONE_THREAD = dict.fromkeys(THREAD_COUNTS, "1")
IDLE_WORKER_S = 300  # a worker outlives a pause this long (joblib's default): a start costs ~2 s
POOL_MIN_FITS = 32  # fits of a fitted method (ETS, Theta) worth starting worker processes for


_pool: list = []  # the (reusable, so one) executor forecast_many last used, for stop_workers


def stop_workers() -> None:
    """Kill the worker processes of every fit forecast_many still runs (a caller waiting for
    them, in another thread, gets an error at once instead of its forecasts), and wait for
    the pool's manager thread to end, so that nothing of the pool runs on. That thread can
    trip over the work it was handing out (loky: a KeyError); on a pool thrown away its
    error is nobody's, so it is not printed."""
    import threading

    shown = threading.excepthook

    def quiet(args) -> None:
        if args.thread is None or args.thread.name != "ExecutorManagerThread":
            shown(args)

    threading.excepthook = quiet
    try:
        while _pool:
            _pool.pop().shutdown(wait=True, kill_workers=True)
    finally:
        threading.excepthook = shown


def cores() -> int:
    """The CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1


def forecast_many(
    name: str, histories: list[np.ndarray], horizon: int, season: int, workers: int | None = None
) -> np.ndarray:
    """`name`'s point forecasts (N, horizon) from each of `histories`. A fitted method's
    fits run in worker processes (joblib's loky) when there are POOL_MIN_FITS or more: as
    many as `workers` (at most 8), even one (so that a caller's thread is not held), or by
    default one per core (at most 8) when there is more than one. Each fit is independent
    and the results come back in order; stop_workers ends them early."""
    method = get(name)
    pool = min(8, workers if workers is not None else cores())
    if method.fitted and len(histories) >= POOL_MIN_FITS and (pool > 1 or workers is not None):
        from itertools import repeat

        from joblib.externals.loky import get_reusable_executor

        # loky: fresh worker processes, never a fork of one that holds torch's threads, and
        # no re-run of the caller's main script; reused by the next call. One thread each
        # for their numerical libraries (as joblib sets them): a fit's arrays are small, and
        # threads beyond the cores only wait for each other.
        executor = get_reusable_executor(max_workers=pool, env=ONE_THREAD, timeout=IDLE_WORKER_S)
        _pool[:] = [executor]
        chunk = max(1, len(histories) // (4 * pool))
        fits = executor.map(method.forecast, histories, repeat(horizon), repeat(season),
                            chunksize=chunk)  # fmt: skip
        return np.stack(list(fits))
    return np.stack([method.forecast(h, horizon, season) for h in histories])


def fitted_names() -> list[str]:
    """The fitted per-series methods (ETS, Theta: a fit per window) and the LSTM's mixes
    with them."""
    fitted = [m for m in local_names() if get(m).fitted]
    return fitted + [mix(m) for m in fitted]
