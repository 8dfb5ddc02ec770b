"""Exogenous covariates on the panel's grid: known ahead (`--covariates`) or only up to now.

A future-known covariate (a price, a promotion flag, a holiday) also has values for the
steps to forecast: the file gives them in rows after a series' last observed target, with
the target left empty. Those rows become the panel's `future`; rows with an empty target
before the last observation are gaps, as without covariates. A past covariate (visits,
temperature measured so far) is read in the lookback only and needs no future rows.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from lstmcast.config import DataSpec
from lstmcast.data.columns import resolve_columns
from lstmcast.data.freq import describe_freq, fixed_step_ns, grid_ordinals, season_length
from lstmcast.data.panel import Panel
from lstmcast.data.parse import build_panel, long_arrays, parse_numbers, time_format
from lstmcast.errors import DataError

__all__ = ["build_covariate_panel", "covariate_table", "check_future", "step_time"]


def build_covariate_panel(df: pd.DataFrame, spec: DataSpec) -> Panel:
    """build_panel for a file with covariate columns: the target's panel plus the covariates.

    The target goes through build_panel's rules unchanged (rows after a series' last target
    set aside); each covariate is then placed on that grid, its gaps inside the history
    filled by the same rule as the target's, and its values after the last target kept as
    the known future.
    """
    if df.empty:
        raise DataError("the table has no rows")
    cols = resolve_columns(df, spec)
    # One format for the whole time column, decided once from all its values (as build_panel).
    date_format = time_format(df[cols.time_col], cols.time_col, spec)
    spec = dataclasses.replace(spec, date_format=date_format)
    codes, uniques, ts, y = long_arrays(df, cols, spec)
    ids = uniques[codes]
    stamp = ts.view("int64")
    observed = ~np.isnan(y)
    last_seen = np.full(len(uniques), np.iinfo(np.int64).min)
    np.maximum.at(last_seen, codes[observed], stamp[observed])
    if (last_seen == np.iinfo(np.int64).min).any():
        empty = int(np.argmax(last_seen == np.iinfo(np.int64).min))
        raise DataError(
            f"series '{uniques[empty]}' has no values (target '{cols.targets[0]}' is empty in every row)"
        )
    ahead = ~observed & (stamp > last_seen[codes])
    past = {cols.time_col: ts[~ahead], cols.targets[0]: y[~ahead]}
    if cols.id_col:
        past = {cols.id_col: ids[~ahead], **past}
    target_spec = DataSpec(
        time_col=cols.time_col,
        target=cols.targets[0],
        id_col=cols.id_col,
        freq=spec.freq,
        max_gap=spec.max_gap,
    )
    panel = build_panel(pd.DataFrame(past), target_spec)

    series = pd.Index(panel.ids).get_indexer(uniques)[codes]  # panel series of each row
    position = _grid_positions(panel, series, ts)
    names = cols.covariates + cols.past_covariates
    hint = "covariates must be numbers (true/false is read as 1/0); clean the file"
    raw = np.column_stack(
        [parse_numbers(df[c], c, "covariate", hint, flags=True) for c in names]
    )  # (rows, C)
    lengths = panel.lengths
    inside = (position >= 0) & (position < lengths[series])
    covariates = np.full((int(panel.offsets[-1]), len(names)), np.nan)
    covariates[panel.offsets[series[inside]] + position[inside]] = raw[inside]
    max_gap = spec.max_gap if spec.max_gap is not None else max(season_length(panel.freq), 1)
    filled = _fill_covariate_gaps(covariates, panel, names, max_gap)

    n_future = len(cols.covariates)
    after = position >= lengths[series]
    steps = int((position[after] - lengths[series[after]]).max() + 1) if after.any() else 0
    future = np.full((panel.n_series, steps if n_future else 0, n_future), np.nan)
    if n_future and steps:
        future[series[after], position[after] - lengths[series[after]]] = raw[after, :n_future]
    warnings = list(panel.warnings)
    if filled:
        warnings.append(f"filled {filled} missing covariate value(s) by linear interpolation")
    return dataclasses.replace(
        panel,
        columns=cols,
        covariates=covariates.astype(np.float32),
        future=future.astype(np.float32),
        warnings=warnings,
        source_columns=tuple(str(c) for c in df.columns),
        date_format=date_format,
    )


def _grid_positions(panel: Panel, series: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """Step of each row from its series' first observation; rows before it get -1.

    Rows with a target were checked by build_panel; the others (gaps, future rows) must be
    on the same grid and appear once per series and step.
    """
    ordinal, on_grid = grid_ordinals(ts, panel.freq)
    first, _ = grid_ordinals(panel.first, panel.freq)
    step = fixed_step_ns(panel.freq)
    if step:
        on_grid &= (ts.view("int64") - panel.first.view("int64")[series]) % step == 0
    position = ordinal - first[series]
    bad = ~on_grid & (position >= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"series '{panel.ids[series[i]]}' has a row off the {describe_freq(panel.freq)} grid: "
            f"{pd.Timestamp(ts[i])} (its target is empty)",
            hint="rows with an empty target carry covariates and must be on the series' grid",
        )
    order = np.lexsort((position, series))
    same = (np.diff(series[order]) == 0) & (np.diff(position[order]) == 0)
    same &= position[order][1:] >= 0
    if same.any():
        i = int(order[np.flatnonzero(same)[0]])
        raise DataError(
            f"series '{panel.ids[series[i]]}' has duplicate timestamp {pd.Timestamp(ts[i])}",
            hint="each series may have one row per timestamp; give the covariates in that row",
        )
    return np.where(position >= 0, position, -1)


def _fill_covariate_gaps(
    values: np.ndarray, panel: Panel, names: tuple[str, ...], max_gap: int
) -> int:
    """Interpolate runs of missing covariate values in place, like the target's gaps.

    A run at the start or end of a series takes the nearest value. Runs longer than
    `max_gap` steps, and series where a covariate has no value at all, are errors.
    """
    n = len(values)
    head = np.zeros(n, dtype=bool)
    head[panel.offsets[:-1]] = True
    tail = np.zeros(n, dtype=bool)
    tail[panel.offsets[1:] - 1] = True
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
        series = np.searchsorted(panel.offsets, start, side="right") - 1
        whole = length == panel.lengths[series]
        worst = int(np.argmax(whole)) if whole.any() else int(np.argmax(length))
        if whole.any() or length[worst] > max_gap:
            s = int(series[worst])
            when = step_time(panel, s, int(start[worst] - panel.offsets[s]))
            if whole.any():
                raise DataError(f"series '{panel.ids[s]}': covariate '{name}' has no value at all")
            raise DataError(
                f"series '{panel.ids[s]}': covariate '{name}' has a gap of {length[worst]} missing "
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


def step_time(panel: Panel, series: int, position: int) -> str:
    """The timestamp of step `position` of a series (0 = its first), as a short text."""
    t = pd.Timestamp(panel.first[series]) + position * pd.tseries.frequencies.to_offset(panel.freq)
    step = fixed_step_ns(panel.freq)
    if t == t.normalize() and not (step and step < 86_400 * 10**9):  # daily or coarser
        return f"{t:%Y-%m-%d}"
    return f"{t:%Y-%m-%d %H:%M}" if t.second == 0 and t.microsecond == 0 else str(t)
