"""The time axis of plots: hour ticks for sub-daily data, dates otherwise, and labels that
name the month."""

import re

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest

from lstmcast.plot import Forecast, SeriesPlot, build_figure, stamp, tick_labels


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
        ("h", 72, {"00:00\n2 Mar", "12:00"}),  # four days: labelled hours, the date at midnight
        ("h", 240, {"1 Mar\n2024", "5 Mar"}),  # eleven days: dates, unlabelled 6-hour ticks
        ("D", 60, {"Mar\n2024", "Apr"}),
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


SPANS = [  # (first timestamp, steps, frequency): sub-second to yearly data
    ("2024-12-15 10:00", 60, "500ms"),
    ("2024-12-31 20:00", 10, "h"),
    ("2024-12-15", 48, "h"),
    ("2024-11-20", 60, "D"),
    ("2024-06-02", 60, "W-SUN"),
    ("2020-01-01", 60, "MS"),
    ("1990-01-01", 30, "YS"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("start", "steps", "freq"), SPANS)
def test_tick_labels_cannot_be_misread(start, steps, freq):
    """No tick is a bare day number that an offset label would have to explain: days carry
    their month's name, the first tick its year, and the year is repeated where it changes."""
    fig = build_figure([one_panel(freq, steps, 1)], freq)
    fig.canvas.draw()
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels() if t.get_text()]
    assert len(labels) >= 2, labels
    assert re.search(r"\b\d{4}\b", labels[0]), labels  # the year, on the first tick
    months = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
    for label in labels:
        head = label.split("\n")[0]
        assert not re.fullmatch(r"\d{1,2}", head), labels  # a day always has its month
        if re.fullmatch(r"\d{1,2} \w+", head):
            assert re.fullmatch(rf"\d{{1,2}} ({months})", head), labels
    assert fig.axes[0].xaxis.get_offset_text().get_text() == ""


def test_daily_ticks_across_new_year_name_both_months():
    ticks = pd.date_range("2024-12-15", periods=4, freq="7D")
    assert tick_labels(ticks) == ["15 Dec\n2024", "22 Dec", "29 Dec", "5 Jan\n2025"]
    assert tick_labels(pd.date_range("2024-12-31 22:00", periods=3, freq="h")) == [
        "22:00\n31 Dec 2024", "23:00", "00:00\n1 Jan 2025",
    ]  # fmt: skip
    assert tick_labels(pd.date_range("2024-01-01", periods=3, freq="QS")) == [
        "Jan\n2024", "Apr", "Jul",
    ]  # fmt: skip


def test_stamp_writes_the_time_only_for_sub_daily_data():
    assert stamp("2024-03-01 13:00", "h") == "2024-03-01T13:00:00"
    assert stamp("2024-03-01", "D") == "2024-03-01"
    assert stamp("2024-03-01", "MS") == "2024-03-01"
