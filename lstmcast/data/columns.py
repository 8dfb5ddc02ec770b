"""Which column is the time, the target, the id and the covariates: aliases, guesses and clear refusals."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pandas as pd

from lstmcast.config import ID_ALIASES, DataSpec
from lstmcast.errors import DataError, UsageError

__all__ = [
    "ColumnRoles",
    "resolve_columns",
    "guess_id",
    "TIME_ALIASES",
    "TARGET_ALIASES",
    "PRICE_COLUMNS",
]

TIME_ALIASES = (
    "ds",
    "date",
    "datetime",
    "timestamp",
    "time",
    "date_time",
    "period",
    "year",
    "month",
    "week",
)
TARGET_ALIASES = ("y", "value", "target", "values")
PRICE_COLUMNS = {"open", "high", "low", "close", "adj close", "adj_close", "volume"}


@dataclass(frozen=True)
class ColumnRoles:
    """What each used column of the table is: the layout, the time, the targets, the id and
    the covariates (a Panel keeps it as `panel.columns`)."""

    layout: str  # "long" | "single" | "wide"
    time_col: str
    targets: tuple[str, ...]  # one column for long/single, several for wide
    id_col: str | None = None
    covariates: tuple[str, ...] = ()  # known ahead: given in rows after the last target
    past_covariates: tuple[str, ...] = ()  # known only up to the last target
    id_guessed: bool = False  # the id column was told by its values, not by name or option
    skipped: tuple[str, ...] = ()  # columns of a guessed wide table empty in every row


def resolve_columns(df: pd.DataFrame, spec: DataSpec) -> ColumnRoles:
    """Decide the layout and the time, id, target and covariate columns.

    Covariate columns are set aside first, so they are never taken for the target or the id.
    """
    covariates, past = _covariate_columns([str(c) for c in df.columns], spec)
    cols = _resolve_columns(df, spec, exclude=set(covariates + past))
    if not (covariates or past):
        return cols
    if cols.layout == "wide":
        flag = "--covariates" if covariates else "--past-covariates"
        raise UsageError(
            f"{flag} needs a long (unique_id, ds, y, ...) or single-series (ds, y, ...) file, "
            f"but this one is wide (series {', '.join(cols.targets[:4])})",
            hint="name the target with --target, or reshape the file to long format",
        )
    return dataclasses.replace(cols, covariates=covariates, past_covariates=past)


def _covariate_columns(cols: list[str], spec: DataSpec) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The file's columns named by --covariates and --past-covariates, each used once."""
    explicit = {
        c.strip().lower(): flag
        for flag, value in (
            ("--time-col", spec.time_col),
            ("--id-col", spec.id_col),
            ("--target", spec.target),
        )
        for c in (value or "").split(",")
        if c.strip()
    }
    seen: dict[str, str] = {}
    picked = []
    for flag, names in (
        ("--covariates", spec.covariates),
        ("--past-covariates", spec.past_covariates),
    ):
        found = []
        for name in names:
            if name.strip().lower() in explicit:
                raise UsageError(
                    f"{flag} {name}: the column is already the {explicit[name.strip().lower()]}"
                )
            try:
                col = _pick(cols, name.strip(), flag)
            except DataError as exc:
                exc.covariate, exc.columns = name.strip(), cols  # predict: the model needs it
                raise
            if col in seen:
                raise UsageError(f"{flag} {name}: column '{col}' is already named by {seen[col]}")
            seen[col] = flag
            found.append(col)
        picked.append(tuple(found))
    return picked[0], picked[1]


def _resolve_columns(df: pd.DataFrame, spec: DataSpec, exclude: set[str]) -> ColumnRoles:
    """Decide the layout and the time, id and target columns, honouring explicit overrides."""
    cols = [str(c) for c in df.columns if str(c) not in exclude]
    time_col = _pick(cols, spec.time_col, "--time-col") or _guess_time(df, cols)
    id_col = _pick(cols, spec.id_col, "--id-col") or _alias(cols, ID_ALIASES, exclude={time_col})
    guessed = False
    if id_col is None and "," not in (spec.target or ""):
        id_col = guess_id(df, [c for c in cols if c != time_col], time_col, spec.target)
        guessed = id_col is not None
    rest = [c for c in cols if c not in (time_col, id_col)]
    if spec.target:
        targets = tuple(
            _pick(cols, t.strip(), "--target") for t in spec.target.split(",") if t.strip()
        )
        if id_col and len(targets) > 1:
            raise UsageError(
                "--target names several columns, but a long file (with an id column) has one target"
            )
        layout = "long" if id_col else ("single" if len(targets) == 1 else "wide")
        return ColumnRoles(layout, time_col, targets, id_col, id_guessed=guessed)
    kinds = _kinds(df)
    numeric = [
        c for c in rest if kinds[c] == "number" or kinds[c] == "text" and _looks_numeric(df[c])
    ]
    alias = _alias(rest, TARGET_ALIASES)
    if id_col:
        if alias:
            return ColumnRoles("long", time_col, (alias,), id_col, id_guessed=guessed)
        if len(numeric) == 1:
            return ColumnRoles("long", time_col, (numeric[0],), id_col, id_guessed=guessed)
        if not numeric:
            raise DataError(
                f"no numeric target column found (columns: {', '.join(cols)})",
                hint="name it with --target COLUMN",
            )
        raise _ambiguous(numeric, "the target column is ambiguous")
    if alias:
        return ColumnRoles("single", time_col, (alias,))
    if not numeric:
        raise DataError(
            f"no numeric value column found next to time column '{time_col}' (columns: {', '.join(cols)})",
            hint="name it with --target COLUMN",
        )
    if len(numeric) == 1:
        return ColumnRoles("single", time_col, (numeric[0],))
    if len({c.lower() for c in numeric} & PRICE_COLUMNS) >= 2:
        raise _ambiguous(
            numeric, "several price columns (open/high/low/close/volume) and no obvious target"
        )
    empty = [c for c in numeric if not df[c].notna().any()]
    if empty and len(empty) < len(numeric):  # a spreadsheet's unused columns
        kept = tuple(c for c in numeric if c not in empty)
        layout = "single" if len(kept) == 1 else "wide"
        return ColumnRoles(layout, time_col, kept, skipped=tuple(empty))
    return ColumnRoles("wide", time_col, tuple(numeric))


MAX_CODES = 10_000  # an integer column with more distinct values is a measure, not an id


def guess_id(df: pd.DataFrame, cols: list[str], time_col: str, target: str | None) -> str | None:
    """The column that tells several series apart in a table without an id column, or None.

    Only when timestamps repeat (beyond rows that repeat whole): a column of text, or of a
    few integer codes, with no empty cell, that splits the rows into series of MIN_ROWS rows
    or more, with one row per timestamp (but for a few, which data.grid then names). One
    such column is the id; several (`store` and `store_name`), or none where two together
    would do, are refused, naming the fix.
    """
    named = {t.strip().lower() for t in (target or "").split(",")}
    kinds = _kinds(df)
    maybe = [  # by the dtype alone, before a look at any value
        c
        for c in cols
        if c.lower() not in named
        and (kinds[c] == "text" or kinds[c] == "number" and pd.api.types.is_integer_dtype(df[c]))
    ]
    if not maybe:
        return None
    repeats = int(df.duplicated(subset=[time_col]).sum())
    candidates = [c for c in maybe if repeats and _codes_like(df[c], kinds[c], len(df))]
    if not candidates:
        return None
    exact = int(df.duplicated().sum()) if repeats else 0
    if repeats == exact:
        return None
    # A column that leaves few of the repeats (a data error in one series, reported later).
    parts = [
        c
        for c in candidates
        if (int(df.duplicated(subset=[c, time_col]).sum()) - exact) * FEW <= repeats - exact
    ]
    if len(parts) == 1 and not _has_empty(df[parts[0]]):
        return parts[0]
    if parts:
        raise DataError(
            f"looks like several series: pass --id-col {parts[0]}",
            hint=f"each of {', '.join(parts)} tells the series apart; name the one to use"
            if len(parts) > 1
            else f"'{parts[0]}' tells the series apart, but some of its cells are empty",
        )
    if len(candidates) > 1:
        raise DataError(
            f"looks like several series, but no one column tells them apart "
            f"(columns {', '.join(candidates)} repeat timestamps)",
            hint="join the columns that name a series into one and pass --id-col with it",
        )
    return None


FEW = 20  # an id column leaves at most 1 in FEW of the repeated timestamps repeated
MIN_ROWS = 3  # rows per series an id column makes, on average (data.grid.MIN_LENGTH)


def _has_empty(s: pd.Series) -> bool:
    return bool(s.isna().any() or (s.astype("string").str.strip() == "").any())


def _codes_like(s: pd.Series, kind: str, n_rows: int) -> bool:
    """Text, or a few integer codes: what an id column holds (empty cells: see _has_empty)."""
    if kind == "text":
        if _looks_numeric(s):
            return False
    elif not (kind == "number" and pd.api.types.is_integer_dtype(s)):
        return False
    distinct = s.nunique()
    return 1 < distinct <= n_rows / MIN_ROWS and (kind == "text" or distinct <= MAX_CODES)


def _ambiguous(candidates: list[str], what: str) -> DataError:
    pick = next((c for c in candidates if c.lower() == "close"), candidates[-1])
    several = [c for c in candidates if c.lower() != "volume"][:4]
    return DataError(
        f"{what}: candidates are {', '.join(candidates)}",
        hint=f"pass --target {pick} for one series, or --target {','.join(several)} for several (wide)",
    )


def _pick(cols: list[str], name: str | None, flag: str) -> str | None:
    if name is None:
        return None
    if name in cols:
        return name
    folded = {c.lower(): c for c in cols}
    if name.lower() in folded:
        return folded[name.lower()]
    exc = DataError(f"{flag} {name}: no such column (columns: {', '.join(cols)})")
    exc.flag, exc.column, exc.columns = flag, name, cols  # predict: what the model reads
    raise exc


def _alias(cols: list[str], aliases: tuple[str, ...], exclude: set | None = None) -> str | None:
    folded = {c.lower().strip(): c for c in cols if c not in (exclude or set())}
    for a in aliases:
        if a in folded:
            return folded[a]
    return None


def _guess_time(df: pd.DataFrame, cols: list[str]) -> str:
    alias = _alias(cols, TIME_ALIASES)
    if alias:
        return alias
    kinds = _kinds(df)
    for c in cols:
        if kinds[c] == "time":
            return c
    for c in cols:
        if kinds[c] != "text" or _looks_numeric(df[c]):
            continue
        sample = df[c].dropna().astype(str).head(20)
        if len(sample) and pd.to_datetime(sample, errors="coerce", format="mixed").notna().all():
            return c
    raise DataError(
        f"no time column found (columns: {', '.join(cols)})", hint="name it with --time-col COLUMN"
    )


def _kinds(df: pd.DataFrame) -> dict[str, str]:
    """'time', 'number', 'flag' or 'text' per column, from the dtypes alone.

    One pass over the dtypes: a table of 100,000 columns is never taken apart column by
    column just to find the few that need a closer look.
    """
    kinds = {}
    for name, dtype in zip(df.columns, df.dtypes, strict=True):
        if pd.api.types.is_bool_dtype(dtype):
            kinds[str(name)] = "flag"
        elif pd.api.types.is_datetime64_any_dtype(dtype):
            kinds[str(name)] = "time"
        elif pd.api.types.is_numeric_dtype(dtype):
            kinds[str(name)] = "number"
        else:
            kinds[str(name)] = "text"
    return kinds


def _looks_numeric(s: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(s):
        return False
    if pd.api.types.is_numeric_dtype(s):
        return True
    sample = s.dropna().head(50)
    return len(sample) > 0 and pd.to_numeric(sample, errors="coerce").notna().mean() > 0.9
