"""How values are written for people and files, in one place: timestamps in ISO 8601, counts
with their noun, numbers as the shortest decimals that read back to the same value."""

from __future__ import annotations

import math

# numpy and pandas load inside the functions: `lstmcast --help` imports this module without them.

__all__ = ["timestamp", "time_text", "number_text", "json_numbers", "json_float", "plural"]

FLOAT32_MAX = 3.4028234663852886e38  # numpy.finfo(numpy.float32).max


def time_text(values):
    """ISO 8601 text of a timestamp column: dates (2024-05-01) when every value falls at
    midnight, else date and time (2024-05-01T22:00:00, with a fraction only when needed).

    One rule for CSV, JSON, tables and messages; missing values are ''.
    """
    import numpy as np
    import pandas as pd

    stamps = np.asarray(pd.DatetimeIndex(values).tz_localize(None), dtype="datetime64[ns]")
    ns = stamps[~np.isnat(stamps)].view("int64")
    unit = next(
        (u for u, step in (("D", 86_400 * 10**9), ("s", 10**9), ("ms", 10**6), ("us", 10**3))
         if (ns % step == 0).all()),
        "ns",
    )  # fmt: skip
    text = np.datetime_as_string(stamps, unit=unit).astype(object)
    text[np.isnat(stamps)] = ""
    return text


def timestamp(value, with_time: bool = False) -> str:
    """One timestamp as every message writes it (time_text's rule): 2024-05-07 at midnight,
    2024-05-07T19:00:00 otherwise; `with_time` writes the time at midnight too (for a
    timestamp of sub-daily data)."""
    import pandas as pd

    text = str(time_text([pd.Timestamp(value)])[0])
    return text + "T00:00:00" if with_time and len(text) == 10 else text


def number_text(values):
    """Shortest decimal that round-trips in the array's own precision; '' for NaN.

    80.0453 stays 80.0453 (not float32's 80.04529571533203), 1405334.0 is 1405334; an exponent
    only outside 1e-6..1e16, where positional digits would run long.
    """
    import numpy as np

    values = np.asarray(values)
    # numpy's str is the shortest round-trip (Dragon4), computed in C; it turns to exponents
    # early (float32 from 1e6 up), and those few values are written out positionally here.
    text = values.astype(str).astype("U32")  # room for 0.00000 and 17 digits
    magnitude = np.abs(values)
    redo = np.flatnonzero(
        (magnitude >= 1e-6) & (magnitude < 1e16) & (np.strings.find(text, "e") >= 0)
    )
    for i in redo:
        text[i] = np.format_float_positional(values[i], unique=True, trim="-")
    head, _, tail = np.strings.partition(text, ".")
    text = np.where(tail == "0", head, text)  # 3.0 -> 3
    return np.where(np.isnan(values), "", text)


def json_numbers(values):
    """JSON text of floats: the shortest decimal of their float32 value (the precision of every
    series and forecast, so 788.8986206054688 is 788.8986); 'null' for NaN and infinities.
    Values beyond float32's range keep their own precision."""
    import numpy as np

    values = np.asarray(values, dtype=np.float64)
    fits = np.abs(values) <= FLOAT32_MAX
    text = np.where(
        fits,
        number_text(np.where(fits, values, 0).astype(np.float32)),
        number_text(values),
    )
    return np.where(np.isfinite(values), text, "null")


def json_float(value: float) -> float | None:
    """A float for a JSON document, written as json_numbers writes it (None for NaN, inf)."""
    if not math.isfinite(value):
        return None
    return float(json_numbers([value])[0])


def plural(count: float, noun: str, nouns: str | None = None) -> str:
    """'1 window', '3 windows', '1,200 windows', '2.5 windows' (a median): the count and its
    noun, singular for 1. `nouns` is the plural where adding an s is wrong ('processes')."""
    word = noun if count == 1 else (nouns or noun + "s")
    number = int(count) if float(count).is_integer() else count
    return f"{number:,} {word}"
