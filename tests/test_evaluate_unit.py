"""lstmcast.evaluate's building blocks on arrays small enough to check by hand, and
lstmcast.verdict's per-series choice of method on series crafted so that one baseline must win."""

import math
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from lstmcast import api, evaluate
from lstmcast.data.load import load
from lstmcast.verdict import SWITCH_MARGIN, _choose, _widths, validate_methods

QUANTILES = (0.1, 0.5, 0.9)


def long_frame(series: dict[str, np.ndarray], freq: str = "h") -> pd.DataFrame:
    return pd.concat(
        pd.DataFrame(
            {"unique_id": uid, "ds": pd.date_range("2024-01-01", periods=len(y), freq=freq), "y": y}
        )
        for uid, y in series.items()
    )


@pytest.fixture(scope="module")
def lines():
    """'a' = 1, 2, ..., 6 and 'b' = 10, 20, ..., 80: every baseline is easy to work out."""
    return load(long_frame({"a": np.arange(1.0, 7.0), "b": np.arange(10.0, 90.0, 10.0)}))


SERIES, ORIGIN = np.array([0, 1]), np.array([4, 6])  # a's window is 5, 6; b's is 70, 80


def test_window_actuals_are_the_values_from_each_origin_on(lines):
    actual = evaluate.window_actuals(lines, SERIES, ORIGIN, 2)
    np.testing.assert_array_equal(actual, [[5, 6], [70, 80]])


def test_baseline_forecasts_use_only_the_history_before_each_origin(lines):
    base = evaluate.baseline_forecasts(lines, SERIES, ORIGIN, 2, season=2)
    assert set(base) == set(evaluate.BASELINES)
    np.testing.assert_array_equal(base["naive"], [[4, 4], [60, 60]])
    np.testing.assert_array_equal(base["seasonal_naive"], [[3, 4], [50, 60]])
    np.testing.assert_array_equal(base["drift"], [[5, 6], [70, 80]])


def test_mase_scales_are_the_mean_seasonal_difference_of_each_history(lines):
    np.testing.assert_array_equal(evaluate.mase_scales(lines, SERIES, ORIGIN, 2), [2, 20])
    np.testing.assert_array_equal(evaluate.mase_scales(lines, SERIES, ORIGIN, 1), [1, 10])


def test_score_windows_of_point_forecasts():
    actual, point = np.array([[5.0, 6.0], [70.0, 80.0]]), np.array([[4.0, 4.0], [60.0, 60.0]])
    scores = evaluate.score_windows(actual, point, np.array([2.0, 20.0]))
    assert set(scores) == {"mae", "rmse", "smape", "mape", "mase"}
    np.testing.assert_allclose(scores["mae"], [1.5, 15])
    np.testing.assert_allclose(scores["rmse"], [math.sqrt(2.5), math.sqrt(250)])
    np.testing.assert_allclose(scores["smape"], [(200 / 9 + 40) / 2, (2000 / 130 + 4000 / 140) / 2])
    np.testing.assert_allclose(scores["mape"], [(20 + 100 / 3) / 2, (100 / 7 + 25) / 2])
    np.testing.assert_allclose(scores["mase"], [0.75, 0.75])


def test_score_windows_of_quantile_forecasts_adds_coverage_width_and_pinball():
    actual = np.array([[5.0, 6.0]])
    bands = np.array([[[4.0, 5.0, 6.0], [4.0, 5.0, 6.0]]])  # (B=1, H=2, Q=3)
    scores = evaluate.score_windows(actual, bands[:, :, 1], np.array([1.0]), bands, QUANTILES)
    assert scores["coverage"].tolist() == [1.0]  # 6 lies on the upper edge: inside
    assert scores["width"].tolist() == [2.0]
    # pinball: q 0.1 on errors (1, 2) -> 0.15; q 0.5 on (0, 1) -> 0.25; q 0.9 on (-1, 0) -> 0.05
    np.testing.assert_allclose(scores["pinball"], [(0.15 + 0.25 + 0.05) / 3])


def test_compare_scores_the_model_and_every_baseline_on_the_same_windows(lines):
    drift = evaluate.baseline_forecasts(lines, SERIES, ORIGIN, 2, season=2)["drift"]
    preds = np.stack([drift - 1, drift, drift + 1], axis=-1)  # the median is exactly drift
    out = evaluate.compare(lines, SERIES, ORIGIN, preds, QUANTILES, median=1, season=2)
    scores = out["scores"]
    assert set(scores) == {"lstm", *evaluate.BASELINES}
    np.testing.assert_array_equal(scores["lstm"]["mae"], [0, 0])  # the lines go on straight
    np.testing.assert_array_equal(scores["drift"]["mae"], [0, 0])
    np.testing.assert_array_equal(scores["naive"]["mae"], [1.5, 15])
    np.testing.assert_array_equal(scores["seasonal_naive"]["mae"], [2, 20])
    np.testing.assert_array_equal(scores["naive"]["mase"], [0.75, 0.75])  # scales 2 and 20
    np.testing.assert_array_equal(scores["lstm"]["coverage"], [1, 1])
    np.testing.assert_array_equal(scores["lstm"]["width"], [2, 2])
    assert "coverage" not in scores["naive"]  # a baseline has no interval here
    np.testing.assert_array_equal(out["actual"], [[5, 6], [70, 80]])
    np.testing.assert_array_equal(out["baselines"]["drift"], drift)


def test_choose_keeps_the_pooled_winner_unless_a_series_own_win_is_big():
    m = SWITCH_MARGIN
    series = np.array([0, 0, 1, 1, 2, 2])
    big, small = 1 - m - 0.1, 1 - m + 0.1  # a series' own MAE, as a share of the pooled one's
    err = np.array(
        [
            [1.0, 1.0, 1.0, 1.0, 1.0, np.nan],  # the window with a NaN counts for no method
            [big, big, small, small, 1.0, 0.0],
        ]
    )
    scaled = np.array([[1.0] * 6, [2.0] * 6])  # row 0 has the lower mean MASE over all windows
    # 0 leaves row 0 for a big win; 1 keeps it despite a small one; 2 ties (1 against 1);
    # 3 has no window at all
    assert _choose(4, series, err, scaled).tolist() == [1, 0, 0, -1]
    # with row 1 the pooled winner, every series with windows keeps it: row 0 never wins big
    assert _choose(4, series, err, scaled[::-1]).tolist() == [1, 1, 1, -1]


def test_widths_without_windows_are_a_normal_random_walk():
    z = NormalDist().inv_cdf(0.9)
    out = np.array(_widths(np.empty((0, 3)), 3, QUANTILES))
    expected = 1.25 * z * np.sqrt([1, 2, 3])
    np.testing.assert_allclose(out[:, 2], expected, atol=1e-6)
    np.testing.assert_allclose(out[:, 0], -expected, atol=1e-6)
    assert out[:, 1].tolist() == [0, 0, 0]  # the median: no offset


def test_widths_from_few_windows_pool_the_steps_and_grow_by_sqrt_h():
    # errors / sqrt(h) pooled: 1, sqrt 2, 3, 2 sqrt 2; at level 0.8 (1 + 1/4) = 1: the largest
    out = np.array(_widths(np.array([[1.0, 2.0], [3.0, 4.0]]), 2, QUANTILES))
    np.testing.assert_allclose(out[:, 2], [3, 3 * math.sqrt(2)], atol=1e-6)
    np.testing.assert_allclose(out[:, 0], -out[:, 2])


def test_widths_from_enough_windows_are_one_quantile_per_step():
    err = np.column_stack([np.arange(1.0, 21.0), 2 * np.arange(1.0, 21.0)])  # 20 windows
    err = np.vstack([err, [np.nan, 1.0]])  # a window with a NaN is left out
    out = np.array(_widths(err, 2, QUANTILES))
    # level 0.8 (1 + 1/20) = 0.84 of 1..20: position 15.96 between 16 and 17
    np.testing.assert_allclose(out[:, 2], [16.96, 33.92], atol=1e-6)
    np.testing.assert_allclose(out[:, 0], [-16.96, -33.92], atol=1e-6)


# --- validate_methods: the per-series choice ------------------------------------------------


def curves(seed: int = 0, n: int = 480) -> dict[str, np.ndarray]:
    """Hourly series on which one baseline must win: 'walk', a random walk whose first step
    is a jump of 50, so drift (the line from the first value) overshoots from every origin
    and naive wins; 'cycle', a daily sine with a little noise, which seasonal naive repeats
    almost exactly; 'line', a straight rise with a little noise, which drift extends."""
    rng = np.random.default_rng(seed)
    walk = 100 + np.cumsum(rng.normal(0, 1, n))
    walk[0] -= 50
    cycle = 50 + 10 * np.sin(2 * np.pi * np.arange(n) / 24) + rng.normal(0, 0.1, n)
    line = 20 + 0.5 * np.arange(n) + rng.normal(0, 0.1, n)
    return {"walk": walk, "cycle": cycle, "line": line}


def walk_and_cycle(seed: int = 0) -> pd.DataFrame:
    c = curves(seed)
    return long_frame({"walk": c["walk"], "cycle": c["cycle"]})


NONE = np.empty(0, dtype=np.int64)


def chosen(*names: str) -> tuple[dict[str, str], dict]:
    """The method validate_methods (without an LSTM) gives each of the `curves` named, and
    its verdict's document."""
    c = curves()
    panel = load(long_frame({n: c[n] for n in names}))
    verdict = validate_methods(None, panel, 24, QUANTILES, 24, NONE, NONE)
    return dict(zip(panel.ids, verdict.methods, strict=True)), verdict.doc


@pytest.mark.parametrize(
    "name, method", [("walk", "naive"), ("cycle", "seasonal_naive"), ("line", "drift")]
)
def test_alone_each_series_is_forecast_by_the_baseline_that_must_win_it(name, method):
    assert chosen(name)[0] == {name: method}


def test_a_series_leaves_the_pooled_winner_only_for_a_big_win():
    methods, doc = chosen("cycle", "line")
    # seasonal naive has the lowest mean MASE over both series; on the line drift is far better
    mase = {m: doc["methods"][m]["mase"] for m in evaluate.BASELINES}
    assert min(mase, key=mase.get) == "seasonal_naive"
    assert methods == {"cycle": "seasonal_naive", "line": "drift"}


def test_the_verdict_without_an_lstm_is_the_baselines_own_table():
    panel = load(long_frame(curves()))
    verdict = validate_methods(None, panel, 24, QUANTILES, 24, NONE, NONE)
    doc = verdict.doc
    assert sum(doc["chosen"].values()) == 3 and doc["chosen"]["lstm"] == 0
    assert doc["best_baseline"] is None and doc["beats_best_baseline"] is False
    assert doc["series_validated"] == 0 and doc["series_without_windows"] == 0
    assert doc["windows"] == doc["baseline_windows"] > 0
    assert set(doc["methods"]) == set(evaluate.BASELINES)
    assert doc["methods"]["seasonal_naive"]["mase"] < doc["methods"]["naive"]["mase"]
    for method, widths in verdict.widths.items():  # below the point, on it, above it
        w = np.array(widths)
        assert w.shape == (24, 3), method
        assert (w[:, 0] < 0).all() and (w[:, 1] == 0).all() and (w[:, 2] > 0).all(), method


def test_naive_offsets_on_a_random_walk_widen_with_the_horizon():
    panel = load(long_frame({"walk": curves()["walk"]}))
    naive = np.array(validate_methods(None, panel, 24, QUANTILES, 24, NONE, NONE).widths["naive"])
    assert naive[-1, 2] > 2 * naive[0, 2]  # a walk's spread grows like sqrt(h)
    np.testing.assert_allclose(naive[:, 0], -naive[:, 2])  # symmetric pairs of quantiles


def test_without_a_season_seasonal_naive_is_no_candidate():
    panel = load(walk_and_cycle())
    verdict = validate_methods(None, panel, 24, QUANTILES, 1, NONE, NONE)
    assert set(verdict.widths) == {"naive", "drift"}
    assert "seasonal_naive" not in verdict.methods
    assert verdict.doc["chosen"]["seasonal_naive"] == 0


def test_a_series_too_short_for_any_window_is_seasonal_naive_when_it_holds_a_season():
    frame = walk_and_cycle()
    short = long_frame({"short": np.arange(25.0), "tiny": np.arange(10.0)})
    panel = load(pd.concat([frame, short]))
    verdict = validate_methods(None, panel, 24, QUANTILES, 24, NONE, NONE)
    chosen = dict(zip(panel.ids, verdict.methods, strict=True))
    assert chosen["short"] == "seasonal_naive" and chosen["tiny"] == "naive"
    assert verdict.doc["series_without_windows"] == 2


def test_with_the_lstm_a_series_leaves_the_pooled_winner_only_for_a_big_win(trained):
    from lstmcast import forecast

    model, _ = api.load_model(trained.model)
    panel = api.load(trained.data)
    h, season = model.cfg.horizon, model.cfg.season
    series = np.repeat(np.arange(panel.n_series), 2)
    origin = np.stack([panel.lengths - h, panel.lengths - 2 * h], axis=1).reshape(-1)
    verdict = validate_methods(model, panel, h, model.cfg.quantiles, season, series, origin)
    doc = verdict.doc
    assert doc["windows"] == 6 and doc["series_validated"] == 3
    assert set(doc["methods"]) == {"lstm", *evaluate.BASELINES, "combined"}
    assert sum(doc["chosen"].values()) == 3
    # the same windows scored here: the pooled winner by mean MASE, then each series' own MAE
    preds = forecast.forecast_at(model, panel, series, origin, h).astype(np.float64)
    scores = evaluate.compare(
        panel, series, origin, preds, model.cfg.quantiles, model.cfg.median_index, season
    )["scores"]
    names = ("lstm", *evaluate.BASELINES)  # in the order that breaks ties
    pooled = min(names, key=lambda m: scores[m]["mase"].mean())
    for s in range(panel.n_series):
        mine = {m: scores[m]["mae"][series == s].sum() for m in names}
        own = min(names, key=mine.get)
        big = mine[own] < (1 - SWITCH_MARGIN) * mine[pooled]
        assert verdict.methods[s] == (own if big else pooled), (s, pooled, mine)
    # no series is forecast by a method worse there than the pooled winner
    assert doc["methods"]["combined"]["mae"] <= doc["methods"][pooled]["mae"] + 1e-9
    best = doc["best_baseline"]
    assert doc["methods"][best]["mase"] == min(
        doc["methods"][m]["mase"] for m in evaluate.BASELINES
    )
    lstm_mase = doc["methods"]["lstm"]["mase"]
    assert doc["beats_best_baseline"] == (lstm_mase < doc["methods"][best]["mase"])
