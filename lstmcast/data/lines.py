"""Where each row of a table came from, and the empty rows spreadsheets leave behind.

Messages name a row by its line in the file where the format has lines (CSV, TSV, their
compressed forms, standard input: `file line 122`), else by its number among the data rows
(Parquet, a table handed to `load`: `data row 121`). Rows whose every cell is empty (`,,`,
only whitespace, a trailing blank line) are dropped before anything reads the table, and the
numbering of the rows after them stays that of the file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lstmcast.errors import DataError
from lstmcast.text import plural

__all__ = ["Where", "FIRST_LINE", "drop_blank_rows", "where_of"]

# The table attribute data.io sets on a table read from a text file: the file line of its
# first data row (2: the header is line 1). Tables without it number their rows from 1.
FIRST_LINE = "lstmcast_first_line"


@dataclass(frozen=True)
class Where:
    """The name of the table's row i in messages: `file line N` or `data row N`."""

    unit: str = "data row"
    first: int = 1  # the number of the table's first row
    # Each row's position among the file's rows when empty rows were dropped; None: the same.
    kept: np.ndarray | None = None

    def __call__(self, i: int) -> str:
        return f"{self.unit} {self.number(i)}"

    def number(self, i: int) -> int:
        return self.first + int(self.kept[i] if self.kept is not None else i)


def where_of(table: pd.DataFrame) -> Where:
    """How the rows of a table just read are named: by file line when it came from text."""
    first = table.attrs.get(FIRST_LINE)
    return Where("file line", int(first)) if first else Where()


def drop_blank_rows(table: pd.DataFrame) -> tuple[pd.DataFrame, Where, list[str]]:
    """(table without its empty rows, how its rows are named, notes saying what was dropped).

    A row is empty when every cell is missing or only whitespace. Columns are looked at in
    turn, numbers first (text costs more), and only while some row is still empty in all of
    them: a table with a column of numbers always filled costs one pass over that column.
    """
    where = where_of(table)
    blank = np.ones(len(table), dtype=bool)
    numbers = [pd.api.types.is_numeric_dtype(t) for t in table.dtypes]
    for j in sorted(range(table.shape[1]), key=lambda j: not numbers[j]):
        candidates = np.flatnonzero(blank)
        if not len(candidates):
            return table, where, []
        col = table.iloc[candidates, j] if len(candidates) < len(table) else table.iloc[:, j]
        empty = col.isna().to_numpy()
        if not numbers[j]:
            empty |= (col.astype("string").str.strip() == "").fillna(True).to_numpy()
        blank[candidates[~empty]] = False
    n = int(blank.sum())
    if not n:
        return table, where, []
    first = where(int(np.argmax(blank)))
    if n == len(table):
        raise DataError(
            f"every data row is empty ({plural(n, 'row')}, the first at {first})",
            hint="the file has a header but no values; check that it is the right file",
        )
    kept = np.flatnonzero(~blank)
    note = f"skipped {plural(n, 'empty row')} (the first at {first})"
    return table.iloc[kept], Where(where.unit, where.first, kept), [note]
