"""lstmcast.forecast on its own: the trained model's forecasts, baselines, the output table."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from lstmcast import api, choice, errors, forecast, metrics
from lstmcast.data.load import load

QUANTILES = (0.1, 0.5, 0.9)


def panel_of(series: dict[str, list[float]], ends: dict[str, str], freq: str = "h"):
    """A Panel of the given values, each series ending at its own timestamp on `freq`."""
    frame = pd.concat(
        pd.DataFrame(
            {
                "unique_id": uid,
                "ds": pd.date_range(end=ends[uid], periods=len(values), freq=freq),
                "y": values,
            }
        )
        for uid, values in series.items()
    )
    return load(frame)


@pytest.fixture(scope="module")
def fitted(trained):
    """(model, panel): the shared tiny model, loaded, and the panel of its training data."""
    model, _ = api.load_model(trained.model)
    return model, api.load(trained.data)


# --- forecast_at and forecast_panel -------------------------------------------------------


def test_forecast_at_gives_sorted_quantiles_for_each_window(fitted):
    model, panel = fitted
    series, origin = np.array([0, 2, 2]), np.array([100, 60, 140])
    out = forecast.forecast_at(model, panel, series, origin, 24)
    assert out.shape == (3, 24, len(model.cfg.quantiles)) and out.dtype == np.float32
    assert np.isfinite(out).all()
    assert (np.diff(out, axis=-1) >= 0).all()  # quantiles never cross
    assert not np.allclose(out[1], out[2])  # another origin, another forecast


def test_forecast_at_reads_only_the_values_before_each_origin(fitted):
    model, panel = fitted
    series, origin = np.array([0, 1]), np.array([90, 70])
    before = forecast.forecast_at(model, panel, series, origin, 24)
    future = panel.values.copy()
    for s, o in zip(series, origin, strict=True):
        future[panel.offsets[s] + o : panel.offsets[s + 1]] = 1e6  # the window and after
    changed = dataclasses.replace(panel, values=future)
    np.testing.assert_array_equal(forecast.forecast_at(model, changed, series, origin, 24), before)
    # ...while the last value before the origin matters
    past = panel.values.copy()
    past[panel.offsets[0] + 89] += 50
    moved = forecast.forecast_at(model, dataclasses.replace(panel, values=past), series, origin, 24)
    assert not np.allclose(moved[0], before[0])
    np.testing.assert_array_equal(moved[1], before[1])


def test_forecast_panel_forecasts_from_the_end_of_every_series(fitted):
    model, panel = fitted
    preds = forecast.forecast_panel(model, panel, 24)
    assert preds.shape == (3, 24, 3)
    series = np.arange(3)
    at_end = forecast.forecast_at(model, panel, series, panel.lengths.astype(np.int64), 24)
    np.testing.assert_array_equal(preds, at_end)


def test_beyond_the_trained_horizon_the_median_is_fed_back_as_if_observed(fitted):
    model, panel = fitted
    h, mid = model.cfg.horizon, model.cfg.median_index
    long = forecast.forecast_panel(model, panel, 2 * h + 5)
    assert long.shape == (3, 2 * h + 5, 3)
    assert (np.diff(long, axis=-1) >= 0).all()
    np.testing.assert_array_equal(long[:, :h], forecast.forecast_panel(model, panel, h))
    # The second block is the direct forecast of the series grown by the first block's median.
    grown = [np.concatenate([panel.series(i), long[i, :h, mid]]) for i in range(3)]
    lengths = panel.lengths + h
    extended = dataclasses.replace(
        panel,
        values=np.concatenate(grown).astype(np.float32),
        offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
    )
    second = forecast.forecast_panel(model, extended, h)
    np.testing.assert_allclose(long[:, h : 2 * h], second, rtol=1e-5, atol=1e-5)


# --- baselines ----------------------------------------------------------------------------

WIDTHS = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0]])  # (H=2, Q=3), in MASE-scale units


def test_naive_quantiles_are_the_last_value_plus_scaled_offsets_grown_beyond_h():
    history = np.array([1.0, 2.0, 3.0, 4.0])  # mean |step| (the scale) is 1
    out = forecast.baseline_quantiles(history, "naive", 3, 1, WIDTHS)
    grow = 2 * np.sqrt(3 / 2)  # the last offset, grown like a random walk's
    np.testing.assert_allclose(out, [[3, 4, 5], [2, 4, 6], [4 - grow, 4, 4 + grow]])


def test_seasonal_naive_and_drift_quantiles():
    history = np.array([1.0, 2.0, 3.0, 4.0])
    # seasonal naive, season 2: the last cycle (3, 4) repeated; scale mean |y_t - y_t-2| = 2
    seasonal = forecast.baseline_quantiles(history, "seasonal_naive", 2, 2, WIDTHS)
    np.testing.assert_allclose(seasonal, [[1, 3, 5], [0, 4, 8]])
    # drift: the line through the first and last values, slope 1
    drift = forecast.baseline_quantiles(history, "drift", 2, 1, WIDTHS)
    np.testing.assert_allclose(drift, [[4, 5, 6], [4, 6, 8]])


@pytest.mark.parametrize("history", [[7.0, 7.0, 7.0], [7.0]], ids=["constant", "one-value"])
def test_a_history_without_a_scale_gives_no_interval(history):
    out = forecast.baseline_quantiles(np.array(history), "naive", 2, 1, WIDTHS)
    np.testing.assert_array_equal(out, np.full((2, 3), 7.0))


def test_an_unknown_baseline_is_refused():
    with pytest.raises(ValueError, match="unknown method 'mean'; known: lstm, naive"):
        forecast.baseline_quantiles(np.ones(5), "mean", 2, 1, WIDTHS)


def test_apply_choice_replaces_only_the_series_a_baseline_forecasts():
    panel = panel_of(
        {"a": [1.0, 2.0, 3.0, 4.0], "b": [5.0, 6.0, 8.0, 9.0], "c": [0.0, 1.0, 0.0, 1.0]},
        {"a": "2024-01-01 03:00", "b": "2024-01-01 03:00", "c": "2024-01-01 03:00"},
    )
    preds = np.full((3, 2, 3), -99.0)
    methods = np.array(["lstm", "naive", "drift"])
    widths = {"naive": WIDTHS.tolist(), "drift": WIDTHS.tolist()}
    forecast.apply_choice(preds, panel, methods, 1, widths)
    np.testing.assert_array_equal(preds[0], -99.0)
    # b: last value 9, scale (1 + 2 + 1) / 3
    np.testing.assert_allclose(preds[1], 9 + WIDTHS * 4 / 3)
    # c: drift slope 1/3, scale 1
    np.testing.assert_allclose(preds[2], np.array([[4 / 3], [5 / 3]]) + WIDTHS)


MIX_WIDTHS = np.array([[-0.5, 0.0, 0.5], [-0.75, 0.0, 0.75]])  # a mix's own, narrower


def test_a_mix_forecasts_the_mean_point_with_its_own_band_and_an_older_file_averages():
    # b: naive says 9 (scale 4/3); the LSTM's quantiles are 11 +- 3 at both steps.
    panel = panel_of({"b": [5.0, 6.0, 8.0, 9.0]}, {"b": "2024-01-01 03:00"})
    lstm = np.array([[[8.0, 11.0, 14.0], [8.0, 11.0, 14.0]]])
    mix = np.array(["lstm+naive"])
    own = lstm.copy()
    widths = {"naive": WIDTHS.tolist(), "lstm+naive": MIX_WIDTHS.tolist()}
    forecast.apply_choice(own, panel, mix, 1, widths)
    np.testing.assert_allclose(own[0], 10 + MIX_WIDTHS * 4 / 3)  # (11 + 9) / 2, its own band
    older = lstm.copy()  # a file from before mixes had bands: the quantiles averaged
    forecast.apply_choice(older, panel, mix, 1, {"naive": WIDTHS.tolist()})
    np.testing.assert_allclose(older[0], (lstm[0] + 9 + WIDTHS * 4 / 3) / 2)
    # a backtest scores the same forecast predict makes, from the same widths
    for table, expected in ((widths, own), ({"naive": WIDTHS.tolist()}, older)):
        points = {"naive": np.array([[9.0, 9.0]])}
        got = forecast.chosen_forecasts(
            panel, np.array([0]), np.array([4]), lstm, mix, points, 1, table
        )
        np.testing.assert_allclose(got, expected)


def test_band_tables_join_the_methods_and_the_mixes_offsets():
    header = {"method_widths": {"naive": WIDTHS.tolist()}, "mix_widths": {"lstm+naive": [[1]]}}
    assert forecast.band_tables(header) == {"naive": WIDTHS.tolist(), "lstm+naive": [[1]]}
    assert forecast.band_tables({"method_widths": {"naive": [[0]]}}) == {"naive": [[0]]}
    assert forecast.band_tables({}) == {}


def test_apply_choice_without_the_offsets_of_a_method_names_the_series():
    panel = panel_of(
        {"a": [1.0, 2.0, 3.0], "b": [1.0, 2.0, 4.0]}, {"a": "2024-01-01", "b": "2024-01-01"}
    )
    preds = np.zeros((2, 2, 3))
    with pytest.raises(
        errors.ModelFileError, match="offsets for drift, which forecasts series 'b'"
    ):
        forecast.apply_choice(preds, panel, np.array(["lstm", "drift"]), 1, {"naive": []})


# --- the output table ---------------------------------------------------------------------


def test_quantile_columns_name_the_outer_quantiles_lower_and_upper():
    assert forecast.quantile_columns(QUANTILES) == {
        0.1: "yhat_lower",
        0.5: "yhat",
        0.9: "yhat_upper",
    }
    named = forecast.quantile_columns((0.05, 0.25, 0.5, 0.75, 0.95))
    assert named == {
        0.05: "yhat_lower",
        0.25: "yhat_q0.25",
        0.5: "yhat",
        0.75: "yhat_q0.75",
        0.95: "yhat_upper",
    }


def test_forecast_frame_is_long_with_each_series_own_future_dates():
    panel = panel_of(
        {"a": [1.0, 2.0, 3.0, 4.0], "b": [5.0, 6.0, 7.0]},
        {"a": "2024-01-01 03:00", "b": "2024-01-01 05:00"},
    )
    preds = np.arange(2 * 3 * 3, dtype=np.float32).reshape(2, 3, 3)
    frame = forecast.forecast_frame(panel, preds, QUANTILES)
    assert list(frame.columns) == ["unique_id", "ds", "yhat", "yhat_lower", "yhat_upper"]
    assert list(frame["unique_id"]) == ["a"] * 3 + ["b"] * 3
    hours = [t.strftime("%H:%M") for t in frame["ds"]]
    assert hours == ["04:00", "05:00", "06:00", "06:00", "07:00", "08:00"]
    np.testing.assert_array_equal(frame["yhat"], preds[:, :, 1].ravel())
    np.testing.assert_array_equal(frame["yhat_lower"], preds[:, :, 0].ravel())
    np.testing.assert_array_equal(frame["yhat_upper"], preds[:, :, 2].ravel())
    assert frame["yhat"].dtype == np.float32


def test_forecast_frame_puts_extra_quantiles_after_the_interval():
    panel = panel_of({"a": [1.0, 2.0, 3.0]}, {"a": "2024-01-03"}, freq="D")
    quantiles = (0.05, 0.25, 0.5, 0.75, 0.95)
    preds = np.arange(5, dtype=np.float32).reshape(1, 1, 5)
    frame = forecast.forecast_frame(panel, preds, quantiles)
    assert list(frame.columns)[2:] == [
        "yhat", "yhat_lower", "yhat_upper", "yhat_q0.25", "yhat_q0.75"
    ]  # fmt: skip
    assert frame.iloc[0, 2:].tolist() == [2, 0, 4, 1, 3]
    assert frame["ds"].tolist() == [pd.Timestamp("2024-01-04")]


def test_forecast_frame_of_the_median_alone_has_a_zero_width_interval():
    panel = panel_of({"a": [1.0, 2.0, 3.0]}, {"a": "2024-01-03"}, freq="D")
    frame = forecast.forecast_frame(panel, np.array([[[5.0], [6.0]]]), (0.5,))
    assert frame["yhat_lower"].tolist() == frame["yhat_upper"].tolist() == [5.0, 6.0]


@pytest.mark.parametrize(
    "freq, end, expected",
    [
        ("MS", "2024-11-01", ["2024-12-01", "2025-01-01", "2025-02-01"]),
        ("B", "2024-06-28", ["2024-07-01", "2024-07-02", "2024-07-03"]),  # a Friday
        ("W-SUN", "2024-12-22", ["2024-12-29", "2025-01-05", "2025-01-12"]),
    ],
)
def test_forecast_frame_dates_follow_calendar_grids(freq, end, expected):
    # long enough to cross a weekend, so business days are not read as days
    values = {"a": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], "b": [3.0, 1.0, 2.0, 4.0, 5.0, 6.0]}
    panel = panel_of(values, {"a": end, "b": end}, freq)
    assert panel.freq == freq
    frame = forecast.forecast_frame(panel, np.zeros((2, 3, 3)), QUANTILES)
    assert frame["ds"].tolist() == [pd.Timestamp(d) for d in expected * 2]


# --- check_horizon ------------------------------------------------------------------------


@pytest.fixture
def two_hourly():
    return panel_of(
        {"a": [1.0, 2.0, 3.0], "b": [1.0, 2.0, 3.0]},
        {"a": "2024-01-01 02:00", "b": "2024-01-01 05:00"},
    )


def test_check_horizon_lets_an_ordinary_horizon_pass(two_hourly):
    assert forecast.check_horizon(two_hourly, 24, 3) is None


def test_check_horizon_refuses_a_forecast_too_big_to_hold(two_hourly):
    with pytest.raises(errors.UsageError) as caught:
        forecast.check_horizon(two_hourly, 1_000_000, 3, series=40)
    exc = caught.value
    assert exc.exit_code == 2
    assert exc.message == (
        "--horizon 1000000: 40 series x 1,000,000 steps x 3 quantiles is 120,000,000 values, "
        "more than the 100,000,000 one forecast may hold"
    )
    assert exc.hint == "pass --horizon 833333 or less, or forecast fewer series at a time"
    # the same horizon for the panel's own two series fits in memory (and before 2262)
    assert forecast.check_horizon(two_hourly, 1_000_000, 3) is None


def test_check_horizon_refuses_dates_past_2262(two_hourly):
    room = (pd.Timestamp.max - pd.Timestamp("2024-01-01 05:00")) // pd.Timedelta(hours=1)
    assert forecast.check_horizon(two_hourly, room, 1) is None
    with pytest.raises(errors.UsageError, match="run past 2262-04-11") as caught:
        forecast.check_horizon(two_hourly, room + 1, 1)
    assert caught.value.hint == f"pass --horizon {room} or less"
    assert "after 2024-01-01T05:00:00" in caught.value.message  # the latest series end


# --- floor_at_zero and default_method -------------------------------------------------------


def test_floor_at_zero_clips_only_the_windows_of_strictly_positive_histories():
    panel = panel_of(
        {"pos": [1.0, 2.0, 3.0, 4.0], "zero": [0.0, 2.0, 3.0, 4.0], "neg": [-1.0, 2.0, 3.0, 4.0]},
        {"pos": "2024-01-02", "zero": "2024-01-02", "neg": "2024-01-02"},
    )
    series, origin = np.array([0, 1, 2, 0]), np.array([4, 4, 4, 1])
    band = np.array([[-2.0, 1.0, 3.0], [-1.0, -0.5, 2.0]])  # (H, Q): below zero at both steps
    preds = np.stack([band] * 4)
    forecast.floor_at_zero(preds, panel, series, origin)
    for k in (0, 3):  # a positive history (all of it, or its first value alone): floored
        np.testing.assert_array_equal(preds[k], [[0, 1, 3], [0, 0, 2]])
        assert (preds[k] >= 0).all()
    for k in (1, 2):  # a history holding a value <= 0: untouched
        np.testing.assert_array_equal(preds[k], band)


def test_default_method_is_the_validation_winner_else_the_older_rules():
    header = {
        "model": {"season": 24},
        "metrics": {"validation": {"default_method": "theta"}},
    }
    assert choice.default_method(header, 10) == "theta"
    older = {"model": {"season": 24}, "metrics": {"validation": {}}}
    assert choice.default_method(older, 10) == "lstm"  # a file from before: the LSTM
    short = {**older, "lstm_trained": False}  # and without one: seasonal naive or naive
    assert choice.default_method(short, 48) == "seasonal_naive"
    assert choice.default_method(short, 10) == "naive"


def test_a_band_follows_the_recent_level_of_a_positive_series_unless_the_file_predates_it():
    wiggle = np.where(np.arange(48) % 2 == 0, 1.0, -1.0)
    grown = np.concatenate([np.full(36, 10.0), np.full(12, 30.0)]) + wiggle
    # the scale: mean |step| 2 (one jump of 20 +- 2 among 47 steps), times 30 / 15
    plain = metrics.mase_scale(grown, 1)
    np.testing.assert_allclose(forecast.band_offsets(grown, 2, 1, WIDTHS), WIDTHS * plain * 2)
    old = forecast.band_offsets(grown, 2, 1, WIDTHS, follow_level=False)
    np.testing.assert_allclose(old, WIDTHS * plain)
    assert forecast.follows_level({"band_scale": metrics.BAND_SCALE})
    assert not forecast.follows_level({})  # a file from before: its offsets are in MASE units
