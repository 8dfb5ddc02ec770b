"""Filled steps are named: their dates, their count per series, and their likely cause
(data.fills, through the real `inspect` and `train`)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from helpers import TINY, invoke, runner

from lstmcast.cli import app
from lstmcast.data.fills import describe_fills

# Market holidays that fall on the same day each year (when it is a weekday).
FIXED = ("01-01", "07-04", "12-25")


def stock_prices(tmp_path, tickers=("AAPL",), extra_closed=None, start="2017-01-02") -> tuple:
    """Business-day closes from `start` to 2024 without the FIXED holidays (and, per ticker, the
    days in `extra_closed`); (path, the dates left out of the first ticker)."""
    bdays = pd.bdate_range(start, "2024-12-31")
    holidays = bdays[bdays.strftime("%m-%d").isin(FIXED)]
    rng = np.random.default_rng(0)
    parts = []
    for k, ticker in enumerate(tickers):
        closed = holidays.union(pd.DatetimeIndex((extra_closed or {}).get(ticker, [])))
        days = bdays.difference(closed)
        close = 100 + k * 50 + np.cumsum(rng.normal(0, 1, len(days)))
        parts.append(
            pd.DataFrame({"ticker": ticker, "Date": days.strftime("%Y-%m-%d"), "Close": close})
        )
    frame = pd.concat(parts)
    if len(tickers) == 1:
        frame = frame.drop(columns="ticker")
    path = tmp_path / "prices.csv"
    frame.to_csv(path, index=False)
    return path, holidays


def inspect_json(path, *args):
    result = runner.invoke(app, ["inspect", str(path), "--json", *map(str, args)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_holidays_are_named_with_their_dates_and_the_honest_option(tmp_path):
    path, holidays = stock_prices(tmp_path)
    doc = inspect_json(path)
    assert doc["frequency"] == "B" and doc["values_filled"] == len(holidays)
    first = ", ".join(holidays[:5].strftime("%Y-%m-%d"))
    assert doc["warnings"] == [
        f"filled {len(holidays)} missing steps by linear interpolation: {first} and "
        f"{len(holidays) - 5} more"
    ]
    (note,) = doc["notes"]
    assert note.startswith("the filled days recur every year (Jan 1, Jul 4, Dec 25): holidays")
    assert "pass --max-gap 0 to refuse any fill" in note
    # The option named does what the note says: no fill, and an error naming the gap.
    result = runner.invoke(app, ["inspect", str(path), "--max-gap", "0"])
    assert result.exit_code == 3
    assert "has a gap of 1 missing step; at most 0 are filled" in result.stderr
    table = runner.invoke(app, ["inspect", str(path)])
    assert f"filled {len(holidays)} missing steps" in table.stdout and "note" in table.stdout


def test_fills_are_counted_per_series_most_first(tmp_path):
    strike = pd.bdate_range("2022-03-07", periods=3)  # one exchange closed three more days
    path, holidays = stock_prices(tmp_path, ("AAA", "BBB"), {"BBB": strike})
    doc = inspect_json(path)
    n = len(holidays)
    assert doc["values_filled"] == 2 * n + 3
    assert doc["columns"]["id"] == "ticker"  # guessed: see test_spreadsheet_files
    assert doc["warnings"][0].endswith(f"(per series, most first: 'BBB' {n + 3}, 'AAA' {n})")


def test_weekends_filled_on_a_daily_grid_suggest_business_days(tmp_path):
    days = pd.date_range("2024-01-01", periods=120, freq="D")
    kept = days[(days.dayofweek < 5) | (days == days[5])]  # one Saturday row slipped in
    path = tmp_path / "daily.csv"
    pd.DataFrame({"ds": kept.strftime("%Y-%m-%d"), "y": np.arange(len(kept), dtype=float)}).to_csv(
        path, index=False
    )
    doc = inspect_json(path)
    assert doc["frequency"] == "D"
    assert doc["notes"] == [
        "the filled days are weekends: if the data has business days only, pass --freq B "
        "(and remove its weekend rows, if any)"
    ]
    assert "2024-01-07" in doc["warnings"][0]  # the first Sunday, a date


def test_no_note_when_the_fills_show_no_pattern(tmp_path):
    days = pd.date_range("2024-01-01", periods=60, freq="h")
    path = tmp_path / "hourly.csv"
    frame = pd.DataFrame({"ds": days, "y": np.sin(np.arange(60.0))}).drop(index=[10, 30])
    frame.to_csv(path, index=False)
    doc = inspect_json(path)
    assert doc["warnings"] == [
        "filled 2 missing steps by linear interpolation: 2024-01-01T10:00:00, 2024-01-02T06:00:00"
    ]
    assert doc["notes"] == []


@pytest.mark.slow
def test_train_warns_with_the_dates_filled(tmp_path):
    path, holidays = stock_prices(tmp_path, start="2023-06-01")
    model = tmp_path / "m.lstmcast"
    result = invoke("train", path, "--model", model, *TINY, "--max-steps", "20", "--seed", "1")
    first = holidays[0].strftime("%Y-%m-%d")
    assert f"warning: filled {len(holidays)} missing steps by linear interpolation: {first}" in (
        result.stderr
    )


def test_freq_without_a_grid_is_a_usage_error(tmp_path):
    path, _ = stock_prices(tmp_path)
    for freq in ("C", "2B", "BMS"):
        result = runner.invoke(app, ["inspect", str(path), "--freq", freq])
        assert result.exit_code == 2, result.output
        assert f"--freq {freq}: lstmcast has no grid for this frequency" in result.stderr


def test_describe_fills_of_a_panel_of_three():
    # Three daily series back to back (lengths 5, 4, 6); the second has no fill.
    offsets = np.array([0, 5, 9, 15])
    first = np.array(["2024-01-01", "2024-02-01", "2024-03-01"], dtype="datetime64[ns]")
    fills = describe_fills(
        np.array([1, 3, 10, 11, 12]), offsets, np.array(["a", "b", "c"]), first, "D"
    )
    assert fills.warning == (
        "filled 5 missing steps by linear interpolation: 2024-01-02, 2024-01-04, 2024-03-02, "
        "2024-03-03, 2024-03-04 (per series, most first: 'c' 3, 'a' 2)"
    )
    assert fills.note is None
