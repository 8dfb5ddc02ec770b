"""Time and number parsing and validation: any reasonable table becomes a `Panel` or a clear DataError."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from lstmcast.config import DataSpec
from lstmcast.data.columns import ColumnRoles, _kinds, resolve_columns
from lstmcast.data.dates import ISO, column_format, parse_dates
from lstmcast.data.freq import (
    check_freq,
    describe_freq,
    fixed_step_ns,
    grid_ordinals,
    infer_freq,
    season_length,
)
from lstmcast.data.panel import Panel
from lstmcast.errors import DataError

__all__ = [
    "build_panel",
    "long_arrays",
    "parse_numbers",
    "time_format",
    "MIN_LENGTH",
]

MIN_LENGTH = 3  # fewer points cannot show a step, let alone a pattern
MOSTLY_MISSING = 0.5  # a series with more than half its grid missing is rejected


def _parse_times(s: pd.Series, col: str, fmt: str | None = None, told: bool = False) -> np.ndarray:
    """Timestamps as naive datetime64[ns]; zone-aware values are converted to UTC first."""
    if isinstance(s.dtype, np.dtype) and s.dtype.kind == "M":
        # Naive timestamps (what Parquet files mostly hold) need no parsing and no copy.
        ts = s.to_numpy().astype("datetime64[ns]", copy=False)
    elif pd.api.types.is_datetime64_any_dtype(s):
        ts = _naive_utc(pd.to_datetime(s, utc=True))
    elif pd.api.types.is_integer_dtype(s) and s.between(1000, 9999).all():
        ts = _naive_utc(pd.to_datetime(s.astype(str), format="%Y", utc=True))  # a column of years
    elif pd.api.types.is_numeric_dtype(s) and not s.isna().all():
        raise DataError(
            f"time column '{col}' holds numbers, not dates (e.g. {s.iloc[0]})",
            hint="pass --time-col with the date column",
        )
    else:
        # Text (CSV) is parsed a chunk at a time with the column's one format: its cleaned
        # copies never exist whole.
        fmt = fmt or _text_format(s, col, None)
        ts = np.empty(len(s), dtype="datetime64[ns]")
        for rows in _chunks(len(s)):
            ts[rows] = parse_dates(_clean_text(s.iloc[rows]), fmt, col, rows.start, told)
    if np.isnat(ts).any():
        row = int(np.flatnonzero(np.isnat(ts))[0])
        raise DataError(
            f"time column '{col}' is empty in data row {row + 1}",
            hint="every row needs a timestamp",
        )
    return ts


def time_format(s: pd.Series, col: str, spec: DataSpec) -> str | None:
    """The format a text time column is read with: --date-format, or inferred from its values.

    None for columns that need no format (timestamps already, or a column of years).
    """
    if (
        pd.api.types.is_datetime64_any_dtype(s)
        or pd.api.types.is_numeric_dtype(s)
        and not s.isna().all()
    ):
        return None
    return spec.date_format or _text_format(s, col, spec.freq)


def _clean_text(s: pd.Series) -> pd.Series:
    return s.astype("string").str.strip()


def _text_format(s: pd.Series, col: str, freq: str | None) -> str:
    """The one format of a text date column, judged from all of its distinct values."""
    distinct = []
    for rows in _chunks(len(s)):
        text = _clean_text(s.iloc[rows])
        distinct.append(text[text.notna() & (text != "")].unique().to_numpy(dtype=object))
    values = pd.Series(pd.unique(np.concatenate(distinct)), dtype=object) if distinct else None
    if values is None or values.empty:
        return ISO  # every value empty: the caller names the first empty row
    return column_format(values.astype("string"), col, freq)


def _naive_utc(parsed: pd.Series) -> np.ndarray:
    return parsed.dt.tz_convert(None).to_numpy().astype("datetime64[ns]")


def parse_numbers(
    s: pd.Series,
    col: str,
    role: str = "target",
    hint: str = "use --target to pick another column, or clean the file",
    flags: bool = False,
) -> np.ndarray:
    """A column of numbers: float64 (float32 kept as float32), empty cells NaN.

    `role` names the column in errors ("target column 'y' is not numeric: ..."), `hint` says
    what to do about text in it. With `flags`, true/false (a boolean column or the words) is
    read as 1/0; without, a boolean column is an error.
    """
    if pd.api.types.is_bool_dtype(s):
        if flags:
            return s.to_numpy(dtype=np.float64, na_value=np.nan)
        raise DataError(f"{role} column '{col}' holds true/false values, not numbers")
    if pd.api.types.is_numeric_dtype(s):
        # float32 columns (from a compact read) stay float32: the Panel's precision anyway.
        dtype = np.float32 if s.dtype == np.float32 else np.float64
        values = s.to_numpy(dtype=dtype, na_value=np.nan)
    else:
        text = s.astype("string").str.strip()
        words = text.str.lower().map({"true": "1", "false": "0"}).fillna(text) if flags else text
        values = pd.to_numeric(words, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.isnan(values) & text.notna().to_numpy() & (text != "").to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"{role} column '{col}' is not numeric: {text.iloc[row]!r} in data row {row + 1}",
                hint=hint,
            )
    if np.isinf(values).any():
        row = int(np.flatnonzero(np.isinf(values))[0])
        raise DataError(f"{role} column '{col}' has an infinite value in data row {row + 1}")
    return values


def long_arrays(
    df: pd.DataFrame, cols: ColumnRoles, spec: DataSpec = DataSpec(), told: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(series code per row, series ids, timestamp per row, value per row) for any layout.

    Codes number the series in order of first appearance; ids are text, one per series.
    """
    ts = _parse_times(df[cols.time_col], cols.time_col, spec.date_format, told)
    if cols.layout == "long":
        codes, ids = _id_codes(df[cols.id_col], cols.id_col)
        return codes, ids, ts, parse_numbers(df[cols.targets[0]], cols.targets[0])
    values = _block_values(df, cols.targets)
    per_column, ids = pd.factorize(np.array(cols.targets, dtype=object), sort=False)
    codes = np.repeat(per_column.astype(np.int32), len(df))
    return (
        codes,
        np.asarray(ids, dtype=object),
        np.tile(ts, len(cols.targets)),
        values,
    )


def _block_values(df: pd.DataFrame, targets: tuple[str, ...]) -> np.ndarray:
    """The target columns of a wide table back to back, column after column.

    Numeric columns of one dtype are taken as one block (a wide file may have 100,000 of
    them); anything else goes through the per-column checks of parse_numbers.
    """
    kinds = _kinds(df)
    block = df.loc[:, list(targets)] if len(targets) > 1 else None
    if (
        block is not None
        and all(kinds[c] == "number" for c in targets)
        and block.dtypes.nunique() == 1
    ):
        dtype = np.float32 if block.dtypes.iloc[0] == np.float32 else np.float64
        values = block.to_numpy(dtype=dtype, na_value=np.nan).T.ravel()
        if np.isinf(values).any():
            k = int(np.flatnonzero(np.isinf(values))[0])
            col, row = targets[k // len(df)], k % len(df)
            raise DataError(f"target column '{col}' has an infinite value in data row {row + 1}")
        return values
    return np.concatenate([parse_numbers(df[c], c) for c in targets])


def _id_codes(s: pd.Series, col: str) -> tuple[np.ndarray, np.ndarray]:
    """Series code per row (int32) and the ids as text; an empty or missing id is an error.

    The column is factorized as stored (categories, Arrow strings, numbers), so a 10 M row
    file never becomes 10 M Python strings; only the distinct ids are turned into text.
    """
    codes, uniques = pd.factorize(s, sort=False)
    ids = pd.Series(uniques).astype("string").to_numpy(dtype=object)
    if len(set(ids)) < len(ids):  # distinct values that read the same as text (1 and "1")
        codes, ids = pd.factorize(s.astype("string").fillna("").to_numpy(dtype=object))
    codes = codes.astype(np.int32) if len(ids) < 2**31 else codes
    empty = codes < 0
    blank = np.flatnonzero(ids == "")
    if len(blank):
        empty |= codes == blank[0]
    if empty.any():
        row = int(np.flatnonzero(empty)[0])
        raise DataError(f"id column '{col}' is empty in data row {row + 1}")
    return codes, np.asarray(ids, dtype=object)


CHUNK = 1 << 20  # rows per step of the checks that scan the whole table


def _chunks(n: int):
    """Slices of CHUNK rows covering 0..n: per-row work without a temporary of n rows."""
    return (slice(lo, lo + CHUNK) for lo in range(0, n, CHUNK))


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


def build_panel(df: pd.DataFrame, spec: DataSpec = DataSpec()) -> Panel:
    """Validate a table and put every series on one regular time grid.

    Rules (documented in the README): a text time column is read with one format, given or
    inferred from all its values (lstmcast.data.dates); timestamps with a zone are converted to
    UTC and made naive; rows with an empty target are dropped; one frequency is inferred for the whole
    dataset; missing steps inside a series are filled by linear interpolation when the gap
    is at most `max_gap` steps (default: one season); longer gaps, duplicate timestamps,
    off-grid timestamps and series that are mostly missing are errors naming the series.
    The target only: a table with covariate columns goes through
    lstmcast.data.covariates.build_covariate_panel, which builds on this.
    """
    if spec.covariates or spec.past_covariates:
        raise ValueError("build_panel takes no covariates: call covariates.build_covariate_panel")
    if df.empty:
        raise DataError("the table has no rows")
    cols = resolve_columns(df, spec)
    # One format for the whole time column, decided once from all its values.
    told = spec.date_format is not None  # by --date-format, or by the model file
    spec = dataclasses.replace(
        spec, date_format=time_format(df[cols.time_col], cols.time_col, spec)
    )
    codes, uniques, ts, y = long_arrays(df, cols, spec, told)
    codes, ts, y, dropped = _drop_empty_targets(codes, uniques, ts, y, cols)
    warnings = [f"dropped {dropped} rows with an empty target"] if dropped else []
    codes, ts, y = _sorted_rows(codes, ts, y)
    counts = np.bincount(codes, minlength=len(uniques))
    starts = np.concatenate([[0], np.cumsum(counts)])
    _check_rows(codes, uniques, ts, counts, cols)
    freq = check_freq(spec.freq) if spec.freq else infer_freq(ts, starts)
    if freq is None:
        raise DataError(
            "cannot infer a frequency: the timestamps are not on a regular calendar",
            hint="pass --freq, e.g. --freq D",
        )
    ordinal = _grid_steps(codes, uniques, ts, starts, freq)
    values, offsets = _on_grid(ordinal, codes, starts, counts, y)
    del ordinal, y

    season = season_length(freq)
    max_gap = spec.max_gap if spec.max_gap is not None else max(season, 1)
    filled = _fill_gaps(values, offsets, uniques, max_gap, freq)
    if filled:
        warnings.append(f"filled {filled} missing step(s) by linear interpolation")
    return Panel(
        ids=np.asarray(uniques, dtype=object),
        values=values.astype(np.float32, copy=False),
        offsets=offsets,
        first=ts[starts[:-1]],
        last=ts[starts[1:] - 1],
        freq=freq,
        columns=cols,
        filled=filled,
        warnings=warnings,
        source_columns=tuple(str(c) for c in df.columns),
        date_format=spec.date_format,
    )


def _drop_empty_targets(
    codes: np.ndarray,
    uniques: np.ndarray,
    ts: np.ndarray,
    y: np.ndarray,
    cols: ColumnRoles,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(codes, ts, y) without the rows whose target is empty, and how many those were; a
    series left with no row at all is an error."""
    keep = ~np.isnan(y)
    if keep.all():
        return codes, ts, y, 0
    empty = np.flatnonzero(np.bincount(codes[keep], minlength=len(uniques)) == 0)
    if len(empty):
        raise DataError(
            f"series '{uniques[empty[0]]}' has no values (target '{cols.targets[0]}' is empty in every row)"
        )
    return codes[keep], ts[keep], y[keep], int((~keep).sum())


def _sorted_rows(
    codes: np.ndarray, ts: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(codes, ts, y) ordered by series, then time (stable); as given when already so."""
    order = _sort_order(codes, ts.view("int64"))
    if order is None:
        return codes, ts, y
    return codes[order], ts[order], y[order]


def _check_rows(
    codes: np.ndarray, uniques: np.ndarray, ts: np.ndarray, counts: np.ndarray, cols: ColumnRoles
) -> None:
    """Refuse a repeated timestamp within a series, and a series shorter than MIN_LENGTH."""
    n_dup, i = _duplicates(codes, ts.view("int64"))
    if n_dup:
        raise DataError(
            f"series '{uniques[codes[i]]}' has duplicate timestamp {pd.Timestamp(ts[i])} ({n_dup} duplicates in all)",
            hint="each series may have one row per timestamp; aggregate or remove duplicates first"
            + (
                ""
                if cols.id_col
                else "; if the file holds several series, name the id column with --id-col"
            ),
        )
    short = np.flatnonzero(counts < MIN_LENGTH)
    if len(short):
        raise DataError(
            f"series '{uniques[short[0]]}' has {counts[short[0]]} point(s); at least {MIN_LENGTH} are needed"
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
            f"series '{uniques[codes[i]]}' has {n_off} timestamp(s) off the {describe_freq(freq)} grid, e.g. {pd.Timestamp(ts[i])}",
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
) -> int:
    """Interpolate missing steps in place; every series starts and ends with a real value."""
    missing = np.isnan(values)
    n_missing = int(missing.sum())
    if not n_missing:
        return 0
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
            f"series '{ids[s]}' has a gap of {run_end[longest] - run_start[longest]} missing steps; at most {max_gap} are filled",
            hint=f"pass --max-gap {run_end[longest] - run_start[longest]} to fill it by interpolation, or remove the series",
        )
    # Series never start or end on a missing step, so interpolating the flat array never
    # reaches across a series boundary.
    idx = np.arange(len(values))
    values[missing] = np.interp(idx[missing], idx[~missing], values[~missing])
    return n_missing
