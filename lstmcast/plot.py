"""PNG plots of history, forecasts, interval bands and the actuals after them (matplotlib, Agg)."""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lstmcast.freq import fixed_step_ns
from lstmcast.io import atomic_write

__all__ = ["Forecast", "SeriesPlot", "build_figure", "plot_series", "history_slice", "stamp"]

HOUR_STEPS = (1, 2, 3, 4, 6, 12)  # hours between labelled ticks, the smallest that fits
MAX_TICKS = 12  # labels that fit under a 6.4-inch panel at font size 8


@dataclass
class Forecast:
    """One forecast on a panel: made at `cutoff` (the last value it saw, `cutoff_y`)."""

    cutoff: np.datetime64
    cutoff_y: float
    ds: np.ndarray  # datetime64 (H,)
    yhat: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


@dataclass
class SeriesPlot:
    """What one panel shows: the history up to the first forecast, the forecasts, and the
    values observed after the first cutoff (held out or backtested), if any."""

    title: str
    hist_ds: np.ndarray
    hist_y: np.ndarray
    forecasts: list[Forecast]
    actual_ds: np.ndarray | None = None
    actual: np.ndarray | None = None
    note: str | None = None
    ylabel: str | None = None
    series: str | None = None  # the series id, for callers


def stamp(ts, freq: str) -> str:
    """A timestamp as people write it: with the time of day only for sub-daily data."""
    ts = pd.Timestamp(ts)
    return ts.strftime("%Y-%m-%d %H:%M" if _subdaily(freq) else "%Y-%m-%d")


def _subdaily(freq: str) -> bool:
    step = fixed_step_ns(freq)
    return step is not None and step < pd.Timedelta(days=1).value


def _time_axis(ax, start, end, freq: str) -> None:
    """Date ticks; for sub-daily data hour ticks (the date written at midnight)."""
    import matplotlib.dates as mdates

    hours = (pd.Timestamp(end) - pd.Timestamp(start)) / pd.Timedelta(hours=1)
    fits = [k for k in HOUR_STEPS if hours / k <= MAX_TICKS]
    if _subdaily(freq) and fits:
        locator = mdates.HourLocator(byhour=range(0, 24, fits[0]))
        formatter = mdates.ConciseDateFormatter(
            locator, zero_formats=["", "%Y", "%b", "%b %d", "%H:%M", "%H:%M"], show_offset=False
        )
    elif _subdaily(freq):  # too long for labelled hours: dates, with a tick every 6 hours
        days = math.ceil(hours / 24 / MAX_TICKS)
        locator = mdates.DayLocator(interval=days)
        formatter = mdates.DateFormatter("%b %d")
        ax.xaxis.set_minor_locator(mdates.HourLocator(byhour=(0, 6, 12, 18)))
    else:
        locator = mdates.AutoDateLocator(minticks=3, maxticks=7)
        formatter = mdates.ConciseDateFormatter(locator)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(formatter)


def build_figure(
    plots: list[SeriesPlot],
    freq: str,
    title: str | None = None,
    interval: str = "80% interval",
):
    """One small chart per series in a grid: a matplotlib Figure (Agg), not yet saved."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(plots)
    cols = 1 if n == 1 else 2 if n <= 4 else 3
    rows = math.ceil(n / cols)
    # A single panel gets the width its title and legend need.
    width = 6.4 * cols if cols > 1 else 9.0
    fig, axes = plt.subplots(
        rows, cols, figsize=(width, 3.8 * rows), squeeze=False, constrained_layout=True
    )
    for ax, p in zip(axes.flat, plots, strict=False):
        ax.plot(p.hist_ds, p.hist_y, color="#333333", lw=1.1, label="history")
        if p.actual is not None:
            ax.plot(
                p.actual_ds, p.actual, color="#d62728", lw=1.1, ls="--", label="actual after origin"
            )
        for k, f in enumerate(p.forecasts):
            first = k == 0  # one legend entry per kind of line
            ax.axvline(
                f.cutoff,
                color="#777777",
                lw=0.8,
                ls=":",
                label="forecast origin" if first else None,
            )
            ax.fill_between(
                f.ds, f.lower, f.upper, color="#1f77b4", alpha=0.22, lw=0,
                label=interval if first else None,
            )  # fmt: skip
            # Start at the value the forecast saw, so history and forecast read as one curve.
            ax.plot(
                np.r_[[f.cutoff], f.ds], np.r_[[f.cutoff_y], f.yhat], color="#1f77b4", lw=1.6,
                label="forecast" if first else None,
            )  # fmt: skip
        ax.set_title(p.title + (f"\n{p.note}" if p.note else ""), fontsize=10, loc="left")
        if p.ylabel:
            ax.set_ylabel(p.ylabel, fontsize=9)
        end = p.forecasts[-1].ds[-1] if p.forecasts else p.hist_ds[-1]
        _time_axis(ax, p.hist_ds[0], end, freq)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(
        handles, labels, loc="outside lower center", ncols=len(labels), frameon=False, fontsize=9
    )
    if title:
        fig.suptitle(title, fontsize=12)
    return fig


def plot_series(
    plots: list[SeriesPlot],
    path: str | os.PathLike,
    freq: str,
    title: str | None = None,
    interval: str = "80% interval",
) -> None:
    """Draw the plots (see `build_figure`) and write the PNG atomically."""
    import matplotlib.pyplot as plt

    fig = build_figure(plots, freq, title, interval)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    atomic_write(path, lambda fh: fh.write(buf.getvalue()))


def history_slice(panel, i: int, end: int, last: int) -> tuple[np.ndarray, np.ndarray]:
    """Timestamps and values of series i's `last` steps before position `end`."""
    start = max(0, end - last)
    ds = pd.date_range(panel.first[i], periods=end, freq=panel.freq)[start:end].to_numpy()
    return ds, panel.series(i)[start:end]
