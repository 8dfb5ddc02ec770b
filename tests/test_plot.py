"""The time axis of plots: hour ticks for sub-daily data, dates otherwise."""

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest

from lstmcast.plot import Forecast, SeriesPlot, build_figure, stamp


def one_panel(freq: str, history: int, horizon: int) -> SeriesPlot:
    ds = pd.date_range("2024-03-01", periods=history + horizon, freq=freq).to_numpy()
    y = np.sin(np.arange(len(ds)))
    fc = Forecast(
        ds[history - 1], y[history - 1], ds[history:], y[history:], y[history:] - 1, y[history:] + 1
    )
    return SeriesPlot("s", ds[:history], y[:history], [fc], ylabel="sales")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("freq", "history", "labels"),
    [
        ("h", 72, {"Mar 01", "12:00"}),  # four days: labelled hours, the date at midnight
        ("h", 240, {"Mar 01", "Mar 05"}),  # eleven days: dates, unlabelled 6-hour ticks
        ("D", 60, {"Mar", "Apr"}),
    ],
)
def test_time_axis_ticks(freq, history, labels):
    fig = build_figure([one_panel(freq, history, 24)], freq)
    fig.canvas.draw()
    ax = fig.axes[0]
    shown = {t.get_text() for t in ax.get_xticklabels()}
    assert labels <= shown, shown
    hourly = isinstance(ax.xaxis.get_major_locator(), mdates.HourLocator)
    assert hourly == (freq == "h" and history == 72)
    assert ax.get_ylabel() == "sales"
    if history == 240:
        assert len(ax.xaxis.get_minorticklocs()) > len(ax.xaxis.get_majorticklocs())


def test_stamp_writes_the_time_only_for_sub_daily_data():
    assert stamp("2024-03-01 13:00", "h") == "2024-03-01 13:00"
    assert stamp("2024-03-01", "D") == "2024-03-01"
    assert stamp("2024-03-01", "MS") == "2024-03-01"
