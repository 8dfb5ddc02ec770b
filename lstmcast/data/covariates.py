"""The covariates step of loading, and the covariates read back for windows and forecasts.

Exogenous covariates are known ahead (`--covariates`) or only up to now (`--past-covariates`).

A future-known covariate (a price, a promotion flag, a holiday) also has values for the
steps to forecast: the file gives them in rows after a series' last observed target, with
the target left empty. Those rows become the panel's `future`; rows with an empty target
before the last observation are gaps, as without covariates. A past covariate (visits,
temperature measured so far) is read in the lookback only and needs no future rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lstmcast.data.columns import ColumnRoles
from lstmcast.data.grid import Grid
from lstmcast.data.panel import Panel
from lstmcast.data.parse import Rows
from lstmcast.errors import DataError
from lstmcast.text import plural, timestamp

__all__ = ["Covariates", "place_covariates", "covariate_table", "check_future", "step_time"]


@dataclass
class Covariates:
    """The covariate columns on the target's grid."""

    values: np.ndarray  # (N, C) float32 beside the grid's values, gaps filled
    future: np.ndarray  # (S, F, len(columns.covariates)) float32: NaN where the file gave none
    warnings: list[str]


def place_covariates(rows: Rows, grid: Grid, cols: ColumnRoles) -> Covariates | None:
    """Each covariate on the target's grid, its gaps inside the history filled by the same
    rule as the target's, its values after a series' last target kept as the known future.

    None without covariates.
    """
    if rows.covariates is None:
        return None
    names = cols.covariates + cols.past_covariates
    series, position = grid.row_series, grid.row_position
    lengths = np.diff(grid.offsets)
    inside = (position >= 0) & (position < lengths[series])
    values = np.full((int(grid.offsets[-1]), len(names)), np.nan)
    values[grid.offsets[series[inside]] + position[inside]] = rows.covariates[inside]
    filled = _fill_covariate_gaps(values, grid, names)

    n_future = len(cols.covariates)
    after = position >= lengths[series]
    steps = int((position[after] - lengths[series[after]]).max() + 1) if after.any() else 0
    future = np.full((len(grid.ids), steps if n_future else 0, n_future), np.nan)
    if n_future and steps:
        step = position[after] - lengths[series[after]]  # 0: the first step after the history
        future[series[after], step] = rows.covariates[after, :n_future]
    warnings = []
    if filled:
        warnings.append(
            f"filled {plural(filled, 'missing covariate value')} by linear interpolation"
        )
    return Covariates(values.astype(np.float32), future.astype(np.float32), warnings)


def _fill_covariate_gaps(values: np.ndarray, grid: Grid, names: tuple[str, ...]) -> int:
    """Interpolate runs of missing covariate values in place, like the target's gaps.

    A run at the start or end of a series takes the nearest value. Runs longer than the
    grid's `max_gap` steps, and series where a covariate has no value at all, are errors.
    """
    n, offsets, max_gap = len(values), grid.offsets, grid.max_gap
    head = np.zeros(n, dtype=bool)
    head[offsets[:-1]] = True
    tail = np.zeros(n, dtype=bool)
    tail[offsets[1:] - 1] = True
    total = 0
    for c, name in enumerate(names):
        v = values[:, c]
        missing = np.isnan(v)
        if not missing.any():
            continue
        before = np.concatenate([[False], missing[:-1]])
        after = np.concatenate([missing[1:], [False]])
        start = np.flatnonzero(missing & (head | ~before))
        end = np.flatnonzero(missing & (tail | ~after)) + 1  # runs never cross series
        length = end - start
        series = np.searchsorted(offsets, start, side="right") - 1
        whole = length == np.diff(offsets)[series]
        worst = int(np.argmax(whole)) if whole.any() else int(np.argmax(length))
        if whole.any() or length[worst] > max_gap:
            s = int(series[worst])
            when = step_time(grid, s, int(start[worst] - offsets[s]))
            if whole.any():
                raise DataError(f"series '{grid.ids[s]}': covariate '{name}' has no value at all")
            raise DataError(
                f"series '{grid.ids[s]}': covariate '{name}' has a gap of {length[worst]} missing "
                f"steps from {when}; at most {max_gap} are filled",
                hint=f"fill in the values, or pass --max-gap {length[worst]} to interpolate them",
            )
        left = np.where(head[start], np.nan, v[np.maximum(start - 1, 0)])
        right = np.where(tail[end - 1], np.nan, v[np.minimum(end, n - 1)])
        left, right = np.where(np.isnan(left), right, left), np.where(np.isnan(right), left, right)
        run = np.repeat(np.arange(len(start)), length)
        k = np.arange(int(length.sum())) - np.repeat(np.cumsum(length) - length, length) + 1
        w = k / (length[run] + 1)
        v[np.flatnonzero(missing)] = left[run] + w * (right[run] - left[run])
        total += int(length.sum())
    return total


def covariate_table(panel: Panel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every series' covariate rows followed by its known future: (rows, C), starts, counts.

    In the future rows a missing future-known value repeats the one before it, and past
    covariates repeat their last value; check_future has already refused any missing value
    a forecast needs, so these only fill steps beyond the requested horizon.
    """
    lengths = panel.lengths
    steps = 0 if panel.future is None else panel.future.shape[1]
    last = panel.covariates[panel.offsets[1:] - 1]  # (S, C)
    if steps == 0:
        return panel.covariates, panel.offsets[:-1].copy(), lengths.copy()
    n_series, n_cov = panel.n_series, panel.covariates.shape[1]
    n_future = panel.future.shape[2]
    ahead = np.repeat(last[:, None, :], steps, axis=1)  # (S, F, C)
    prev = last[:, :n_future]
    for f in range(steps):  # forward fill along the future steps
        given = panel.future[:, f]
        prev = np.where(np.isnan(given), prev, given)
        ahead[:, f, :n_future] = prev
    table = np.empty((len(panel.covariates) + n_series * steps, n_cov), dtype=np.float32)
    shift = np.arange(n_series, dtype=np.int64) * steps
    table[np.arange(len(panel.covariates)) + np.repeat(shift, lengths)] = panel.covariates
    table[(panel.offsets[1:] + shift)[:, None] + np.arange(steps)[None, :]] = ahead
    return table, panel.offsets[:-1] + shift, lengths + steps


def check_future(panel: Panel, series: np.ndarray, origin: np.ndarray, horizon: int) -> None:
    """Refuse a forecast that needs a future-known covariate value the data does not give.

    Window b forecasts steps origin[b] .. origin[b] + horizon - 1 of its series; steps
    inside the history are known, steps after it must come from the file's future rows.
    """
    names = panel.columns.covariates
    if not names:
        return
    ahead = origin[:, None] + np.arange(horizon)[None, :] - panel.lengths[series][:, None]
    if not (ahead >= 0).any():
        return
    future = panel.future
    steps = future.shape[1]
    k = np.clip(ahead, 0, max(steps - 1, 0))
    given = (
        ~np.isnan(future[series[:, None], k]) if steps else np.zeros(ahead.shape + (len(names),))
    )
    missing = (ahead >= 0)[:, :, None] & ~((ahead < steps)[:, :, None] & given.astype(bool))
    if not missing.any():
        return
    b, h, c = (int(i) for i in np.argwhere(missing)[0])
    s = int(series[b])
    when = step_time(panel, s, int(origin[b] + h))
    more = int(missing.sum())
    raise DataError(
        f"series '{panel.ids[s]}': covariate '{names[c]}' has no value for {when} "
        f"(needed for the {horizon}-step horizon"
        + (f"; {more} values missing in all)" if more > 1 else ")"),
        hint=f"add rows after each series' last observation with an empty target and the values of "
        f"{', '.join(names)}, one per step of the horizon",
    )


def step_time(panel: Panel | Grid, series: int, position: int) -> str:
    """The timestamp of step `position` of a series (0 = its first), in ISO 8601."""
    t = pd.Timestamp(panel.first[series]) + position * pd.tseries.frequencies.to_offset(panel.freq)
    return timestamp(t)
