"""Data files into Panels: as the options say (train, inspect), or through a trained model's
schema (predict, evaluate, plot), saying plainly what the model expects when they differ."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pandas as pd

from lstmcast.config import ID_ALIASES, DataSpec
from lstmcast.data.covariates import build_covariate_panel
from lstmcast.data.io import read_table
from lstmcast.data.panel import Panel
from lstmcast.data.parse import build_panel
from lstmcast.errors import DataError

__all__ = [
    "load_panel",
    "read_data",
    "build_data_panel",
    "load_for_model",
    "as_model_columns",
    "FLAG_FIELDS",
]


def load_panel(path: str | os.PathLike, spec: DataSpec = DataSpec()) -> Panel:
    """Read a data file (`-`: standard input) and validate it into a Panel."""
    return build_data_panel(read_data(path, spec), spec)


def build_data_panel(df: pd.DataFrame, spec: DataSpec) -> Panel:
    """The target's panel, with the covariate columns added when the spec names any."""
    if spec.covariates or spec.past_covariates:
        return build_covariate_panel(df, spec)
    return build_panel(df, spec)


def read_data(path: str | os.PathLike, spec: DataSpec) -> pd.DataFrame:
    """The file's table, its id columns (any of ID_ALIASES, or the spec's) read as text."""
    ids = ID_ALIASES + ((spec.id_col,) if spec.id_col else ())
    return read_table(path, text_columns=ids, compact=True)


def as_model_columns(panel: Panel, header: dict) -> Panel:
    """A panel read through renamed columns, with the model's names for them.

    Series of single and wide files are named after their target column, and the guards of
    predict compare column names with training: both then see the model's names.
    """
    meta, cols = header["data"], panel.columns
    names = {
        cols.time_col: meta["time_col"],
        **dict(zip(cols.targets, meta["targets"], strict=False)),
    }
    if cols.id_col and meta.get("id_col"):
        names[cols.id_col] = meta["id_col"]
    if all(k == v for k, v in names.items()):
        return panel
    ids = panel.ids
    if cols.layout in ("single", "wide"):
        ids = np.array([names.get(str(i), i) for i in panel.ids], dtype=object)
    source = tuple(names.get(c, c) for c in panel.source_columns)
    return dataclasses.replace(panel, ids=ids, source_columns=source)


# The options naming a column the model reads, and the DataSpec field each sets.
FLAG_FIELDS = {"--time-col": "time_col", "--target": "target", "--id-col": "id_col"}


def load_for_model(data, spec: DataSpec, given: DataSpec = DataSpec()) -> Panel:
    """Load data with a model's columns and frequency; say plainly what the model expects.

    The file is read once (standard input can only be read once), then validated.
    """
    df = read_data(data, spec)
    try:
        return build_data_panel(df, spec)
    except DataError as exc:
        if getattr(exc, "covariate", None):
            ahead = exc.covariate.lower() in [c.lower() for c in spec.covariates]
            raise DataError(
                f"{data}: the model reads covariate '{exc.covariate}', but the data has no such "
                f"column (columns: {', '.join(exc.columns)})",
                hint="add the column"
                + (
                    ", with its values for the horizon in rows with an empty target"
                    if ahead
                    else ""
                ),
            ) from None
        flag = getattr(exc, "flag", None)
        if flag in FLAG_FIELDS and getattr(given, FLAG_FIELDS[flag]) is None:
            what = {"--time-col": "time column", "--target": "target", "--id-col": "id column"}
            raise DataError(
                f"{data}: the model reads {what[flag]} '{exc.column}'; this file has columns "
                f"{', '.join(exc.columns)}",
                hint=f"pass {flag} COLUMN to name the file's {what[flag]}",
            ) from None
        # Say so plainly when the data simply has another frequency than the model.
        try:
            other = build_data_panel(df, dataclasses.replace(spec, freq=None)).freq
        except DataError:
            other = None
        if other and other != spec.freq:
            raise DataError(
                f"{data}: the data's frequency is {other}, but the model was trained on {spec.freq} data",
                hint="resample the data to the model's frequency, or train a model for this data",
            ) from None
        raise
