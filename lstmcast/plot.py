"""PNG plots of history, forecast, interval band and held-out actuals (matplotlib, Agg)."""

from __future__ import annotations

import io
import math
import os

import numpy as np
import pandas as pd

from lstmcast.io import atomic_write

__all__ = ["SeriesPlot", "plot_series"]


class SeriesPlot:
    """What one panel of the figure shows; timestamps are datetime64 arrays."""

    def __init__(self, title, hist_ds, hist_y, fc_ds, yhat, lower, upper, actual=None, note=None):
        self.title, self.note = title, note
        self.hist_ds, self.hist_y = hist_ds, hist_y
        self.fc_ds, self.yhat, self.lower, self.upper, self.actual = (
            fc_ds,
            yhat,
            lower,
            upper,
            actual,
        )


def plot_series(
    plots: list[SeriesPlot],
    path: str | os.PathLike,
    title: str | None = None,
    interval: str = "80% interval",
) -> None:
    """Draw one small chart per series in a grid and write the PNG atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    n = len(plots)
    cols = 1 if n == 1 else 2 if n <= 4 else 3
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(6.4 * cols, 3.6 * rows), squeeze=False, constrained_layout=True
    )
    for ax, p in zip(axes.flat, plots, strict=False):
        ax.plot(p.hist_ds, p.hist_y, color="#333333", lw=1.1, label="history")
        ax.fill_between(
            p.fc_ds, p.lower, p.upper, color="#1f77b4", alpha=0.22, lw=0, label=interval
        )
        # Start the forecast line at the last observation so the two read as one curve.
        ax.plot(
            np.r_[p.hist_ds[-1:], p.fc_ds],
            np.r_[p.hist_y[-1:], p.yhat],
            color="#1f77b4",
            lw=1.6,
            label="forecast",
        )
        if p.actual is not None:
            ax.plot(p.fc_ds, p.actual, color="#d62728", lw=1.1, ls="--", label="actual (held out)")
        ax.set_title(p.title + (f" — {p.note}" if p.note else ""), fontsize=10, loc="left")
        locator = mdates.AutoDateLocator(minticks=3, maxticks=6)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
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
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    atomic_write(path, lambda fh: fh.write(buf.getvalue()))


def history_slice(panel, i: int, end: int, last: int) -> tuple[np.ndarray, np.ndarray]:
    """Timestamps and values of series i's `last` steps before position `end`."""
    start = max(0, end - last)
    ds = pd.date_range(panel.first[i], periods=end, freq=panel.freq)[start:end].to_numpy()
    return ds, panel.series(i)[start:end]
