"""What the grid step filled: the dates, how many per series, and what they look like.

A filled step is a stand-in value, so the warning names the dates (the first few, ISO 8601)
and the series with the most fills. Two patterns have a known cause and a known remedy, given
as a note: fills on weekends of a daily grid (the data has business days: --freq B), and
fills on the same calendar days every year (holidays: lstmcast has no holiday calendar, so
they stay filled; --max-gap 0 refuses any fill instead).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lstmcast.data.freq import grid_times
from lstmcast.text import plural, time_text

__all__ = ["Fills", "describe_fills"]

SHOWN = 5  # dates and series named in the warning
MAX_SERIES = 1000  # series whose fill dates are computed (calendar grids cost one range each)
WEEKEND_SHARE = 0.9  # fills of a daily grid this much on weekends: the data is business days


@dataclass(frozen=True)
class Fills:
    warning: str  # what was filled, where
    note: str | None  # the likely cause and what to pass, when the dates show one


def describe_fills(
    positions: np.ndarray, offsets: np.ndarray, ids: np.ndarray, first: np.ndarray, freq: str
) -> Fills:
    """Describe the filled `positions` (into the panel's flat values; `offsets` per series,
    whose grids start at `first`)."""
    series = np.searchsorted(offsets, positions, side="right") - 1
    per_series = np.bincount(series, minlength=len(ids))
    worst = np.argsort(-per_series, kind="stable")
    worst = worst[per_series[worst] > 0]
    sample = np.isin(series, worst[:MAX_SERIES])
    steps = positions[sample] - offsets[series[sample]]
    dates = np.unique(grid_times(first, freq, series[sample], steps[:, None])[:, 0])
    shown = ", ".join(time_text(dates[:SHOWN]))
    more = f" and {len(dates) - SHOWN:,} more" if len(dates) > SHOWN else ""
    text = f"filled {plural(len(positions), 'missing step')} by linear interpolation: {shown}{more}"
    if len(worst) > 1:
        per = ", ".join(f"'{ids[s]}' {per_series[s]:,}" for s in worst[:SHOWN])
        rest = f" and {plural(len(worst) - SHOWN, 'more series', 'more series')}"
        text += f" (per series, most first: {per}{rest if len(worst) > SHOWN else ''})"
    return Fills(text, _cause(pd.DatetimeIndex(dates), freq))


def _cause(dates: pd.DatetimeIndex, freq: str) -> str | None:
    """The note for fills on weekends of a daily grid, or on the same days every year."""
    if freq not in ("D", "B") or len(dates) < 2:
        return None
    if freq == "D" and len(dates) >= 4 and (dates.dayofweek >= 5).mean() >= WEEKEND_SHARE:
        return (
            "the filled days are weekends: if the data has business days only, pass --freq B "
            "(and remove its weekend rows, if any)"
        )
    days = pd.Series(dates.year).groupby(dates.strftime("%m-%d")).nunique()
    recurring = days[days >= 2]
    if not (len(recurring) >= 2 or (days >= 3).any()):
        return None
    names = pd.to_datetime("2000-" + recurring.index.to_series()).dt.strftime("%b %-d")
    return (
        f"the filled days recur every year ({', '.join(names[:SHOWN])}"
        f"{', ...' if len(names) > SHOWN else ''}): holidays, it seems. lstmcast has no "
        "holiday calendar, so they are filled like any other gap; pass --max-gap 0 to refuse "
        "any fill instead"
    )
