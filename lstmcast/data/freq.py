"""Frequency inference, integer grid positions for timestamps, and seasonal periods."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstmcast.config import OPTION_STEPS

__all__ = [
    "infer_freq",
    "fixed_step_ns",
    "grid_ordinals",
    "future_dates",
    "season_length",
    "calendar_periods",
    "describe_freq",
    "check_freq",
    "steps_left",
    "grid_times",
]

DAY_NS = 86_400 * 10**9
WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def infer_freq(ts: np.ndarray, series_starts: np.ndarray) -> str | None:
    """Infer one pandas frequency alias for a dataset from its sorted per-series timestamps.

    `ts` is datetime64[ns] sorted within each series; `series_starts` are the row offsets
    where each series begins. The most common step between consecutive rows decides the
    family; calendar rules then pick the alias (business days when no weekend date occurs
    and Friday→Monday steps do; month/quarter/year starts or ends by the day of month).
    Returns None when no step occurs at all (every series has a single row).
    """
    values, counts = _step_counts(ts.view("int64"), series_starts)
    if len(values) == 0:
        return None
    mode = int(values[np.argmax(counts)])
    dates = pd.DatetimeIndex(ts)
    days = mode / DAY_NS
    if mode < DAY_NS:
        return pd.tseries.frequencies.to_offset(pd.Timedelta(mode)).freqstr
    if days in (2, 3, 4, 5, 6):
        return f"{int(days)}D"
    if days == 1:
        weekday = dates.day_of_week
        if not (weekday >= 5).any() and 3 * DAY_NS in values:
            return "B"
        return "D"
    if days == 7:
        anchor = np.bincount(dates.day_of_week, minlength=7).argmax()
        return f"W-{WEEKDAYS[anchor]}"
    if 28 <= days <= 31 or 89 <= days <= 92 or 365 <= days <= 366:
        starts = bool(dates.is_month_start.all())
        ends = bool(dates.is_month_end.all())
        if not (starts or ends):
            return None  # e.g. the 15th of each month: not a grid pandas can extend
        month = int(np.bincount(dates.month, minlength=13).argmax())
        if days <= 31:
            return "MS" if starts else "ME"
        if days <= 92:
            anchor = MONTHS[(month - 1) % 3] if starts else MONTHS[(month - 1) % 3 + 9]
            return ("QS-" if starts else "QE-") + anchor
        return ("YS-" if starts else "YE-") + MONTHS[month - 1]
    return pd.tseries.frequencies.to_offset(pd.Timedelta(mode)).freqstr


CHUNK = 1 << 20  # steps counted at a time: memory stays flat however long the table


def _step_counts(ns: np.ndarray, series_starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct positive steps between consecutive rows of one series (sorted), with counts."""
    same_series = np.ones(max(len(ns) - 1, 0), dtype=bool)
    same_series[series_starts[1:-1] - 1] = False  # a step across two series is not a step
    parts, weights = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
    for lo in range(0, len(same_series), CHUNK):
        step = np.diff(ns[lo : lo + CHUNK + 1])
        step = step[same_series[lo : lo + CHUNK] & (step > 0)]
        value, count = np.unique(step, return_counts=True)
        parts.append(value)
        weights.append(count)
    values, where = np.unique(np.concatenate(parts), return_inverse=True)
    counts = np.zeros(len(values), dtype=np.int64)
    np.add.at(counts, where, np.concatenate(weights))
    return values, counts


def grid_ordinals(ts: np.ndarray, freq: str) -> tuple[np.ndarray, np.ndarray]:
    """Map timestamps to integer positions on the `freq` grid, vectorised.

    Returns (ordinal int64, on_grid bool). Two timestamps one step apart differ by 1.
    For fixed steps (hours, minutes, days) "on grid" is judged later relative to each
    series' first timestamp (its phase); for calendar frequencies it is judged here
    (a weekend date is off a business-day grid, the 15th is off a month-start grid).
    """
    offset = pd.tseries.frequencies.to_offset(freq)
    dates = pd.DatetimeIndex(ts)
    ns = ts.view("int64")
    name = offset.rule_code
    if _fixed_step(offset):
        step = pd.Timedelta(offset).value
        return ns // step, np.ones(len(ts), dtype=bool)  # phase checked per series
    if name == "B":
        day = ns // DAY_NS
        weekday = dates.day_of_week.to_numpy()
        # Count business days since the epoch: 5 per full week plus the weekdays before.
        week, dow = np.divmod(day + 3, 7)  # 1970-01-01 was a Thursday (dow 3 from Monday)
        return week * 5 + np.minimum(dow, 5), weekday < 5
    months = dates.year.to_numpy().astype(np.int64) * 12 + dates.month.to_numpy() - 1
    if name.startswith("W"):
        day = ns // DAY_NS
        anchor = WEEKDAYS.index(name.split("-")[1]) if "-" in name else 6
        on = dates.day_of_week.to_numpy() == anchor
        return (day + 3 - anchor) // 7 // offset.n, on
    start = name.endswith("S") or "S-" in name
    on_day = np.asarray(dates.is_month_start if start else dates.is_month_end)
    if name in ("MS", "ME"):
        return months // offset.n, on_day
    if name.startswith("Q"):
        anchor_month = MONTHS.index(name.split("-")[1])
        phase = (months - anchor_month) % 3
        return (months - phase) // (3 * offset.n), on_day & (phase == 0)
    if name.startswith("Y"):
        anchor_month = MONTHS.index(name.split("-")[1])
        in_month = dates.month.to_numpy() - 1 == anchor_month
        return dates.year.to_numpy().astype(np.int64) // offset.n, on_day & in_month
    raise ValueError(f"unsupported frequency {freq!r}")


YEAR_DAYS = 365.2425


def calendar_periods(freq: str) -> tuple[tuple[str, float], ...]:
    """The calendar cycles a model can see on a `freq` grid, as (name, period in steps).

    Positions are the ordinals of `grid_ordinals`, so a period P means "ordinal mod P":
    hour of day and day of week for sub-daily data, day of week and day of year for daily
    and business-day data, week of year for weekly, month or quarter of the year for
    monthly and quarterly data; yearly data has none.
    """
    offset = pd.tseries.frequencies.to_offset(freq)
    name = offset.rule_code
    if _fixed_step(offset):
        step = pd.Timedelta(offset).value
        if step < DAY_NS:
            day = [("time of day", DAY_NS / step)] if DAY_NS % step == 0 else []
            return (*day, ("day of week", 7 * DAY_NS / step))
        if step == DAY_NS:
            return (("day of week", 7.0), ("day of year", YEAR_DAYS))
        if step < 7 * DAY_NS:
            return (("day of year", YEAR_DAYS * DAY_NS / step),)
        return ()
    if name == "B":
        return (("day of week", 5.0), ("day of year", YEAR_DAYS * 5 / 7))
    if name.startswith("W"):
        return (("week of year", YEAR_DAYS / 7 / offset.n),)
    if name in ("MS", "ME"):
        return (("month of year", 12 / offset.n),) if offset.n < 12 else ()
    if name.startswith("Q"):
        return (("quarter of year", 4 / offset.n),) if offset.n < 4 else ()
    return ()


def _fixed_step(offset: pd.DateOffset) -> bool:
    # pandas 3 made "D" a calendar day rather than a Tick; both are fixed steps here
    # because lstmcast parses time zones into naive UTC (no daylight-saving jumps).
    return isinstance(offset, pd.offsets.Tick) or offset.rule_code == "D"


def fixed_step_ns(freq: str) -> int | None:
    """The step in nanoseconds for fixed-length frequencies (h, min, D); None for calendars."""
    offset = pd.tseries.frequencies.to_offset(freq)
    return pd.Timedelta(offset).value if _fixed_step(offset) else None


def check_freq(text: str) -> str:
    """A pandas frequency alias with a positive step ('h', '15min', 'W-SUN'), normalised."""
    from lstmcast.errors import UsageError

    hint = "examples: h, 15min, D, B, W-SUN, MS, ME, QS, YS"
    try:
        offset = pd.tseries.frequencies.to_offset(str(text).strip())
        positive = offset.n >= 1 and (not _fixed_step(offset) or pd.Timedelta(offset).value > 0)
    except (ValueError, TypeError, OverflowError):
        raise UsageError(f"--freq {text}: not a pandas frequency", hint=hint) from None
    if not positive:
        raise UsageError(f"--freq {text}: the step must be positive", hint=hint)
    try:  # a calendar lstmcast has no grid for: custom or holiday business days, BMS, ...
        grid_ordinals(np.zeros(1, dtype="datetime64[ns]"), offset.freqstr)
        supported = offset.rule_code != "B" or offset.n == 1
    except ValueError:
        supported = False
    if not supported:
        raise UsageError(
            f"--freq {text}: lstmcast has no grid for this frequency",
            hint=hint + " (no holiday calendars: holidays on a B grid are filled, see --max-gap)",
        )
    return offset.freqstr


def steps_left(last: pd.Timestamp, freq: str) -> int:
    """How many `freq` steps follow `last` before pandas' last timestamp (2262-04-11)."""
    step = fixed_step_ns(freq)
    if step:
        return (pd.Timestamp.max.value - pd.Timestamp(last).value) // step
    # Calendar grids have at most a few hundred thousand steps left (business days). pandas
    # steps once past the end while generating, so the end stays a year short of the limit.
    end = pd.Timestamp.max - pd.Timedelta(days=400)
    return max(len(pd.date_range(last, end, freq=freq)) - 1, 0)


def future_dates(last: pd.Timestamp, freq: str, horizon: int) -> pd.DatetimeIndex:
    """The `horizon` timestamps after `last` on the `freq` grid (business days skip weekends)."""
    return pd.date_range(last, periods=horizon + 1, freq=freq)[1:]


def season_length(freq: str) -> int:
    """The main seasonal period, in steps, of a frequency: 24 for hourly, 7 for daily, 12
    monthly, 6 every two months. A day of sub-daily data is a season when it holds at most
    OPTION_STEPS steps (86,400 of 1-second data; what --season accepts): a finer grid, or a
    step that does not divide the day or the year, has none (1)."""
    offset = pd.tseries.frequencies.to_offset(freq)
    name = offset.rule_code
    if _fixed_step(offset):
        step = pd.Timedelta(offset).value
        if step < DAY_NS and DAY_NS % step == 0 and DAY_NS // step <= OPTION_STEPS:
            return DAY_NS // step  # one day: 24 hourly, 48 half-hourly, 96 quarter-hourly
        return 7 if step == DAY_NS else 1  # a week of daily values
    cycle = SEASONS.get(name.split("-")[0], 1)  # W-SUN: W; QS-JAN: QS
    return cycle // offset.n if cycle % offset.n == 0 else 1


# Steps in a week of business days and in a year of weeks, months and quarters.
SEASONS = {"B": 5, "W": 52, "MS": 12, "ME": 12, "M": 12, "QS": 4, "QE": 4, "Q": 4}


def describe_freq(freq: str) -> str:
    """A readable name for a pandas alias, for tables and messages."""
    names = {
        "h": "hourly",
        "D": "daily",
        "B": "business days",
        "MS": "monthly (month start)",
        "ME": "monthly (month end)",
        "min": "minutely",
        "s": "secondly",
    }
    if freq in names:
        return names[freq]
    if freq.startswith("W-"):
        return f"weekly ({freq[2:].title()})"
    if freq.startswith(("QS", "QE")):
        return f"quarterly ({'start' if freq[1] == 'S' else 'end'}, {freq[3:].title()})"
    if freq.startswith(("YS", "YE")):
        return f"yearly ({'start' if freq[1] == 'S' else 'end'}, {freq[3:].title()})"
    return f"every {freq}"


def grid_times(
    first: np.ndarray, freq: str, series: np.ndarray, positions: np.ndarray
) -> np.ndarray:
    """Timestamps (B, P), datetime64[ns], of grid positions (B, P) of the series `series`
    (B,), each series' grid starting at its `first` timestamp."""
    step = fixed_step_ns(freq)
    if step:
        start = first.astype("datetime64[ns]").view("int64")[series]
        return (start[:, None] + positions * step).view("datetime64[ns]")
    # Calendar grids (months, business days): one date range per series, shared by its windows.
    out = np.empty(positions.shape, dtype="datetime64[ns]")
    for s in np.unique(series):
        rows = series == s
        grid = pd.date_range(first[s], periods=int(positions[rows].max()) + 1, freq=freq)
        out[rows] = grid.to_numpy()[positions[rows]]
    return out
