"""Dates read as written: one format per time column, inferred from all its values."""

from __future__ import annotations

import datetime as dt
import io
import json

import numpy as np
import pandas as pd
import pytest
from helpers import TINY, invoke
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstmcast.data.dates import column_format
from lstmcast.data.load import load
from lstmcast.errors import DataError

START = dt.date(2022, 1, 1)


def dated(fmt: str, n: int = 40, start: dt.date = START, step: int = 1, value="{i}", sep=","):
    """A single-series CSV text `Date<sep>Close` with n dates `step` days apart, in `fmt`."""
    rows = [
        f"{(start + dt.timedelta(days=step * i)).strftime(fmt)}{sep}{value.format(i=i)}"
        for i in range(n)
    ]
    return f"Date{sep}Close\n" + "\n".join(rows) + "\n"


def inspect_json(path, *options):
    return json.loads(invoke("inspect", path, "--json", *options).stdout)


def assert_data_error(result, *fragments):
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: ") and lines[1].startswith("  hint: "), result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


# ------------------------------------------------------------------ inferred from all values


@pytest.mark.parametrize(
    "fmt",
    [
        "%d/%m/%Y",  # day first: 13/01/2022 settles it
        "%m/%d/%Y",  # month first: 01/13/2022 settles it
        "%d.%m.%Y",
        "%d-%m-%Y",
        "%d/%m/%y",
        "%Y-%m-%d",
        "%d/%m/%Y %H:%M",
        "%d.%m.%Y %H:%M:%S",
    ],
)
def test_daily_dates_in_each_form_are_read_as_written(write_csv, fmt):
    summary = inspect_json(write_csv(dated(fmt)))
    assert summary["frequency"] == "D"
    assert summary["rows"] == 40 and summary["values_filled"] == 0
    assert summary["first_timestamp"] == "2022-01-01"
    assert summary["last_timestamp"] == "2022-02-09"


def test_day_first_is_settled_by_a_late_value(write_csv):
    # Only the 13th row shows the order: every earlier value could be either.
    text = dated("%d/%m/%Y", n=14, start=dt.date(2022, 3, 1))
    panel = inspect_json(write_csv(text))
    assert panel["first_timestamp"] == "2022-03-01"
    assert panel["last_timestamp"] == "2022-03-14"


def test_ambiguous_dates_take_the_reading_on_a_regular_grid(write_csv):
    # 01/02/2022 ... 10/02/2022: read day first, ten days in a row; read month first, the
    # 2nd of ten months, which is no grid pandas can extend.
    text = dated("%d/%m/%Y", n=10, start=dt.date(2022, 2, 1))
    summary = inspect_json(write_csv(text))
    assert summary["frequency"] == "D"
    assert summary["first_timestamp"] == "2022-02-01"


@pytest.mark.slow
def test_ambiguous_dates_regular_both_ways_are_refused(runner, write_csv):
    # The 1st of each month, day first, is also the 1st to 12th of January, month first.
    months = "Date,Close\n" + "".join(f"01/{m:02d}/2022,{m}\n" for m in range(1, 13))
    path = write_csv(months)
    from lstmcast.cli import app

    result = runner.invoke(app, ["inspect", str(path)])
    assert_data_error(result, "'Date'", "ambiguous", "--date-format '%d/%m/%Y'", "'%m/%d/%Y'")
    # The hint's remedy works, and each reading gives its own grid.
    assert inspect_json(path, "--date-format", "%d/%m/%Y")["frequency"] == "MS"
    assert inspect_json(path, "--date-format", "%m/%d/%Y")["frequency"] == "D"


@pytest.mark.slow
def test_a_column_mixing_formats_names_the_first_misfit_row(runner, write_csv):
    lines = dated("%d/%m/%Y").splitlines()
    lines[21] = "2022-01-21,20"  # file line 22 (the header is line 1)
    path = write_csv("\n".join(lines) + "\n")
    from lstmcast.cli import app

    result = runner.invoke(app, ["inspect", str(path)])
    assert_data_error(result, "mixes date formats: file line 22 has", "'2022-01-21'")


@pytest.mark.slow
def test_day_first_and_month_first_values_in_one_column_are_an_error(write_csv, runner):
    text = "Date,Close\n13/01/2022,1\n14/01/2022,2\n01/15/2022,3\n"
    from lstmcast.cli import app

    result = runner.invoke(app, ["inspect", str(write_csv(text))])
    assert_data_error(result, "file line 4", "'01/15/2022'", "%d/%m/%Y")


@pytest.mark.slow
def test_date_format_overrides_the_inference(write_csv):
    # ISO-looking text read with an explicit, unusual format: year-day-month.
    text = dated("%Y-%d-%m", n=10)
    summary = inspect_json(write_csv(text), "--date-format", "%Y-%d-%m")
    assert summary["frequency"] == "D"
    assert summary["last_timestamp"] == "2022-01-10"


def test_date_format_that_does_not_fit_names_the_row(runner, write_csv):
    from lstmcast.cli import app

    path = write_csv(dated("%Y-%m-%d", n=5))
    result = runner.invoke(app, ["inspect", str(path), "--date-format", "%d/%m/%Y"])
    assert_data_error(result, "file line 2", "'2022-01-01'", "%d/%m/%Y")


def test_zones_and_years_keep_their_meaning(write_csv):
    zoned = "ds,y\n2024-01-01T01:00+01:00,1\n2024-01-01T02:00+01:00,2\n2024-01-01T03:00+01:00,3\n"
    assert inspect_json(write_csv(zoned))["first_timestamp"] == "2024-01-01T00:00:00"
    years = "year,y\n2019,1\n2020,2\n2021,3\n2022,4\n"
    assert inspect_json(write_csv(years, name="y.csv"))["frequency"] == "YS-JAN"


def test_european_spreadsheet_export(write_csv):
    # Semicolons, dd.mm.yyyy and decimal commas with points between thousands.
    text = dated("%d.%m.%Y", n=20, value="1.2{i:02d},5", sep=";")
    panel = build_panel_from(write_csv(text))
    assert panel.freq == "D" and str(pd.Timestamp(panel.first[0])) == "2022-01-01 00:00:00"
    np.testing.assert_allclose(panel.values[:3], [1200.5, 1201.5, 1202.5])
    small = write_csv(
        "Datum;Wert\n03.01.2022;12,5\n04.01.2022;13,25\n05.01.2022;1.000,5\n", "s.csv"
    )
    panel = build_panel_from(small, "--date-format", "%d.%m.%Y")
    np.testing.assert_allclose(panel.values, [12.5, 13.25, 1000.5])


def build_panel_from(path, *options):
    from lstmcast.api import load
    from lstmcast.config import DataSpec

    fmt = options[1] if options else None
    return load(path, DataSpec(date_format=fmt))


def test_a_large_column_is_still_parsed_chunk_by_chunk(monkeypatch):
    from lstmcast.data import parse

    monkeypatch.setattr(parse, "CHUNK", 7)
    days = pd.date_range("2022-01-01", periods=40, freq="D")
    text = days.strftime("%d/%m/%Y").tolist()
    text[30] = "2022-01-31"
    with pytest.raises(DataError, match=r"mixes date formats: data row 31 has '2022-01-31'"):
        load(pd.DataFrame({"ds": text, "y": np.arange(40.0)}))
    text[30] = days[30].strftime("%d/%m/%Y")
    panel = load(pd.DataFrame({"ds": text, "y": np.arange(40.0)}))
    assert (pd.DatetimeIndex(panel.first) == days[:1]).all() and panel.lengths[0] == 40


# ------------------------------------------------------------- recorded in the model, reused


@pytest.mark.slow
def test_the_date_format_is_recorded_in_the_model_and_reused(tmp_path, write_csv):
    # Trained on day-first dates (settled by the 13th); the nightly file holds only days
    # 1-12, ambiguous on their own, and would be refused without the model's format.
    train_text = "Date,Close\n" + "".join(
        f"{(dt.date(2021, 11, 1) + dt.timedelta(days=i)):%d/%m/%Y},{10 + np.sin(i)}\n"
        for i in range(61)
    )
    data, model = write_csv(train_text), tmp_path / "m.lstmcast"
    invoke("train", data, "--model", model, *TINY, "--horizon", "3", "--lookback", "6")
    header = json.loads(invoke("info", model, "--json").stdout)
    assert header["data_schema"]["date_format"] == "%d/%m/%Y"
    assert "date format         %d/%m/%Y" in invoke("info", model).stdout
    nightly = "Date,Close\n" + "".join(
        f"{(dt.date(2022, 1, 1) + dt.timedelta(days=i)):%d/%m/%Y},{10 + np.sin(i)}\n"
        for i in range(12)
    )
    new = write_csv(nightly, "nightly.csv")
    result = invoke("predict", new, "--model", model, "--format", "csv", "--as-of", "2022-01-13")
    forecast = pd.read_csv(io.StringIO(result.stdout), parse_dates=["ds"])
    assert forecast["ds"].min() == pd.Timestamp("2022-01-13")  # 12 January + 1 day
    # Without the model, the same file is ambiguous.
    refused = invoke("inspect", new, ok=False)
    assert refused.exit_code == 3 and "ambiguous" in refused.stderr


# ------------------------------------------------------------------------ property tests

FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y-%m-%d %H:%M",
           "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M:%S"]  # fmt: skip


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fmt=st.sampled_from(FORMATS),
    start=st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2200, 1, 1)),
    n=st.integers(min_value=3, max_value=60),
    step=st.sampled_from([1, 7]),
)
def test_regular_dates_written_in_a_format_are_read_back_exactly(fmt, start, n, step):
    days = pd.date_range(pd.Timestamp(start), periods=n, freq=f"{step}D")
    text = pd.Series(days.strftime(fmt))
    try:
        chosen = column_format(text.drop_duplicates().astype("string"), "ds")
    except DataError as exc:
        # Refused only when the column is truly ambiguous: both orders read as valid dates.
        assert "ambiguous" in str(exc)
        assert "%d" in fmt and "%Y-%m-%d" not in fmt
        assert (days.day <= 12).all()
        return
    parsed = load(pd.DataFrame({"ds": text, "y": np.arange(float(n))}))
    assert chosen in ("ISO8601", fmt)
    assert pd.Timestamp(parsed.first[0]) == days[0]
    assert pd.Timestamp(parsed.last[0]) == days[-1]


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(
    fmt=st.sampled_from(["%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y"]),
    dates=st.lists(
        st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2030, 12, 31)),
        min_size=1,
        max_size=30,
        unique=True,
    ),
)
def test_a_value_settling_the_order_is_never_misread(fmt, dates):
    # Any set of dates containing a day over 12 is read in its own order, whatever the grid.
    dates.append(dt.date(2031, 1, 13))
    text = pd.Series([d.strftime(fmt) for d in dates], dtype="string")
    assert column_format(text, "ds") == fmt


@pytest.mark.parametrize(
    "third, fragment",
    [("03.01.2022", "'03.01.2022'"), ("2022-01-03", "'2022-01-03'"), ("03/01/2022 10:00", "10:00")],
)
def test_a_misfit_is_named_even_when_the_other_dates_are_ambiguous(
    runner, write_csv, third, fragment
):
    from lstmcast.cli import app

    path = write_csv(f"Date,Close\n01/01/2022,1\n02/01/2022,2\n{third},3\n04/01/2022,4\n")
    result = runner.invoke(app, ["inspect", str(path)])
    assert_data_error(result, "mixes date formats: file line 4 has", fragment)
