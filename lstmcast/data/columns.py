"""Which column is the time, the target, the id and the covariates: aliases, guesses and clear refusals."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pandas as pd

from lstmcast.config import ID_ALIASES, DataSpec
from lstmcast.errors import DataError, UsageError

__all__ = ["ColumnRoles", "resolve_columns", "TIME_ALIASES", "TARGET_ALIASES", "PRICE_COLUMNS"]

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
        return ColumnRoles(layout, time_col, targets, id_col)
    kinds = _kinds(df)
    numeric = [
        c for c in rest if kinds[c] == "number" or kinds[c] == "text" and _looks_numeric(df[c])
    ]
    alias = _alias(rest, TARGET_ALIASES)
    if id_col:
        if alias:
            return ColumnRoles("long", time_col, (alias,), id_col)
        if len(numeric) == 1:
            return ColumnRoles("long", time_col, (numeric[0],), id_col)
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
    return ColumnRoles("wide", time_col, tuple(numeric))


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
