"""Training and validation windows as (series, origin) indices into a Panel's flat array.

A window with origin t of series s reads the lookback `values[t - L : t]` and the target
`values[t : t + H]` of that series. Nothing is copied until a batch is gathered, so memory
stays O(rows) however many windows there are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lstmcast.config import OPTION_STEPS
from lstmcast.data.freq import calendar_periods
from lstmcast.data.panel import Panel

__all__ = [
    "WindowIndex",
    "build_index",
    "default_val_size",
    "spaced_windows",
    "verdict_windows",
    "backtest_origins",
    "VERDICT_FOLDS",
    "default_lookback",
    "default_patch",
    "default_hidden",
]

VERDICT_FOLDS = 3  # held-out horizons per series where the data allow: the LSTM's evidence


@dataclass(frozen=True)
class WindowIndex:
    """Where training and validation windows can start, per series."""

    lookback: int
    horizon: int
    val_size: int
    min_context: int  # a training window needs this many real lookback points; the rest is padded
    train_first: np.ndarray  # (S,) first training origin of each series
    train_count: np.ndarray  # (S,) number of training origins (0 = series too short)
    val_series: np.ndarray  # (V,) series of each validation window
    val_origin: np.ndarray  # (V,) origin of each validation window

    @property
    def n_train(self) -> int:
        return int(self.train_count.sum())

    @property
    def min_length(self) -> int:
        """The fewest points a series needs for one training and one validation window."""
        return self.min_context + self.horizon + self.val_size

    def too_short(self) -> np.ndarray:
        """Series indices that give no training window."""
        return np.flatnonzero(self.train_count == 0)

    def sample(self, rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
        """Draw `size` training windows uniformly over all windows of all series."""
        cum = np.cumsum(self.train_count)
        k = rng.integers(0, cum[-1], size=size)
        series = np.searchsorted(cum, k, side="right")
        origin = self.train_first[series] + (k - (cum[series] - self.train_count[series]))
        return series, origin


def default_val_size(panel: Panel, horizon: int) -> int:
    """Steps held out per series: VERDICT_FOLDS whole horizons, so the verdict rests on that
    many windows per series that do not overlap, and up to four horizons while that makes
    about 64 early-stopping windows in all. Never more horizons than fit in a fifth of the
    median series, but always one.
    """
    cap = 0.2 * np.median(panel.lengths)
    k = max(VERDICT_FOLDS, min(4, -(-64 // panel.n_series)))
    while k > 1 and k * horizon > cap:
        k -= 1
    return k * horizon


def build_index(
    panel: Panel, lookback: int, horizon: int, val_size: int | None = None
) -> WindowIndex:
    """Index the windows of a panel: the last `val_size` steps of each series are validation.

    Validation windows start at n - val_size and then every `horizon` steps while a whole
    horizon fits, so validation never sees a value that training windows used as a target.
    """
    val_size = horizon if val_size is None else val_size
    n = panel.lengths.astype(np.int64)
    min_context = max(1, lookback // 2)
    last_train = n - val_size - horizon  # last origin whose target ends before validation
    first = np.full(len(n), min_context, dtype=np.int64)
    count = np.maximum(last_train - first + 1, 0)

    per_series = max(1, (val_size - horizon) // horizon + 1) if val_size >= horizon else 0
    starts = (n - val_size)[:, None] + horizon * np.arange(per_series)[None, :]  # (S, k)
    valid = (starts >= min_context) & (starts + horizon <= n[:, None])
    val_series = np.broadcast_to(np.arange(len(n))[:, None], starts.shape)[valid]
    return WindowIndex(
        lookback=lookback,
        horizon=horizon,
        val_size=val_size,
        min_context=min_context,
        train_first=first,
        train_count=count,
        val_series=val_series.astype(np.int64),
        val_origin=starts[valid].astype(np.int64),
    )


def spaced_windows(
    lengths: np.ndarray, horizon: int, least: np.ndarray | int, folds: int
) -> tuple[np.ndarray, np.ndarray]:
    """Origins n - H, n - 2H, ... (at most `folds`) of each series, each with at least `least`
    values (one number, or one per series) before it: windows that never overlap, the last
    ending at the series' last value. Returns (series, origin)."""
    n = np.asarray(lengths, dtype=np.int64)
    least = np.broadcast_to(np.asarray(least, dtype=np.int64), n.shape)
    origin = n[:, None] - np.arange(1, max(folds, 0) + 1)[None, :] * horizon  # (S, K)
    ok = origin >= least[:, None]
    series = np.broadcast_to(np.arange(len(n))[:, None], origin.shape)
    return series[ok].astype(np.int64), origin[ok].astype(np.int64)


def verdict_windows(panel: Panel, index: WindowIndex) -> tuple[np.ndarray, np.ndarray]:
    """The LSTM's held-out windows, where it is judged and its intervals calibrated: each
    series' held-out steps cut into whole horizons, each with min_context history."""
    return spaced_windows(
        panel.lengths, index.horizon, index.min_context, index.val_size // index.horizon
    )


def backtest_origins(
    panel: Panel, folds: int, horizon: int, step: int, min_history: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rolling origins: fold k of K starts at n - horizon - (K - 1 - k) * step in every series.

    Returns (series, origin, fold) for the windows whose history has at least `min_history`
    points; the last fold ends exactly at each series' last observation.
    """
    n = panel.lengths.astype(np.int64)
    fold = np.arange(folds)
    origin = n[:, None] - horizon - (folds - 1 - fold[None, :]) * step  # (S, K)
    ok = origin >= min_history
    series = np.broadcast_to(np.arange(len(n))[:, None], origin.shape)
    return series[ok], origin[ok], np.broadcast_to(fold[None, :], origin.shape)[ok]


# The model's default shape: how much history a window reads, in how many tokens, and how
# wide the LSTM is, from the data (train.resolve_model_config).
# Default lookback in seasonal cycles; sub-daily: two weeks, so the skip can mix the same hour
# of both (M4 Hourly: OWA 0.393 against 0.409 with one week; benchmarks/ablations.py).
LOOKBACK_CYCLES, SUBDAILY_LOOKBACK_CYCLES = 7, 14
# Fewest LSTM tokens a default patch leaves: one per cycle of a 7-cycle lookback, so the
# recurrence walks seasons, not steps (a daily panel: 7 tokens, not 49; benchmarks/small_panel.py).
MIN_TOKENS = LOOKBACK_CYCLES
# Hidden units by the training windows the data give: a small file gets a model its data can
# fit in seconds; a big panel (M4 Hourly: ~300,000 windows) the capacity it needs.
SMALL_HIDDEN, HIDDEN, SMALL_DATA_WINDOWS = 64, 128, 50_000


def default_lookback(panel: Panel, season: int, horizon: int, val: int) -> int:
    """Seven cycles (fourteen, two weeks, when the cycle is a day) or three horizons, whichever
    is longer, at most OPTION_STEPS; shortened so the median series still yields windows."""
    daily_cycle = dict(calendar_periods(panel.freq)).get("time of day") == season
    cycles = SUBDAILY_LOOKBACK_CYCLES if daily_cycle else LOOKBACK_CYCLES
    lookback = min(max(cycles * season, 3 * horizon) if season > 1 else 3 * horizon, OPTION_STEPS)
    room = int(np.median(panel.lengths)) - val - horizon
    return max(min(lookback, room), min(season if season > 1 else horizon, max(room, 1)), 1)


def default_patch(season: int, lookback: int, exact: bool) -> int:
    """The largest divisor of the season that leaves at least MIN_TOKENS tokens; with an
    `exact` (the user's) lookback, only one that divides it."""
    divisors = [d for d in range(1, max(season, 1) + 1) if season % d == 0] if season > 1 else [1]
    fits = [d for d in divisors if lookback // d >= MIN_TOKENS or d == 1]
    if exact:
        fits = [d for d in fits if lookback % d == 0]
    return max(fits)


def default_hidden(panel: Panel, lookback: int, horizon: int, val: int) -> int:
    """SMALL_HIDDEN when the panel yields fewer than SMALL_DATA_WINDOWS training windows."""
    windows = build_index(panel, lookback, horizon, val).n_train
    return SMALL_HIDDEN if windows < SMALL_DATA_WINDOWS else HIDDEN
