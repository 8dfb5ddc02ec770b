"""The parse step of loading: times, ids, targets and covariates read from the table's columns.

A text time column is read with one format, given or inferred from all its values
(lstmcast.data.dates); timestamps with a zone are converted to UTC and made naive. Numbers
are float64 (float32 columns stay float32), empty cells NaN; a value that is neither is an
error naming its column and row. Every row is parsed, those with an empty target too: the
grid step decides which rows it keeps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lstmcast.config import DataSpec
from lstmcast.data.columns import ColumnRoles
from lstmcast.data.dates import ISO, column_format, parse_dates
from lstmcast.data.lines import Where
from lstmcast.errors import DataError

__all__ = ["Rows", "parse_rows", "parse_numbers"]


@dataclass
class Rows:
    """Every row of the table, parsed (a wide table's target columns back to back).

    The grid step takes `codes`, `times` and `target` when there are no covariates (see
    data.grid.put_on_grid).
    """

    codes: np.ndarray  # (R,) int32: each row's series, numbered in order of first appearance
    ids: np.ndarray  # (S,) object: the series ids as text (the target columns' names if not long)
    times: np.ndarray  # (R,) datetime64[ns], naive UTC
    target: np.ndarray  # (R,) float64 (float32 kept as float32), NaN where empty
    # (R, C): columns.covariates then columns.past_covariates, true/false read as 1/0, NaN
    # where empty; None without covariates.
    covariates: np.ndarray | None
    date_format: str | None  # the one format the text time column was read with
    where: Where = Where()  # how row i is named in messages: its file line, or data row


def parse_rows(df: pd.DataFrame, cols: ColumnRoles, spec: DataSpec, where: Where = Where()) -> Rows:
    """Parse the time, id, target and covariate columns of every row.

    The time column's one format is decided first, from all its values (see _time_format).
    Errors name a row by `where` (data.lines): its file line where the file has lines.
    """
    time = df[cols.time_col]
    date_format = _time_format(time, cols.time_col, spec)
    covariates = cols.covariates + cols.past_covariates
    # Whether a misfit date is reported against a given format (--date-format, or the model
    # file's). Files with covariate columns report it against the column's own reading.
    told = spec.date_format is not None and not covariates
    ts = _parse_times(time, cols.time_col, date_format, told, where)
    if cols.layout == "long":
        codes, ids = _id_codes(df[cols.id_col], cols.id_col, where)
        target = parse_numbers(df[cols.targets[0]], cols.targets[0], where=where)
    else:
        target = _block_values(df, cols.targets, where)
        per_column, ids = pd.factorize(np.array(cols.targets, dtype=object), sort=False)
        codes = np.repeat(per_column.astype(np.int32), len(df))
        ids, ts = np.asarray(ids, dtype=object), np.tile(ts, len(cols.targets))
    values = None
    if covariates:
        hint = "covariates must be numbers (true/false is read as 1/0); clean the file"
        values = np.column_stack(
            [
                parse_numbers(df[c], c, "covariate", hint, flags=True, where=where)
                for c in covariates
            ]
        )  # (rows, C)
    return Rows(codes, ids, ts, target, values, date_format, where)


def _parse_times(
    s: pd.Series, col: str, fmt: str | None = None, told: bool = False, where: Where = Where()
) -> np.ndarray:
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
            text = _clean_text(s.iloc[rows])
            ts[rows] = parse_dates(text, fmt, col, rows.start, told, where)
    if np.isnat(ts).any():
        row = int(np.flatnonzero(np.isnat(ts))[0])
        raise DataError(
            f"time column '{col}' is empty in {where(row)}",
            hint="every row needs a timestamp",
        )
    return ts


def _time_format(s: pd.Series, col: str, spec: DataSpec) -> str | None:
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
    where: Where = Where(),
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
                f"{role} column '{col}' is not numeric: {text.iloc[row]!r} in {where(row)}",
                hint=hint,
            )
    if np.isinf(values).any():
        row = int(np.flatnonzero(np.isinf(values))[0])
        raise DataError(f"{role} column '{col}' has an infinite value in {where(row)}")
    return values


def _block_values(df: pd.DataFrame, targets: tuple[str, ...], where: Where) -> np.ndarray:
    """The target columns of a wide table back to back, column after column.

    Numeric columns of one dtype are taken as one block (a wide file may have 100,000 of
    them); anything else goes through the per-column checks of parse_numbers.
    """
    block = df.loc[:, list(targets)] if len(targets) > 1 else None
    if block is not None and block.dtypes.nunique() == 1 and _is_number(block.dtypes.iloc[0]):
        dtype = np.float32 if block.dtypes.iloc[0] == np.float32 else np.float64
        values = block.to_numpy(dtype=dtype, na_value=np.nan).T.ravel()
        if np.isinf(values).any():
            k = int(np.flatnonzero(np.isinf(values))[0])
            col, row = targets[k // len(df)], k % len(df)
            raise DataError(f"target column '{col}' has an infinite value in {where(row)}")
        return values
    return np.concatenate([parse_numbers(df[c], c, where=where) for c in targets])


def _is_number(dtype) -> bool:
    """A numeric dtype that is neither true/false nor a time."""
    types = pd.api.types
    return (
        types.is_numeric_dtype(dtype)
        and not types.is_bool_dtype(dtype)
        and not types.is_datetime64_any_dtype(dtype)
    )


def _id_codes(s: pd.Series, col: str, where: Where) -> tuple[np.ndarray, np.ndarray]:
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
        raise DataError(f"id column '{col}' is empty in {where(row)}")
    return codes, np.asarray(ids, dtype=object)


CHUNK = 1 << 20  # rows of a text time column parsed at a time


def _chunks(n: int):
    """Slices of CHUNK rows covering 0..n: per-row work without a temporary of n rows."""
    return (slice(lo, lo + CHUNK) for lo in range(0, n, CHUNK))
