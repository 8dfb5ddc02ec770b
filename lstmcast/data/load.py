"""Loading data: one pipeline from a file to a `Panel`, by the options or by a trained model.

read (data.io) → resolve the columns (data.columns) → parse times and numbers (data.parse)
→ put the series on one regular grid (data.grid) → add the covariates (data.covariates) →
`Panel` (data.panel). `load` runs it, on the options (train, inspect) or on the data schema
of a trained model (predict, evaluate, plot, a warm start), and then says plainly what the
model expects when the file does not fit.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lstmcast.config import ID_ALIASES, DataSpec
from lstmcast.data.columns import ColumnRoles, resolve_columns
from lstmcast.data.covariates import place_covariates
from lstmcast.data.grid import put_on_grid
from lstmcast.data.io import read_table
from lstmcast.data.lines import drop_blank_rows
from lstmcast.data.panel import Panel, columns_summary
from lstmcast.data.parse import parse_rows
from lstmcast.errors import DataError
from lstmcast.text import plural

__all__ = ["load", "ModelSchema"]


@dataclass(frozen=True)
class ModelSchema:
    """How a trained model reads data: its columns, frequency and date format, and its names.

    `spec` is the model's data schema with the options' own column names in it
    (modelfile.store.spec_from_header). `given` holds the options as typed: a column the
    user named is not blamed on the model. `time_col`, `targets` and `id_col` are the model's
    names for those columns; when given, series and source columns take them, so that the
    guards of predict compare the model's names with training.
    """

    spec: DataSpec
    given: DataSpec = DataSpec()
    time_col: str | None = None  # None: keep the file's names
    targets: tuple[str, ...] = ()
    id_col: str | None = None


def load(
    path: str | os.PathLike | pd.DataFrame, spec: DataSpec | ModelSchema = DataSpec()
) -> Panel:
    """Read a data file (`-`: standard input; or take a table already read) into a Panel.

    The file is read once (standard input can only be read once), then goes through each
    step in turn. `spec` is the options, or a trained model's ModelSchema.
    """
    model = spec if isinstance(spec, ModelSchema) else None
    spec = model.spec if model else spec
    table = path if isinstance(path, pd.DataFrame) else read_data(path, spec)
    if table.empty:
        raise DataError("the table has no rows")
    with in_model_terms(model, path, table):
        table, where, notes = drop_blank_rows(table)
        columns = resolve_columns(table, spec)
        if _guessed_number_ids(path, spec, table, columns):  # "007" must stay "007"
            table, where, notes = drop_blank_rows(
                read_data(path, dataclasses.replace(spec, id_col=columns.id_col))
            )
        try:
            rows = parse_rows(table, columns, spec, where)
            grid = put_on_grid(rows, columns, spec)
            covariates = place_covariates(rows, grid, columns)
        except DataError as exc:
            # inspect shows what was found beside the problem
            exc.found = {
                "layout": columns.layout,
                "columns": columns_summary(columns),
                "notes": notes + column_notes(columns),
            }
            raise
    ids, source = model_names(model, columns, grid.ids, [str(c) for c in table.columns])
    return Panel(
        ids=ids,
        values=grid.values,
        offsets=grid.offsets,
        first=grid.first,
        last=grid.last,
        freq=grid.freq,
        columns=columns,
        filled=grid.filled,
        warnings=column_warnings(columns)
        + grid.warnings
        + (covariates.warnings if covariates else []),
        notes=notes + column_notes(columns, len(grid.ids)) + grid.notes,
        source_columns=source,
        covariates=covariates.values if covariates else None,
        future=covariates.future if covariates else None,
        date_format=rows.date_format,
    )


def _guessed_number_ids(path, spec: DataSpec, table: pd.DataFrame, columns: ColumnRoles) -> bool:
    """Whether the id column was guessed among columns read as numbers from a file that can
    be read again: then it is read again as text, as predict reads a model's id column."""
    guessed = columns.id_col is not None and columns.id_col != spec.id_col
    return (
        guessed
        and not isinstance(path, pd.DataFrame)
        and str(path) != "-"
        and pd.api.types.is_numeric_dtype(table[columns.id_col])
    )


def column_notes(columns: ColumnRoles, n_series: int | None = None) -> list[str]:
    """The note on a guessed id column: which one, and how many series it makes."""
    if not columns.id_guessed:
        return []
    count = f" ({plural(n_series, 'series', 'series')})" if n_series else ""
    return [f"taking '{columns.id_col}' as the series id{count}; pass --id-col to choose"]


def column_warnings(columns: ColumnRoles) -> list[str]:
    """The warning on columns left out of a wide table because they hold no value."""
    if not columns.skipped:
        return []
    names = ", ".join(f"'{c}'" for c in columns.skipped)
    return [f"skipped {plural(len(columns.skipped), 'column')} empty in every row: {names}"]


def read_data(path: str | os.PathLike, spec: DataSpec) -> pd.DataFrame:
    """The file's table, its id columns (any of ID_ALIASES, or the spec's) read as text."""
    ids = ID_ALIASES + ((spec.id_col,) if spec.id_col else ())
    return read_table(path, text_columns=ids, compact=True)


def model_names(
    model: ModelSchema | None, columns: ColumnRoles, ids: np.ndarray, source: list[str]
) -> tuple[np.ndarray, tuple[str, ...]]:
    """(series ids, source columns), with the model's names for renamed columns.

    Series of single and wide files are named after their target column: they take the
    model's names too.
    """
    if model is None or model.time_col is None:
        return ids, tuple(source)
    names = {
        columns.time_col: model.time_col,
        **dict(zip(columns.targets, model.targets, strict=False)),
    }
    if columns.id_col and model.id_col:
        names[columns.id_col] = model.id_col
    if all(k == v for k, v in names.items()):
        return ids, tuple(source)
    if columns.layout in ("single", "wide"):
        ids = np.array([names.get(str(i), i) for i in ids], dtype=object)
    return ids, tuple(names.get(c, c) for c in source)


# The options naming a column the model reads, the DataSpec field each sets, and its name.
FLAG_FIELDS = {"--time-col": "time_col", "--target": "target", "--id-col": "id_col"}
FLAG_WHAT = {"--time-col": "time column", "--target": "target", "--id-col": "id column"}


@contextmanager
def in_model_terms(model: ModelSchema | None, path, table: pd.DataFrame) -> Iterator[None]:
    """Say in the model's terms why a file does not fit a model: a covariate or column it
    reads is missing, or the data has another frequency. Without a model, errors pass."""
    try:
        yield
    except DataError as exc:
        if model is None:
            raise
        spec = model.spec
        if getattr(exc, "covariate", None):
            ahead = exc.covariate.lower() in [c.lower() for c in spec.covariates]
            raise DataError(
                f"{path}: the model reads covariate '{exc.covariate}', but the data has no such "
                f"column (columns: {', '.join(exc.columns)})",
                hint="add the column"
                + (
                    ", with its values for the horizon in rows with an empty target"
                    if ahead
                    else ""
                ),
            ) from None
        flag = getattr(exc, "flag", None)
        if flag in FLAG_FIELDS and getattr(model.given, FLAG_FIELDS[flag]) is None:
            what = FLAG_WHAT[flag]
            raise DataError(
                f"{path}: the model reads {what} '{exc.column}'; this file has columns "
                f"{', '.join(exc.columns)}",
                hint=f"pass {flag} COLUMN to name the file's {what}",
            ) from None
        # Say so plainly when the data simply has another frequency than the model.
        try:
            other = load(table, dataclasses.replace(spec, freq=None)).freq
        except DataError:
            other = None
        if other and other != spec.freq:
            raise DataError(
                f"{path}: the data's frequency is {other}, but the model was trained on {spec.freq} data",
                hint="resample the data to the model's frequency, or train a model for this data",
            ) from None
        raise
