"""Date columns written as text: one format per column, inferred from all of its values.

A column is parsed with one explicit format (`pd.to_datetime(format=...)`), never value by
value, so `03/01/2022` can never mean 3 January in one row and 1 March in the next. The
format comes from `--date-format`, or is inferred:

- ISO 8601 (`2024-01-31`, `2024-01-31T13:00:00+01:00`, `2024-01`) is read as ISO 8601.
- `dd/mm/yyyy`, `dd.mm.yyyy`, `dd-mm-yyyy` and their month-first twins, with or without a
  time (`13:00`, `13:00:05`, `13:00:05.250`), are told apart by all the values at once: a
  first field over 12 settles day-first, a second field over 12 settles month-first. When
  every value could be either, the reading that puts the dates on a regular grid wins; when
  both readings do, the column is refused (pass --date-format).
- Anything else is read with the format pandas guesses from the first value.

A value that does not fit the column's format is an error naming its row.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from lstmcast.errors import DataError

__all__ = ["ISO", "column_format", "parse_dates", "example"]

ISO = "ISO8601"  # pandas' own strict ISO 8601 parser (offsets, 'T' or space, date only)
_ISO_RE = re.compile(
    r"^\d{4}(-\d{2}(-\d{2}([T ]\d{2}(:\d{2}(:\d{2}([.,]\d+)?)?)?)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$"
)
# Day/month/year or month/day/year: field, separator, field, the same separator, year, time.
_DMY_RE = re.compile(
    r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?:([ T])(\d{1,2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?$"
)
EXAMPLE = {"%d": "31", "%m": "01", "%Y": "2024", "%y": "24", "%H": "13", "%M": "00", "%S": "00"}


def column_format(values: pd.Series, col: str, freq: str | None = None) -> str:
    """The one format every value of a text date column is read with (see module docstring).

    `values` are the distinct non-empty values, stripped; `freq` (--freq) judges regularity
    of an ambiguous column when given.
    """
    first = values.iloc[0]
    if _ISO_RE.match(first):
        return ISO
    m = _DMY_RE.match(first)
    if m is None:
        from pandas.tseries.api import guess_datetime_format

        fmt = guess_datetime_format(first)
        if fmt is None:
            raise DataError(
                f"time column '{col}' has a value that is not a date: {first!r}",
                hint="dates like 2024-01-31, 31/01/2024 or 2024-01-31 13:00 work; "
                "for another form pass --date-format, e.g. --date-format '%d %b %Y'",
            )
        return fmt
    sep, year = m.group(2), "%Y" if len(m.group(4)) == 4 else "%y"
    clock, clock_re = "", ""
    if m.group(5):
        clock = f"{m.group(5)}%H:%M" + (":%S" if m.group(8) else "") + (".%f" if m.group(9) else "")
        clock_re = (
            rf"{m.group(5)}\d{{1,2}}:\d\d"
            + (r":\d\d" if m.group(8) else "")
            + (r"\.\d+" if m.group(9) else "")
        )
    day_first = f"%d{sep}%m{sep}{year}{clock}"
    month_first = f"%m{sep}%d{sep}{year}{clock}"
    # The two leading fields of every value written like the first (others fail the parse
    # later, and are reported with their row).
    same = re.escape(sep)
    shape = rf"^(\d{{1,2}}){same}(\d{{1,2}}){same}\d{{{len(m.group(4))}}}{clock_re}$"
    fields = values.str.extract(shape)
    like_first = fields[0].notna().to_numpy()
    fields = fields[like_first].astype(float)
    over_first = np.flatnonzero((fields[0] > 12).to_numpy())
    over_second = np.flatnonzero((fields[1] > 12).to_numpy())
    if len(over_first) or len(over_second):
        # The first value that settles it decides; a value that contradicts it then fails
        # the parse and is reported with its row.
        a = over_first[0] if len(over_first) else len(values)
        b = over_second[0] if len(over_second) else len(values)
        return day_first if a < b else month_first
    if not like_first.all():
        return day_first  # a column mixing forms: the parse names the first misfit row
    regular = [fmt for fmt in (day_first, month_first) if _regular(values, fmt, freq)]
    if len(regular) == 1:
        return regular[0]
    reason = (
        "both day-first and month-first readings put them on a regular grid"
        if regular
        else "neither the day-first nor the month-first reading puts them on a regular grid"
    )
    raise DataError(
        f"time column '{col}': dates such as {first!r} are ambiguous and {reason}",
        hint=f"pass --date-format '{day_first}' (day first) or --date-format '{month_first}' (month first)",
    )


def _regular(values: pd.Series, fmt: str, freq: str | None) -> bool:
    """Do the values, read with `fmt`, lie on one regular grid with at most half of it empty?"""
    from lstmcast.data.freq import grid_ordinals, infer_freq

    ts = pd.to_datetime(values, format=fmt, errors="coerce").dropna()  # misfits: reported later
    ts = np.sort(ts.to_numpy().astype("datetime64[ns]"))
    if len(ts) < 2:
        return True
    try:
        freq = freq or infer_freq(ts, np.array([0]))
        if freq is None:
            return False
        ordinal, on_grid = grid_ordinals(ts, freq)
    except (ValueError, TypeError):
        return False
    span = int(ordinal.max() - ordinal.min()) + 1
    return bool(on_grid.all()) and span <= 2 * len(ts)


def parse_dates(
    text: pd.Series,
    fmt: str,
    col: str,
    first_row: int = 0,
    told: bool = False,
    where: Callable[[int], str] = lambda row: f"data row {row + 1}",
) -> np.ndarray:
    """Parse stripped text with one format into naive UTC datetime64[ns].

    Empty values become NaT; a value that does not fit is an error naming its row (`where`
    of its index in the whole column: its file line, or data row; `text` starts at
    `first_row`). Each
    distinct value is parsed once (a long file repeats every date once per series). `told`:
    the format was given (--date-format or the model file), not inferred from the column.
    """
    codes, distinct = pd.factorize(text)
    try:
        parsed = pd.to_datetime(pd.Series(distinct), utc=True, format=fmt, errors="coerce")
    except ValueError as exc:  # a format pandas cannot use at all
        raise DataError(
            f"--date-format {fmt}: not a usable date format ({exc})".splitlines()[0],
            hint="use strftime codes, e.g. --date-format '%d/%m/%Y' or '%d.%m.%Y %H:%M'",
        ) from None
    bad = (parsed.isna() & (pd.Series(distinct) != "")).to_numpy()
    if bad.any():
        row = first_row + int(np.argmax(np.isin(codes, np.flatnonzero(bad))))
        value = text.iloc[row - first_row]
        shown = "ISO 8601 (2024-01-31 13:00)" if fmt == ISO else f"{fmt} (e.g. {example(fmt)})"
        if told:
            raise DataError(
                f"time column '{col}': {where(row)} has {value!r}, "
                f"which does not fit the date format {shown}",
                hint="pass --date-format with the format the file's dates are written in, "
                "e.g. --date-format '%d/%m/%Y'",
            )
        if not _looks_like_date(value):
            raise DataError(
                f"time column '{col}' has a value that is not a date: {value!r} ({where(row)})",
                hint=f"the column's dates are read as {shown}; fix or remove that row",
            )
        raise DataError(
            f"time column '{col}' mixes date formats: {where(row)} "
            f"has {value!r}, which does not fit the column's format {shown}",
            hint="write every date of the column in one format, or pass --date-format FORMAT",
        )
    naive = parsed.dt.tz_convert(None).to_numpy().astype("datetime64[ns]")
    ts = np.full(len(codes), np.datetime64("NaT"), dtype="datetime64[ns]")
    ts[codes >= 0] = naive[codes[codes >= 0]]
    return ts


def _looks_like_date(value: str) -> bool:
    from pandas.tseries.api import guess_datetime_format

    return bool(_ISO_RE.match(value) or _DMY_RE.match(value) or guess_datetime_format(value))


def example(fmt: str) -> str:
    """`fmt` filled with a sample date, to show a format the way users read it."""
    for code, text in EXAMPLE.items():
        fmt = fmt.replace(code, text)
    return fmt.replace("%f", "000")
