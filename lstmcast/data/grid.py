"""The grid step of loading: the parsed rows with a target, on one regular time grid.

Rules (documented in the README): rows with an empty target are dropped (with covariates,
those after a series' last target carry the covariates' known future and are set aside for
them); one frequency is inferred for the whole dataset (lstmcast.data.freq), or --freq is
taken; missing steps inside a series are filled by linear interpolation when the gap is at
most `max_gap` steps (default: one season); longer gaps, duplicate timestamps, off-grid
timestamps, series shorter than MIN_LENGTH and series that are mostly missing are errors
naming the series.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lstmcast.config import DataSpec
from lstmcast.data.columns import ColumnRoles
from lstmcast.data.fills import describe_fills
from lstmcast.data.freq import (
    check_freq,
    describe_freq,
    fixed_step_ns,
    grid_ordinals,
    infer_freq,
    season_length,
)
from lstmcast.data.lines import Where
from lstmcast.data.parse import Rows
from lstmcast.errors import DataError
from lstmcast.text import plural, timestamp

__all__ = ["Grid", "put_on_grid", "MIN_LENGTH"]

MIN_LENGTH = 3  # fewer points cannot show a step, let alone a pattern
MOSTLY_MISSING = 0.5  # a series with more than half its grid missing is rejected
CHUNK = 1 << 20  # rows per step of the checks that scan the whole table


@dataclass
class Grid:
    """Every series on one regular grid: the arrays of the Panel to come (data.panel.Panel)."""

    ids: np.ndarray  # (S,) object, in order of first appearance
    values: np.ndarray  # (N,) float32, all series back to back, gaps filled
    offsets: np.ndarray  # (S + 1,) int64
    first: np.ndarray  # (S,) datetime64[ns]
    last: np.ndarray  # (S,) datetime64[ns]
    freq: str
    max_gap: int  # the longest run of missing steps that is filled
    filled: int  # missing steps filled
    warnings: list[str]
    notes: list[str]  # what a person may want to know, and to change: shown by inspect
    # With covariates, for every parsed row: its series (an index into `ids`) and its step
    # from the series' first (-1 before it; the series' length or more after its last target).
    row_series: np.ndarray | None = None
    row_position: np.ndarray | None = None


def put_on_grid(rows: Rows, cols: ColumnRoles, spec: DataSpec) -> Grid:
    """Drop the rows without a target, sort and check the rest, infer the frequency (or take
    --freq), place every series on its grid and fill the short gaps.

    Without covariates the step takes the rows' arrays: `rows.codes`, `rows.times` and
    `rows.target` are None after it, so a table's parsed rows never outlive their copies
    here (the peak memory of a 10 M row load). With covariates every row is placed later.
    """
    # The table's rows (a wide table's rows hold one value of every target column).
    n_table = len(rows.times) // (1 if cols.layout == "long" else len(cols.targets))
    codes, ids, ts, y, kept, warnings = _target_rows(rows, cols)
    if rows.covariates is None:
        rows.codes = rows.times = rows.target = None
    codes, ts, y, order = _sorted_rows(codes, ts, y)
    if _duplicates(codes, ts.view("int64"))[0]:
        # Each sorted row's row in the table, to name it (only on this rare path).
        origin = np.arange(len(codes)) if order is None else order
        origin = (origin if kept is None else kept[origin]) % n_table
        codes, ts, y, repeats = _drop_repeats(codes, ts, y, origin, rows, ids, cols)
        warnings.append(repeats)
    del order, kept
    counts = np.bincount(codes, minlength=len(ids))
    starts = np.concatenate([[0], np.cumsum(counts)])
    _check_short(ids, counts)
    freq = check_freq(spec.freq) if spec.freq else infer_freq(ts, starts)
    if freq is None:
        raise DataError(
            "cannot infer a frequency: the timestamps are not on a regular calendar",
            hint="pass --freq, e.g. --freq D",
        )
    ordinal = _grid_steps(codes, ids, ts, starts, freq)
    values, offsets = _on_grid(ordinal, codes, starts, counts, y)
    del ordinal, y

    max_gap = spec.max_gap if spec.max_gap is not None else max(season_length(freq), 1)
    first, last = ts[starts[:-1]], ts[starts[1:] - 1]
    missing = _fill_gaps(values, offsets, ids, max_gap, freq)
    grid = Grid(
        ids=np.asarray(ids, dtype=object),
        values=values.astype(np.float32, copy=False),
        offsets=offsets,
        first=first,
        last=last,
        freq=freq,
        max_gap=max_gap,
        filled=len(missing),
        warnings=warnings,
        notes=[],
    )
    if rows.covariates is not None:
        # Every row's series as numbered on the grid (see _target_rows), and its step there.
        grid.row_series = pd.Index(grid.ids).get_indexer(rows.ids)[rows.codes]
        grid.row_position = _row_positions(
            grid.row_series, rows.times, grid.ids, first, freq, rows.where
        )
    if len(missing):  # the dates filled, and their likely cause
        fills = describe_fills(missing, offsets, grid.ids, first, freq)
        grid.warnings.append(fills.warning)
        grid.notes += [fills.note] if fills.note else []
    return grid


def _target_rows(rows: Rows, cols: ColumnRoles) -> tuple:
    """(codes, ids, ts, y, kept, warnings) of the rows with a target; `kept`: their
    positions among all rows, None when every row has one.

    A series with no target at all is an error. With covariates, the rows after a series'
    last target hold the known future: they are not counted as dropped, and the series are
    numbered in order of first appearance without them.
    """
    codes, ids, ts, y = rows.codes, rows.ids, rows.times, rows.target
    keep = ~np.isnan(y)
    if keep.all():
        return codes, ids, ts, y, None, []
    empty = np.flatnonzero(np.bincount(codes[keep], minlength=len(ids)) == 0)
    if len(empty):
        name = ids[empty[0]]
        if cols.layout == "long":
            raise DataError(
                f"series '{name}' has no values (target '{cols.targets[0]}' is empty in every row)",
                hint="remove its rows, or fill in its values",
            )
        raise DataError(
            f"target column '{name}' is empty in every row",
            hint="leave it out of --target"
            if cols.layout == "wide"
            else "name another column with --target",
        )
    dropped = int((~keep).sum())
    if rows.covariates is not None:
        stamp = ts.view("int64")
        last_seen = np.full(len(ids), np.iinfo(np.int64).min)
        np.maximum.at(last_seen, codes[keep], stamp[keep])
        ahead = ~keep & (stamp > last_seen[codes])
        dropped -= int(ahead.sum())
        codes, ids = _renumbered(codes, ids, ~ahead)
    warnings = [f"dropped {plural(dropped, 'row')} with an empty target"] if dropped else []
    kept = np.flatnonzero(keep)
    return codes[kept], ids, ts[kept], y[kept], kept, warnings


def _renumbered(
    codes: np.ndarray, ids: np.ndarray, among: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(codes, ids) with the series numbered in order of first appearance among the rows
    where `among` is true."""
    first = np.full(len(ids), len(codes))
    np.minimum.at(first, codes[among], np.flatnonzero(among))
    order = np.argsort(first, kind="stable")
    if (order == np.arange(len(ids))).all():
        return codes, ids
    number = np.empty_like(order)
    number[order] = np.arange(len(order))
    return number[codes].astype(codes.dtype), ids[order]


def _sorted_rows(codes: np.ndarray, ts: np.ndarray, y: np.ndarray) -> tuple:
    """(codes, ts, y, order) ordered by series, then time (stable); order None when the
    rows are in that order already (then they are returned as given)."""
    order = _sort_order(codes, ts.view("int64"))
    if order is None:
        return codes, ts, y, None
    return codes[order], ts[order], y[order], order


def _drop_repeats(
    codes: np.ndarray,
    ts: np.ndarray,
    y: np.ndarray,
    origin: np.ndarray,
    rows: Rows,
    ids: np.ndarray,
    cols: ColumnRoles,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """(codes, ts, y, warning) without the sorted rows that repeat the row before them: the
    same series, time, target and covariates. Two rows of one series and time that differ
    are an error naming both rows (`origin`: each sorted row's row in the table).
    """
    ns = ts.view("int64")
    same = np.zeros(len(codes), dtype=bool)
    same[1:] = (np.diff(codes) == 0) & (np.diff(ns) == 0)
    later = np.flatnonzero(same)
    equal = y[later] == y[later - 1]
    if rows.covariates is not None:  # rows of a long or single table: origin is the row
        a, b = rows.covariates[origin[later]], rows.covariates[origin[later - 1]]
        equal &= ((a == b) | (np.isnan(a) & np.isnan(b))).all(axis=1)
    if not equal.all():
        j = int(later[np.argmin(equal)])
        lines = sorted(rows.where.number(int(origin[k])) for k in (j - 1, j))
        unit, conflicts = rows.where.unit + "s", int((~equal).sum())
        more = f"; {conflicts:,} such rows in all" if conflicts > 1 else ""
        raise DataError(
            f"series '{ids[codes[j]]}' has two rows for {timestamp(ts[j])} with "
            f"different values ({unit} {lines[0]} and {lines[1]}{more})",
            hint="keep one row per series and timestamp, or aggregate them first"
            + ("" if cols.id_col else "; if the file holds several series, pass --id-col COLUMN"),
        )
    first = rows.where(int(origin[later].min()))
    n = len(np.unique(origin[later]))  # table rows: a wide table's row holds every series
    keep = ~same
    if rows.covariates is not None:  # the rows that place covariates lose them too
        drop = np.zeros(len(rows.codes), dtype=bool)
        drop[origin[later]] = True
        rows.codes, rows.times, rows.target = (
            rows.codes[~drop],
            rows.times[~drop],
            rows.target[~drop],
        )
        rows.covariates = rows.covariates[~drop]
        where = rows.where
        rows.where = dataclasses.replace(
            where, kept=np.flatnonzero(~drop) if where.kept is None else where.kept[~drop]
        )
    warning = f"dropped {plural(n, 'row')} repeating another row exactly (the first at {first})"
    return codes[keep], ts[keep], y[keep], warning


def _check_short(ids: np.ndarray, counts: np.ndarray) -> None:
    """Refuse a series shorter than MIN_LENGTH."""
    short = np.flatnonzero(counts < MIN_LENGTH)
    if len(short):
        raise DataError(
            f"series '{ids[short[0]]}' has {plural(counts[short[0]], 'point')}; at least {MIN_LENGTH} are needed"
            + (f" ({len(short)} series are this short)" if len(short) > 1 else ""),
            hint="remove the short series or collect more data",
        )


def _grid_steps(
    codes: np.ndarray, uniques: np.ndarray, ts: np.ndarray, starts: np.ndarray, freq: str
) -> np.ndarray:
    """Each sorted row's ordinal on the `freq` grid; a timestamp off its series' grid is an
    error naming the series."""
    ordinal, on_grid = grid_ordinals(ts, freq)
    step = fixed_step_ns(freq)
    if step:
        # On its series' grid: a whole number of steps after the series' first timestamp.
        ns, first_ns = ts.view("int64"), ts.view("int64")[starts[:-1]]
        for rows in _chunks(len(ns)):
            on_grid[rows] &= (ns[rows] - first_ns[codes[rows]]) % step == 0
    if not on_grid.all():
        i = int(np.flatnonzero(~on_grid)[0])
        n_off = int((~on_grid[starts[codes[i]] : starts[codes[i] + 1]]).sum())
        raise DataError(
            f"series '{uniques[codes[i]]}' has {plural(n_off, 'timestamp')} off the {describe_freq(freq)} grid, e.g. {timestamp(ts[i])}",
            hint="resample the data to one frequency, or pass --freq if the inferred one is wrong",
        )
    return ordinal


def _on_grid(
    ordinal: np.ndarray, codes: np.ndarray, starts: np.ndarray, counts: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(values, offsets): every series from its first to its last step, NaN at missing steps.

    Turns `ordinal` into each row's step within its series, in place.
    """
    position = ordinal
    first_ordinal = ordinal[starts[:-1]]
    for rows in _chunks(len(position)):
        position[rows] -= first_ordinal[codes[rows]]
    lengths = position[starts[1:] - 1] + 1
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    if np.array_equal(lengths, counts):  # no step missing anywhere: the sorted values are it
        return y.astype(np.float32), offsets
    values = np.full(int(offsets[-1]), np.nan, dtype=y.dtype)
    for rows in _chunks(len(position)):
        values[position[rows] + offsets[codes[rows]]] = y[rows]
    return values, offsets


def _fill_gaps(
    values: np.ndarray, offsets: np.ndarray, ids: np.ndarray, max_gap: int, freq: str
) -> np.ndarray:
    """Interpolate missing steps in place; every series starts and ends with a real value.

    Returns the positions filled, in `values`.
    """
    missing = np.isnan(values)
    n_missing = int(missing.sum())
    if not n_missing:
        return np.empty(0, dtype=np.int64)
    per_series = np.add.reduceat(missing.astype(np.int64), offsets[:-1])
    lengths = np.diff(offsets)
    worst = int(np.argmax(per_series / lengths))
    if per_series[worst] / lengths[worst] > MOSTLY_MISSING:
        raise DataError(
            f"series '{ids[worst]}' is mostly missing: {per_series[worst]} of {lengths[worst]} {describe_freq(freq)} steps have no value",
            hint="remove the series, or pass --freq if the data is on a coarser grid",
        )
    # Runs of consecutive missing steps: starts where missing begins, ends where it stops.
    edges = np.diff(np.concatenate([[0], missing.astype(np.int8), [0]]))
    run_start, run_end = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    longest = int(np.argmax(run_end - run_start))
    if run_end[longest] - run_start[longest] > max_gap:
        s = int(np.searchsorted(offsets, run_start[longest], side="right") - 1)
        raise DataError(
            f"series '{ids[s]}' has a gap of {plural(int(run_end[longest] - run_start[longest]), 'missing step')}; at most {max_gap} are filled",
            hint=f"pass --max-gap {run_end[longest] - run_start[longest]} to fill it by interpolation, or remove the series",
        )
    # Series never start or end on a missing step, so interpolating the flat array never
    # reaches across a series boundary.
    idx = np.arange(len(values))
    values[missing] = np.interp(idx[missing], idx[~missing], values[~missing])
    return idx[missing]


def _row_positions(
    series: np.ndarray,
    ts: np.ndarray,
    ids: np.ndarray,
    first_ts: np.ndarray,
    freq: str,
    where: Where,
) -> np.ndarray:
    """Step of each row from its series' first observation; rows before it get -1.

    Rows with a target were checked on their way onto the grid; the others (gaps, future
    rows) must be on the same grid and appear once per series and step.
    """
    ordinal, on_grid = grid_ordinals(ts, freq)
    first, _ = grid_ordinals(first_ts, freq)
    step = fixed_step_ns(freq)
    if step:
        on_grid &= (ts.view("int64") - first_ts.view("int64")[series]) % step == 0
    position = ordinal - first[series]
    bad = ~on_grid & (position >= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"series '{ids[series[i]]}' has a row off the {describe_freq(freq)} grid: "
            f"{timestamp(ts[i])} in {where(i)} (its target is empty)",
            hint="rows with an empty target carry covariates and must be on the series' grid",
        )
    order = np.lexsort((position, series))
    same = (np.diff(series[order]) == 0) & (np.diff(position[order]) == 0)
    same &= position[order][1:] >= 0
    if same.any():
        k = int(np.flatnonzero(same)[0])
        i, lines = int(order[k + 1]), sorted(where.number(int(r)) for r in order[k : k + 2])
        raise DataError(
            f"series '{ids[series[i]]}' has two rows for {timestamp(ts[i])} "
            f"({where.unit}s {lines[0]} and {lines[1]})",
            hint="each series may have one row per timestamp; give the covariates in that row",
        )
    return np.where(position >= 0, position, -1)


def _sort_order(codes: np.ndarray, ns: np.ndarray) -> np.ndarray | None:
    """The stable order of rows by (series, time), or None when they are in it already.

    Files written series by series are, and then neither the sort nor its copies happen.
    """
    for lo in range(0, max(len(codes) - 1, 0), CHUNK):
        c, t = codes[lo : lo + CHUNK + 1], ns[lo : lo + CHUNK + 1]
        dc = np.diff(c)
        if ((dc < 0) | ((dc == 0) & (np.diff(t) < 0))).any():
            return np.lexsort((ns, codes))
    return None


def _duplicates(codes: np.ndarray, ns: np.ndarray) -> tuple[int, int]:
    """(count, first row) of sorted rows that repeat the previous row's series and time."""
    count, first = 0, -1
    for lo in range(0, max(len(codes) - 1, 0), CHUNK):
        c, t = codes[lo : lo + CHUNK + 1], ns[lo : lo + CHUNK + 1]
        dup = (np.diff(c) == 0) & (np.diff(t) == 0)
        n = int(dup.sum())
        if n and first < 0:
            first = lo + int(np.argmax(dup))
        count += n
    return count, first


def _chunks(n: int):
    """Slices of CHUNK rows covering 0..n: per-row work without a temporary of n rows."""
    return (slice(lo, lo + CHUNK) for lo in range(0, n, CHUNK))
