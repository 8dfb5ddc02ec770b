"""Layout inference, frequency inference, gap filling and every data error of loading a table."""

import numpy as np
import pandas as pd
import pytest

from lstmcast.config import DataSpec
from lstmcast.data.columns import ColumnRoles, resolve_columns
from lstmcast.data.freq import future_dates, grid_ordinals, infer_freq, season_length
from lstmcast.data.grid import MIN_LENGTH
from lstmcast.data.io import read_table
from lstmcast.data.load import load
from lstmcast.errors import DataError, UsageError


def days(n, start="2024-01-01", freq="D"):
    return pd.date_range(start, periods=n, freq=freq)


def long_frame(lengths=(4, 3), ids=("a", "b"), id_col="unique_id", time_col="ds", y_col="y"):
    parts = [
        pd.DataFrame({id_col: i, time_col: days(n), y_col: np.arange(n, dtype=float) + 10 * k})
        for k, (i, n) in enumerate(zip(ids, lengths, strict=True))
    ]
    return pd.concat(parts, ignore_index=True)


# ---------------------------------------------------------------- layouts


def test_long_layout():
    panel = load(long_frame())
    assert panel.columns == ColumnRoles("long", "ds", ("y",), "unique_id")
    assert panel.ids.tolist() == ["a", "b"]
    assert panel.lengths.tolist() == [4, 3]
    assert panel.offsets.tolist() == [0, 4, 7]
    assert panel.values.dtype == np.float32
    assert panel.series(1).tolist() == [10.0, 11.0, 12.0]
    assert panel.freq == "D"
    assert panel.first.dtype == np.dtype("datetime64[ns]")
    assert list(pd.DatetimeIndex(panel.first)) == list(pd.to_datetime(["2024-01-01"] * 2))
    assert list(pd.DatetimeIndex(panel.last)) == list(pd.to_datetime(["2024-01-04", "2024-01-03"]))


@pytest.mark.parametrize(
    "id_col", ["unique_id", "id", "series", "series_id", "item_id", "ts_id", "key", "ID"]
)
def test_long_layout_id_aliases(id_col):
    cols = resolve_columns(long_frame(id_col=id_col), DataSpec())
    assert cols == ColumnRoles("long", "ds", ("y",), id_col)


@pytest.mark.parametrize(
    "time_col",
    ["ds", "date", "datetime", "timestamp", "time", "date_time", "period", "Date", "DS"],
)
def test_time_aliases(time_col):
    df = pd.DataFrame({time_col: days(5).astype(str), "sales": np.arange(5.0)})
    panel = load(df)
    assert panel.columns == ColumnRoles("single", time_col, ("sales",))
    assert panel.freq == "D"


@pytest.mark.parametrize("target", ["y", "value", "target", "values", "Y"])
def test_target_aliases_beat_other_numeric_columns(target):
    df = pd.DataFrame({"ds": days(5), "price": np.arange(5.0), target: np.arange(5.0) * 2})
    cols = resolve_columns(df, DataSpec())
    assert cols == ColumnRoles("single", "ds", (target,))
    df["unique_id"] = "s"
    assert resolve_columns(df, DataSpec()) == ColumnRoles("long", "ds", (target,), "unique_id")


def test_long_layout_with_one_unnamed_numeric_target():
    df = long_frame(y_col="sales")
    assert resolve_columns(df, DataSpec()) == ColumnRoles("long", "ds", ("sales",), "unique_id")


def test_long_layout_with_several_numeric_columns_is_ambiguous():
    df = long_frame(y_col="sales")
    df["price"] = 1.0
    with pytest.raises(DataError, match="target column is ambiguous: candidates are sales, price"):
        resolve_columns(df, DataSpec())


def test_single_layout_date_close():
    df = pd.DataFrame({"Date": days(6, freq="B").astype(str), "Close": [1.0, 2, 3, 4, 5, 6]})
    panel = load(df)
    assert panel.columns == ColumnRoles("single", "Date", ("Close",))
    assert panel.ids.tolist() == ["Close"]


def test_wide_layout_keeps_column_order():
    df = pd.DataFrame(
        {"ds": days(5), "north": np.arange(5.0), "south": np.arange(5) * 2, "east": 3.0}
    )
    panel = load(df)
    assert panel.columns == ColumnRoles("wide", "ds", ("north", "south", "east"))
    assert panel.ids.tolist() == ["north", "south", "east"]
    assert panel.lengths.tolist() == [5, 5, 5]
    assert panel.series(1).tolist() == [0.0, 2.0, 4.0, 6.0, 8.0]


def test_wide_layout_series_may_start_late():
    df = pd.DataFrame({"ds": days(6), "a": [np.nan, 1, 2, 3, 4, 5.0], "b": np.arange(6.0)})
    panel = load(df)
    assert panel.lengths.tolist() == [5, 6]
    assert pd.Timestamp(panel.first[0]) == pd.Timestamp("2024-01-02")
    assert panel.filled == 0
    assert panel.warnings == ["dropped 1 row with an empty target"]


def test_time_column_found_by_content_and_by_dtype():
    df = pd.DataFrame({"when": days(4).astype(str), "sales": np.arange(4.0)})
    assert resolve_columns(df, DataSpec()).time_col == "when"
    df = pd.DataFrame({"sales": np.arange(4.0), "stamp": days(4)})
    assert resolve_columns(df, DataSpec()).time_col == "stamp"


def test_no_time_column():
    df = pd.DataFrame({"a": ["x", "y", "z"], "b": [1.0, 2, 3]})
    with pytest.raises(DataError, match=r"no time column found \(columns: a, b\)") as info:
        resolve_columns(df, DataSpec())
    assert "--time-col" in info.value.hint


def test_no_numeric_column():
    df = pd.DataFrame({"ds": days(3), "name": ["x", "y", "z"]})
    with pytest.raises(DataError, match="no numeric value column") as info:
        resolve_columns(df, DataSpec())
    assert "--target" in info.value.hint


# ---------------------------------------------------------------- overrides


def test_overrides_pick_every_column():
    df = pd.DataFrame(
        {
            "shop": ["a"] * 3 + ["b"] * 3,
            "when": list(days(3).astype(str)) * 2,
            "sales": np.arange(6.0),
            "price": 1.0,
            "ds": "not a date",
        }
    )
    spec = DataSpec(time_col="when", target="sales", id_col="shop")
    panel = load(df, spec)
    assert panel.columns == ColumnRoles("long", "when", ("sales",), "shop")
    assert panel.ids.tolist() == ["a", "b"]
    assert panel.series(1).tolist() == [3.0, 4.0, 5.0]


def test_override_time_and_id_columns_ignore_case():
    df = long_frame(id_col="shop", time_col="when")
    cols = resolve_columns(df, DataSpec(time_col="WHEN", id_col="Shop"))
    assert cols == ColumnRoles("long", "when", ("y",), "shop")


def test_override_target_ignores_case_like_the_other_overrides():
    # BUG: resolve_columns checks --target case-insensitively but keeps the user's spelling,
    # so loading later failed with KeyError 'close' (CLI: "unexpected KeyError", exit 1).
    df = pd.DataFrame({"Date": days(5), "Open": 1.0, "Close": np.arange(5.0), "Volume": 7})
    panel = load(df, DataSpec(target="close"))
    assert panel.columns.targets == ("Close",)
    assert panel.ids.tolist() == ["Close"]


def test_several_targets_make_a_wide_panel():
    df = pd.DataFrame({"ds": days(4), "a": 1.0, "b": 2.0, "c": 3.0})
    panel = load(df, DataSpec(target="c, a"))
    assert panel.columns == ColumnRoles("wide", "ds", ("c", "a"))
    assert panel.ids.tolist() == ["c", "a"]


def test_unknown_override_column():
    df = pd.DataFrame({"ds": days(4), "y": 1.0})
    for spec, flag in [
        (DataSpec(target="nope"), "--target"),
        (DataSpec(time_col="nope"), "--time-col"),
        (DataSpec(id_col="nope"), "--id-col"),
    ]:
        with pytest.raises(DataError, match=rf"{flag} nope: no such column \(columns: ds, y\)"):
            load(df, spec)


def test_several_targets_with_an_id_column_is_a_usage_error():
    df = long_frame()
    df["z"] = 1.0
    with pytest.raises(UsageError, match="--target names several columns"):
        resolve_columns(df, DataSpec(target="y,z"))


def test_freq_override_and_bad_freq():
    df = pd.DataFrame({"ds": days(6), "y": np.arange(6.0)})
    assert load(df, DataSpec(freq="D")).freq == "D"
    with pytest.raises(UsageError, match="--freq XYZ: not a pandas frequency") as info:
        load(df, DataSpec(freq="XYZ"))
    assert info.value.exit_code == 2


# ---------------------------------------------------------------- OHLCV


def ohlcv():
    return pd.DataFrame(
        {
            "Date": days(5, freq="B").astype(str),
            "Open": [1.0, 2, 3, 4, 5],
            "High": [2.0, 3, 4, 5, 6],
            "Low": [0.5, 1, 2, 3, 4],
            "Close": [1.5, 2.5, 3.5, 4.5, 5.5],
            "Volume": [100, 200, 300, 400, 500],
        }
    )


def test_ohlcv_is_ambiguous_and_names_the_candidates():
    with pytest.raises(DataError) as info:
        load(ohlcv())
    err = info.value
    for name in ("Open", "High", "Low", "Close", "Volume"):
        assert name in err.message
    assert "--target" in err.hint
    assert "--target Close" in err.hint
    assert err.exit_code == 3


def test_ohlcv_with_target_is_one_series():
    panel = load(ohlcv(), DataSpec(target="Close"))
    assert panel.columns == ColumnRoles("single", "Date", ("Close",))
    assert panel.values.tolist() == [1.5, 2.5, 3.5, 4.5, 5.5]


# ---------------------------------------------------------------- frequencies


@pytest.mark.parametrize(
    "freq, start",
    [
        ("h", "2024-01-01 05:00"),
        ("15min", "2024-01-01 00:45"),
        ("D", "2024-01-01"),
        ("W-SUN", "2024-01-07"),
        ("W-WED", "2024-01-03"),
        ("MS", "2020-01-01"),
        ("ME", "2020-01-31"),
        ("QS-JAN", "2020-01-01"),
        ("QE-DEC", "2020-03-31"),
        ("QE-NOV", "2020-02-29"),
        ("YS-JAN", "2000-01-01"),
        ("YE-DEC", "2000-12-31"),
    ],
)
@pytest.mark.parametrize("as_text", [False, True], ids=["datetime", "text"])
def test_frequency_inferred(freq, start, as_text):
    ts = pd.date_range(start, periods=30, freq=freq)
    df = pd.DataFrame({"ds": ts.astype(str) if as_text else ts, "y": np.arange(30.0)})
    panel = load(df)
    assert panel.freq == freq
    assert panel.lengths.tolist() == [30]
    assert panel.filled == 0
    assert pd.Timestamp(panel.first[0]) == ts[0]
    assert pd.Timestamp(panel.last[0]) == ts[-1]


def business_days_with_holidays():
    """Eight weeks of business days with two holidays (a Monday and a Wednesday) removed."""
    bdays = pd.bdate_range("2024-01-01", periods=40)
    holidays = pd.to_datetime(["2024-01-15", "2024-02-07"])
    assert set(holidays) <= set(bdays)
    return bdays, bdays.drop(holidays)


def test_business_days_with_holidays():
    bdays, kept = business_days_with_holidays()
    panel = load(pd.DataFrame({"ds": kept, "y": np.arange(len(kept), dtype=float)}))
    assert panel.freq == "B"
    assert panel.lengths.tolist() == [40]
    assert panel.filled == 2
    assert panel.warnings == [
        "filled 2 missing steps by linear interpolation: 2024-01-15, 2024-02-07"
    ]
    assert panel.notes == []  # one year: nothing recurs
    assert panel.season == 5
    # The holiday gets the midpoint of its neighbours: 2024-01-15 sits between rows 9 and 10.
    assert panel.values[10] == pytest.approx((9 + 10) / 2)


def test_business_days_from_a_csv_file(write_csv):
    _, kept = business_days_with_holidays()
    df = pd.DataFrame({"Date": kept.strftime("%Y-%m-%d"), "Close": np.linspace(100, 120, 38)})
    panel = load(read_table(write_csv(df)))
    assert (panel.freq, panel.filled, panel.columns.layout) == ("B", 2, "single")


def test_interpolation_is_linear_and_counted():
    ts = days(20).delete([5, 6, 7])
    y = np.arange(20.0)[np.r_[0:5, 8:20]] * 3
    panel = load(pd.DataFrame({"ds": ts, "y": y}))
    assert panel.filled == 3
    np.testing.assert_allclose(panel.values, np.arange(20.0) * 3)


@pytest.mark.parametrize(
    "freq, start, season", [("W-SUN", "2020-01-05", 52), ("MS", "2020-01-01", 12)]
)
def test_calendar_gaps_are_filled(freq, start, season):
    ts = pd.date_range(start, periods=30, freq=freq).delete([10, 11, 12])
    panel = load(pd.DataFrame({"ds": ts, "y": np.arange(27.0)}))
    assert (panel.freq, panel.lengths.tolist(), panel.filled) == (freq, [30], 3)
    assert panel.season == season


# ---------------------------------------------------------------- time zones


def test_offsets_become_utc_naive():
    df = pd.DataFrame(
        {
            "ds": [
                "2024-03-10T01:00:00-05:00",
                "2024-03-10T02:00:00-05:00",
                "2024-03-10T03:00:00-05:00",
            ],
            "y": [1.0, 2.0, 3.0],
        }
    )
    panel = load(df)
    assert panel.first.dtype == np.dtype("datetime64[ns]")
    assert pd.Timestamp(panel.first[0]) == pd.Timestamp("2024-03-10 06:00")
    assert pd.Timestamp(panel.last[0]) == pd.Timestamp("2024-03-10 08:00")
    assert panel.freq == "h"


def test_daylight_saving_jump_is_continuous_in_utc():
    # US clocks jump from 02:00 to 03:00 on 2024-03-10: local 01:00 and 03:00 are an hour apart.
    df = pd.DataFrame(
        {
            "ds": [
                "2024-03-10T00:00:00-05:00",
                "2024-03-10T01:00:00-05:00",
                "2024-03-10T03:00:00-04:00",
                "2024-03-10T04:00:00-04:00",
            ],
            "y": [1.0, 2.0, 3.0, 4.0],
        }
    )
    panel = load(df)
    assert (panel.freq, panel.lengths.tolist(), panel.filled) == ("h", [4], 0)
    assert pd.Timestamp(panel.first[0]) == pd.Timestamp("2024-03-10 05:00")


def test_mixed_offsets_and_z():
    df = pd.DataFrame(
        {
            "ds": [
                "2024-01-01T01:00:00+01:00",
                "2024-01-01T01:00:00Z",
                "2024-01-01T03:00:00+01:00",
            ],
            "y": [1.0, 2.0, 3.0],
        }
    )
    panel = load(df)
    assert pd.Timestamp(panel.first[0]) == pd.Timestamp("2024-01-01 00:00")
    assert panel.lengths.tolist() == [3]


def test_zone_aware_parquet_column(write_parquet):
    ts = pd.date_range("2024-03-30", periods=48, freq="h", tz="Europe/Berlin")  # crosses DST
    path = write_parquet(pd.DataFrame({"ds": ts, "y": np.arange(48.0)}))
    panel = load(read_table(path))
    assert (panel.freq, panel.lengths.tolist(), panel.filled) == ("h", [48], 0)
    assert pd.Timestamp(panel.first[0]) == pd.Timestamp("2024-03-29 23:00")


# ---------------------------------------------------------------- data errors


def test_non_numeric_target_names_column_and_value():
    df = pd.DataFrame({"ds": days(40).astype(str), "sales": ["1.5"] * 39 + ["n/a!"]})
    with pytest.raises(DataError) as info:
        load(df, DataSpec(target="sales"))
    assert "target column 'sales' is not numeric: 'n/a!' in data row 40" == info.value.message


def test_boolean_target():
    df = pd.DataFrame({"ds": days(3), "flag": [True, False, True]})
    with pytest.raises(DataError, match="true/false"):
        load(df, DataSpec(target="flag"))


def test_unparseable_date_names_column_value_and_row():
    df = pd.DataFrame({"ds": ["2024-01-01", "2024-01-02", "yesterday", "2024-01-04"], "y": 1.0})
    with pytest.raises(
        DataError,
        match=r"time column 'ds' has a value that is not a date: 'yesterday' \(data row 3\)",
    ):
        load(df)


def test_empty_timestamp():
    df = pd.DataFrame({"ds": ["2024-01-01", "", "2024-01-03"], "y": 1.0})
    with pytest.raises(DataError, match="time column 'ds' is empty in data row 2"):
        load(df)


def test_empty_id():
    df = long_frame()
    df.loc[5, "unique_id"] = None
    with pytest.raises(DataError, match="id column 'unique_id' is empty in data row 6"):
        load(df)


def test_categorical_ids_give_the_same_panel_as_text_ids():
    # Categories in another order than the rows, and one unused: series still come in the
    # order of first appearance and the unused category is no series.
    df = long_frame(lengths=(4, 3, 5), ids=("b", "c", "a"))
    cat = df.assign(unique_id=pd.Categorical(df["unique_id"], categories=["z", "a", "b", "c"]))
    a, b = load(df), load(cat)
    assert b.ids.tolist() == ["b", "c", "a"] and b.ids.dtype == object
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.offsets, b.offsets)
    cat.loc[4, "unique_id"] = None
    with pytest.raises(DataError, match="id column 'unique_id' is empty in data row 5"):
        load(cat)


def test_ids_are_compared_as_text():
    # 1 and "1" are the same series, as they were when every id was turned into text first.
    df = pd.DataFrame({"unique_id": [1, 1, "1", 2, 2, 2], "ds": days(3).append(days(3)), "y": 1.0})
    panel = load(df)
    assert panel.ids.tolist() == ["1", "2"] and panel.lengths.tolist() == [3, 3]


def test_empty_text_id_is_an_error():
    df = long_frame()
    df["unique_id"] = df["unique_id"].astype("str")
    df.loc[2, "unique_id"] = ""
    with pytest.raises(DataError, match="id column 'unique_id' is empty in data row 3"):
        load(df)


def test_duplicate_timestamps_name_the_series():
    df = long_frame(lengths=(4, 4), ids=("first", "second"))
    df.loc[6, "ds"] = df.loc[5, "ds"]
    with pytest.raises(
        DataError,
        match=r"series 'second' has two rows for 2024-01-02 with different values \(data rows 6 and 7\)$",
    ) as info:
        load(df)
    assert "--id-col" not in info.value.hint


@pytest.mark.slow
@pytest.mark.parametrize("chunk", [1, 2, 3, 5])
def test_chunked_scans_find_the_same_rows_as_whole_ones(monkeypatch, chunk):
    # Loading scans long tables a chunk at a time; with tiny chunks every boundary case
    # (a series, a gap, a duplicate or a bad date across two chunks) comes up here.
    import lstmcast.data.freq
    import lstmcast.data.grid
    import lstmcast.data.parse

    df = long_frame(lengths=(6, 5, 7), ids=("a", "b", "c")).sample(frac=1, random_state=0)
    df = df.drop(index=[2, 14]).assign(ds=lambda d: d["ds"].astype(str))  # two gaps
    whole = load(df)
    monkeypatch.setattr(lstmcast.data.parse, "CHUNK", chunk)
    monkeypatch.setattr(lstmcast.data.grid, "CHUNK", chunk)
    monkeypatch.setattr(lstmcast.data.freq, "CHUNK", chunk)
    part = load(df)
    np.testing.assert_array_equal(part.values, whole.values)
    np.testing.assert_array_equal(part.offsets, whole.offsets)
    assert (part.ids.tolist(), part.freq, part.filled) == (whole.ids.tolist(), "D", 2)
    dup = long_frame(lengths=(4, 4), ids=("first", "second"))
    dup.loc[[6, 7], "ds"] = dup.loc[5, "ds"]
    with pytest.raises(
        DataError, match=r"series 'second' .* \(data rows 6 and 7; 2 such rows in all\)"
    ):
        load(dup)
    text = long_frame().assign(ds=lambda d: d["ds"].astype(str))
    text.loc[1, "ds"], text.loc[5, "ds"] = "", "yesterday"  # the bad date wins over the empty one
    with pytest.raises(DataError, match=r"not a date: 'yesterday' \(data row 6\)"):
        load(text)
    text.loc[5, "ds"] = "2024-01-02"
    with pytest.raises(DataError, match="time column 'ds' is empty in data row 2"):
        load(text)


def test_duplicates_in_a_single_series_suggest_an_id_column():
    df = pd.DataFrame({"ds": list(days(3)) * 2, "sales": np.arange(6.0)})
    with pytest.raises(DataError, match="series 'sales' has two rows for 2024-01-01") as info:
        load(df)
    assert "--id-col" in info.value.hint


def test_too_short_series_is_named():
    df = long_frame(lengths=(5, MIN_LENGTH - 1), ids=("long_one", "short_one"))
    with pytest.raises(DataError, match=r"series 'short_one' has 2 points; at least 3 are needed"):
        load(df)


def test_three_points_are_enough():
    assert load(long_frame(lengths=(3, 3))).lengths.tolist() == [3, 3]


def test_gap_longer_than_max_gap():
    ts = days(40).delete(range(10, 18))  # 8 missing days; a daily season is 7
    df = pd.DataFrame({"ds": ts, "y": np.arange(32.0)})
    with pytest.raises(
        DataError, match="series 'y' has a gap of 8 missing steps; at most 7 are filled"
    ) as info:
        load(df)
    assert "--max-gap 8" in info.value.hint
    panel = load(df, DataSpec(max_gap=8))
    assert (panel.lengths.tolist(), panel.filled) == ([40], 8)


def test_gap_of_one_season_is_filled_by_default():
    ts = days(40).delete(range(10, 17))
    panel = load(pd.DataFrame({"ds": ts, "y": np.arange(33.0)}))
    assert panel.filled == 7


def test_max_gap_zero_fills_nothing():
    ts = days(10).delete([4])
    with pytest.raises(DataError, match="gap of 1 missing step; at most 0"):
        load(pd.DataFrame({"ds": ts, "y": np.arange(9.0)}), DataSpec(max_gap=0))


def test_gap_error_names_the_right_series():
    ok = pd.DataFrame({"unique_id": "ok", "ds": days(30).delete([3]), "y": 1.0})
    bad = pd.DataFrame({"unique_id": "gappy", "ds": days(30).delete(range(5, 15)), "y": 2.0})
    with pytest.raises(DataError, match="series 'gappy' has a gap of 10"):
        load(pd.concat([ok, bad], ignore_index=True))


def test_mostly_missing_series_is_named():
    sparse = list(days(10)) + list(pd.to_datetime(["2024-01-31", "2024-02-01"]))
    df = pd.concat(
        [
            pd.DataFrame({"unique_id": "dense", "ds": days(20), "y": 1.0}),
            pd.DataFrame({"unique_id": "sparse", "ds": sparse, "y": 2.0}),
        ],
        ignore_index=True,
    )
    with pytest.raises(DataError, match="series 'sparse' is mostly missing: 20 of 32 daily steps"):
        load(df, DataSpec(max_gap=100))


def test_off_grid_timestamp():
    ts = list(days(10, freq="h"))
    ts[5] = pd.Timestamp("2024-01-01 10:17")
    ts.sort()
    with pytest.raises(
        DataError,
        match=r"series 'y' has 1 timestamp off the hourly grid, e.g. 2024-01-01T10:17:00",
    ) as info:
        load(pd.DataFrame({"ds": ts, "y": np.arange(10.0)}))
    assert "--freq" in info.value.hint


def test_off_grid_weekday_in_weekly_data():
    ts = list(pd.date_range("2024-01-07", periods=20, freq="W-SUN"))
    ts[8] = ts[8] + pd.Timedelta(days=1)  # a Monday among Sundays
    with pytest.raises(DataError, match="off the weekly \\(Sun\\) grid"):
        load(pd.DataFrame({"ds": ts, "y": np.arange(20.0)}))


def test_series_on_different_phases_are_each_on_their_own_grid():
    a = pd.DataFrame({"unique_id": "a", "ds": days(5, "2024-01-01 00:00", "h"), "y": 1.0})
    b = pd.DataFrame({"unique_id": "b", "ds": days(5, "2024-01-01 00:30", "h"), "y": 2.0})
    panel = load(pd.concat([a, b], ignore_index=True))
    assert (panel.freq, panel.lengths.tolist()) == ("h", [5, 5])


def test_irregular_calendar_cannot_infer_a_frequency():
    ts = pd.date_range("2024-01-15", periods=6, freq="MS") + pd.Timedelta(days=14)
    with pytest.raises(DataError, match="cannot infer a frequency") as info:
        load(pd.DataFrame({"ds": ts, "y": np.arange(6.0)}))
    assert "--freq" in info.value.hint


def test_series_with_no_values_is_named():
    df = long_frame(lengths=(4, 4), ids=("full", "hollow"))
    df.loc[df["unique_id"] == "hollow", "y"] = np.nan
    with pytest.raises(
        DataError, match=r"series 'hollow' has no values \(target 'y' is empty in every row\)"
    ):
        load(df)


def test_empty_target_rows_are_dropped_and_filled():
    df = pd.DataFrame({"ds": days(6).astype(str), "y": ["1", "2", "", "4", "5", "6"]})
    panel = load(df)
    assert panel.values.tolist() == [1, 2, 3, 4, 5, 6]
    assert panel.filled == 1
    assert panel.warnings[0] == "dropped 1 row with an empty target"


@pytest.mark.parametrize("bad", [np.inf, -np.inf, "inf", "-Infinity"])
def test_infinite_value(bad):
    y = [1.0, 2.0, bad, 4.0] if not isinstance(bad, str) else ["1", "2", bad, "4"]
    with pytest.raises(DataError, match="target column 'y' has an infinite value in data row 3"):
        load(pd.DataFrame({"ds": days(4), "y": y}))


@pytest.mark.parametrize(
    "times", [[1, 2, 3, 4], [1.5, 2.5, 3.5, 4.5], [20240101, 20240102, 20240103, 20240104]]
)
def test_numeric_time_column_that_is_not_years(times):
    with pytest.raises(DataError, match="time column 'ds' holds numbers, not dates") as info:
        load(pd.DataFrame({"ds": times, "y": [1.0, 2, 3, 4]}))
    assert "--time-col" in info.value.hint


def test_integer_years_are_yearly():
    panel = load(pd.DataFrame({"year": [2001, 2002, 2003, 2005], "sales": [1.0, 2, 3, 5]}))
    assert (panel.freq, panel.lengths.tolist(), panel.filled) == ("YS-JAN", [5], 1)
    assert pd.Timestamp(panel.first[0]) == pd.Timestamp("2001-01-01")
    assert panel.values.tolist() == [1, 2, 3, 4, 5]


def test_integer_years_from_csv(write_csv):
    path = write_csv("year,sales\n1999,1\n2000,2\n2001,3\n")
    panel = load(read_table(path))
    assert panel.columns == ColumnRoles("single", "year", ("sales",))
    assert panel.freq == "YS-JAN"


def test_empty_table():
    with pytest.raises(DataError, match="the table has no rows"):
        load(pd.DataFrame({"ds": [], "y": []}))


@pytest.mark.parametrize("ids", [["007", "012"], ["NA", "EU"]], ids=["leading-zeros", "NA"])
def test_csv_series_ids_are_kept_as_written(write_csv, ids):
    # BUG: read_table lets pandas guess types for every column, so the id "007" becomes 7
    # (forecasts then come back for series '7') and the id "NA" (North America) becomes
    # missing, which loading rejects as "id column 'unique_id' is empty".
    rows = "".join(f"{i},2024-01-0{d},{d}\n" for i in ids for d in range(1, 5))
    panel = load(read_table(write_csv("unique_id,ds,y\n" + rows)))
    assert panel.ids.tolist() == ids


# ---------------------------------------------------------------- Panel helpers


def test_to_frame_and_summary():
    df = long_frame(lengths=(5, 3), ids=("b", "a"))
    panel = load(df)
    back = panel.to_frame()
    assert list(back.columns) == ["unique_id", "ds", "y"]
    assert back["unique_id"].tolist() == df["unique_id"].tolist()
    assert (back["ds"].to_numpy() == df["ds"].to_numpy()).all()
    summary = panel.summary()
    assert summary["series"] == 2
    assert summary["rows"] == 8
    assert summary["length"] == {"min": 3, "median": 4.0, "max": 5}
    assert summary["frequency"] == "D"
    assert summary["first_timestamp"] == "2024-01-01"  # ISO 8601; dates: all at midnight
    assert summary["last_timestamp"] == "2024-01-05"


def test_head_cuts_each_series():
    panel = load(long_frame(lengths=(6, 4)))
    cut = panel.head(np.array([3, 10]))
    assert cut.lengths.tolist() == [3, 4]
    assert cut.series(0).tolist() == [0, 1, 2]
    assert pd.Timestamp(cut.last[0]) == pd.Timestamp("2024-01-03")


# ---------------------------------------------------------------- freq helpers


@pytest.mark.parametrize(
    "freq, season",
    [("h", 24), ("30min", 48), ("15min", 96), ("D", 7), ("B", 5), ("W-SUN", 52), ("MS", 12),
     ("ME", 12), ("QS-JAN", 4), ("QE-DEC", 4), ("YS-JAN", 1), ("2D", 1), ("7h", 1)],
)  # fmt: skip
def test_season_length(freq, season):
    assert season_length(freq) == season


@pytest.mark.parametrize(
    "freq, last, expected",
    [
        ("B", "2024-01-05", ["2024-01-08", "2024-01-09", "2024-01-10"]),  # Friday → Monday
        ("ME", "2024-01-31", ["2024-02-29", "2024-03-31", "2024-04-30"]),
        ("h", "2024-01-01 23:00", ["2024-01-02 00:00", "2024-01-02 01:00", "2024-01-02 02:00"]),
        ("W-SUN", "2024-01-07", ["2024-01-14", "2024-01-21", "2024-01-28"]),
        ("QS-JAN", "2024-10-01", ["2025-01-01", "2025-04-01", "2025-07-01"]),
    ],
)
def test_future_dates(freq, last, expected):
    got = future_dates(pd.Timestamp(last), freq, 3)
    assert list(got) == list(pd.to_datetime(expected))


@pytest.mark.parametrize(
    "freq", ["h", "15min", "D", "B", "W-SUN", "MS", "ME", "QS-JAN", "QE-DEC", "YS-JAN"]
)
def test_grid_ordinals_count_steps(freq):
    ts = pd.date_range("2023-12-29", periods=25, freq=freq).to_numpy(dtype="datetime64[ns]")
    ordinal, on_grid = grid_ordinals(ts, freq)
    assert on_grid.all()
    assert np.diff(ordinal).tolist() == [1] * 24


def test_grid_ordinals_flag_off_calendar_dates():
    ts = pd.to_datetime(["2024-01-05", "2024-01-06", "2024-01-08"]).to_numpy(dtype="datetime64[ns]")
    _, on_grid = grid_ordinals(ts, "B")
    assert on_grid.tolist() == [True, False, True]  # a Saturday is not a business day
    ts = pd.to_datetime(["2024-01-01", "2024-02-15"]).to_numpy(dtype="datetime64[ns]")
    assert grid_ordinals(ts, "MS")[1].tolist() == [True, False]


def test_infer_freq_ignores_steps_across_series():
    a = pd.date_range("2024-01-01", periods=3, freq="D")
    b = pd.date_range("2020-01-01", periods=3, freq="D")
    ts = np.concatenate([a, b]).astype("datetime64[ns]")
    assert infer_freq(ts, np.array([0, 3, 6])) == "D"
    assert infer_freq(ts[:1], np.array([0, 1])) is None
