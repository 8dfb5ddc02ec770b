"""lstmcast.evaluate's building blocks on arrays small enough to check by hand, and
lstmcast.verdict's per-series choice of method on series crafted so that one method must win."""

import math
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest
from helpers import mixing_model, walk_frame

from lstmcast import api, evaluate, methods
from lstmcast import verdict as verdict_module
from lstmcast.data.load import load
from lstmcast.forecast import MIN_STEP_WINDOWS
from lstmcast.verdict import MIN_FOLDS, SWITCH_MARGIN, _switch, _widths, validate_methods
from lstmcast.windows import spaced_windows

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


SIMPLE = ("naive", "seasonal_naive", "drift")


def test_local_forecasts_use_only_the_history_before_each_origin(lines):
    base = evaluate.local_forecasts(lines, SERIES, ORIGIN, 2, season=2, names=SIMPLE)
    assert set(base) == set(SIMPLE)
    np.testing.assert_array_equal(base["naive"], [[4, 4], [60, 60]])
    np.testing.assert_array_equal(base["seasonal_naive"], [[3, 4], [50, 60]])
    np.testing.assert_array_equal(base["drift"], [[5, 6], [70, 80]])


def test_local_forecasts_give_every_registry_method_and_fitted_ones_only_on_fitted_rows(lines):
    every = evaluate.local_forecasts(lines, SERIES, ORIGIN, 2, season=2)
    assert tuple(every) == methods.local_names()
    assert all(np.isfinite(every[m]).all() for m in every)
    few = evaluate.local_forecasts(
        lines, SERIES, ORIGIN, 2, season=2, names=("naive", "theta"), fitted_rows=np.array([1, 0])
    )
    assert np.isfinite(few["naive"]).all()  # not fitted: every window
    np.testing.assert_array_equal(few["theta"][0], every["theta"][0])
    assert np.isnan(few["theta"][1]).all()


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
    drift = evaluate.local_forecasts(lines, SERIES, ORIGIN, 2, season=2, names=SIMPLE)["drift"]
    preds = np.stack([drift - 1, drift, drift + 1], axis=-1)  # the median is exactly drift
    out = evaluate.compare(lines, SERIES, ORIGIN, preds, QUANTILES, median=1, season=2)
    scores = out["scores"]
    assert set(scores) == {"lstm", *methods.local_names()}
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


def test_switch_keeps_the_pooled_winner_unless_a_series_own_win_is_big_on_enough_windows():
    m = SWITCH_MARGIN
    assert MIN_FOLDS == 3  # the windows below are laid out for three
    big, small = 1 - m - 0.1, 1 - m + 0.1  # a series' own MAE, as a share of the pooled one's
    series = np.array([0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 3])
    mae = np.array(
        [
            [1.0] * 11,
            [big, big, big, small, small, small, 0.0, 0.0, big, big, np.nan],
        ]
    )
    # 0 leaves row 0 for a big win on 3 windows; 1 keeps it despite a small win; 2 wins big
    # on only 2 windows and 3 on 2 scored ones (a NaN counts for neither row); 4 has none
    assert _switch(5, series, mae, 0).tolist() == [1, 0, 0, 0, 0]
    # with row 1 the pooled winner, no series leaves it: row 0 never wins big
    assert _switch(5, series, mae, 1).tolist() == [1, 1, 1, 1, 1]
    # a third row that wins bigger still takes the series: the lowest ratio wins
    best = np.vstack([mae, np.where(series == 0, 0.1, 2.0)])
    assert _switch(5, series, best, 0).tolist() == [2, 0, 0, 0, 0]


def test_switch_needs_min_folds_windows_of_the_series_own():
    series = np.zeros(MIN_FOLDS, dtype=np.int64)
    mae = np.array([[1.0] * MIN_FOLDS, [0.1] * MIN_FOLDS])
    assert _switch(1, series, mae, 0).tolist() == [1]
    assert _switch(1, series[1:], mae[:, 1:], 0).tolist() == [0]  # one window fewer: stays


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


def test_widths_are_never_narrower_at_a_later_step():
    # errors that shrink along the horizon: the band keeps the widest it has been
    err = np.column_stack([np.arange(1.0, 21.0) * k for k in (3, 1, 2)])  # (20, 3)
    assert len(err) >= MIN_STEP_WINDOWS
    out = np.array(_widths(err, 3, QUANTILES))
    assert (np.diff(out[:, 2]) >= 0).all() and (np.diff(out[:, 0]) <= 0).all()
    np.testing.assert_allclose(out[:, 2], [out[0, 2]] * 3)  # step 1's, the widest
    for few in (err[:2], np.empty((0, 3))):  # pooled and random-walk widths grow by sqrt(h)
        w = np.array(_widths(few, 3, QUANTILES))[:, 2]
        assert (np.diff(w) > 0).all()


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
    return choose({n: c[n] for n in names})


def choose(series: dict[str, np.ndarray], season: int = 24) -> tuple[dict[str, str], dict]:
    panel = load(long_frame(series))
    verdict = validate_methods(None, panel, 24, QUANTILES, season, NONE, NONE)
    return dict(zip(panel.ids, verdict.methods, strict=True)), verdict.doc


def test_on_random_walks_naive_forecasts_every_series():
    # drift overshoots from every origin (the first step's jump) and a walk has no season:
    # the last value is the forecast to beat, and nothing beats it by the switching margin
    picked, doc = choose({f"walk{seed}": curves(seed)["walk"] for seed in (0, 1, 2)})
    assert set(picked.values()) == {"naive"}
    assert doc["best_baseline"] == doc["default_method"] == "naive"
    assert doc["chosen"]["naive"] == 3 and sum(doc["chosen"].values()) == 3
    table = doc["methods"]
    assert table["naive"]["mase"] < table["drift"]["mase"]
    assert table["naive"]["mase"] < table["seasonal_naive"]["mase"]


def test_on_daily_cycles_one_method_that_models_the_season_forecasts_every_series():
    # naive and drift miss the cycle by its whole amplitude; the method chosen models it
    picked, doc = choose({f"cycle{seed}": curves(seed)["cycle"] for seed in (0, 1, 2)})
    (method,) = set(picked.values())
    assert method == doc["best_baseline"] == doc["default_method"]
    assert method not in ("naive", "drift")
    table = doc["methods"]
    assert table[method]["mase"] < 0.05 * table["naive"]["mase"]
    assert table[method]["mase"] <= 1.05 * table["seasonal_naive"]["mase"]


def test_alone_a_random_walk_is_forecast_by_naive():
    assert chosen("walk")[0] == {"walk": "naive"}


def test_the_verdict_without_an_lstm_is_the_per_series_methods_own_table():
    panel = load(long_frame(curves()))
    verdict = validate_methods(None, panel, 24, QUANTILES, 24, NONE, NONE)
    doc = verdict.doc
    assert sum(doc["chosen"].values()) == 3 and doc["chosen"]["lstm"] == 0
    # no LSTM judged: no verdict; the best other method is the pooled winner
    assert doc["verdict"] is None and doc["skill_interval"] is None
    assert doc["beats_best_baseline"] is False and doc["skill_vs_best_baseline"] is None
    assert doc["best_baseline"] == doc["default_method"] in methods.candidates(24)
    assert "lstm_folds" not in doc and "all_windows" not in doc
    assert doc["series_without_windows"] == 0
    assert set(doc["methods"]) == {*methods.candidates(24), "chosen"}
    # 480 points, two seasons of history: the simple methods on MAX_FOLDS windows a horizon
    # apart per series; with 3 series FITTED_WINDOWS leaves room for the fitted ones on
    # every window too (each series' latest FITTED_FOLDS at least)
    windows = {m: doc["methods"][m]["windows"] for m in methods.candidates(24)}
    assert windows["naive"] == windows["drift"] == windows["seasonal_naive"] == 30
    fitted = [m for m in methods.candidates(24) if methods.get(m).fitted]
    assert 30 <= evaluate.FITTED_WINDOWS and 3 * evaluate.FITTED_FOLDS <= 30
    assert all(windows[m] == 30 for m in fitted)
    assert doc["windows"] == 30
    assert set(doc["folds"]) == {"min", "median", "max"}
    assert doc["folds"]["min"] <= doc["folds"]["median"] <= doc["folds"]["max"] <= 10
    assert doc["methods"]["seasonal_naive"]["mase"] < doc["methods"]["naive"]["mase"]
    for method, widths in verdict.widths.items():  # below the point, on it, above it
        w = np.array(widths)
        assert w.shape == (24, 3), method
        assert (w[:, 0] < 0).all() and (w[:, 1] == 0).all() and (w[:, 2] > 0).all(), method


def test_with_few_series_a_band_rests_on_more_windows_than_the_choice(monkeypatch):
    # one walk of 500 points, horizon 10: stormy steps (sd 4) but for the last 100 (sd 1)
    rng = np.random.default_rng(3)
    walk = 500 + np.cumsum(np.concatenate([rng.normal(0, 4, 400), rng.normal(0, 1, 100)]))
    panel = load(long_frame({"walk": walk}))

    def validated():
        return validate_methods(None, panel, 10, QUANTILES, 1, NONE, NONE)

    verdict = validated()
    # the choice rests on the latest 10 windows (the calm 100 points), the bands on 40
    assert verdict.doc["folds"]["max"] == 10 and verdict.doc["methods"]["naive"]["windows"] == 10
    assert verdict.doc["band_windows"]["naive"] == verdict.doc["band_windows"]["drift"] == 40
    monkeypatch.setattr(verdict_module, "BAND_WINDOWS", 1)  # the bands on the choice's 10
    calm = validated()
    assert calm.doc["band_windows"]["naive"] == 10
    assert calm.doc["methods"] == verdict.doc["methods"]  # the same evidence for the choice
    wide, narrow = np.array(verdict.widths["naive"]), np.array(calm.widths["naive"])
    assert (wide[:, 2] > 1.5 * narrow[:, 2]).all()  # the stormy past is in the band


def test_naive_offsets_on_a_random_walk_widen_with_the_horizon():
    panel = load(long_frame({"walk": curves()["walk"]}))
    naive = np.array(validate_methods(None, panel, 24, QUANTILES, 24, NONE, NONE).widths["naive"])
    assert naive[-1, 2] > 2 * naive[0, 2]  # a walk's spread grows like sqrt(h)
    np.testing.assert_allclose(naive[:, 0], -naive[:, 2])  # symmetric pairs of quantiles


def test_without_a_season_seasonal_naive_is_no_candidate():
    panel = load(walk_and_cycle())
    verdict = validate_methods(None, panel, 24, QUANTILES, 1, NONE, NONE)
    assert set(verdict.widths) == set(methods.candidates(1))
    assert "seasonal_naive" not in verdict.widths
    assert "seasonal_naive" not in verdict.methods
    assert verdict.doc["chosen"]["seasonal_naive"] == 0


def test_a_series_too_short_for_any_window_is_forecast_by_the_pooled_winner():
    frame = walk_and_cycle()
    short = long_frame({"short": np.arange(25.0), "tiny": np.arange(10.0)})
    panel = load(pd.concat([frame, short]))
    verdict = validate_methods(None, panel, 24, QUANTILES, 24, NONE, NONE)
    chosen = dict(zip(panel.ids, verdict.methods, strict=True))
    pooled = verdict.doc["default_method"]
    assert chosen["short"] == chosen["tiny"] == pooled == verdict.doc["best_baseline"]
    assert verdict.doc["series_without_windows"] == 2


def test_with_the_lstm_the_verdict_is_on_its_held_out_windows(trained):
    from lstmcast import metrics
    from lstmcast.windows import spaced_windows

    model, _ = api.load_model(trained.model)
    panel = api.load(trained.data)
    h, season = model.cfg.horizon, model.cfg.season
    series, origin = spaced_windows(panel.lengths, h, model.cfg.lookback // 2, 2)
    assert len(series) == 6
    verdict = validate_methods(model, panel, h, model.cfg.quantiles, season, series, origin)
    doc = verdict.doc
    assert doc["windows"] == 6 and doc["series_validated"] == 3
    assert doc["lstm_folds"] == {"min": 2, "median": 2.0, "max": 2}
    # beside the LSTM and every per-series method: the LSTM's mix with the pooled choice
    mixes = {m for m in doc["methods"] if methods.partner(m)}
    assert len(mixes) == 1 and methods.partner(mixes.pop()) in methods.candidates(season)
    shown = {m for m in doc["methods"] if not methods.partner(m)}
    assert shown == {"lstm", *methods.candidates(season), "chosen"}
    assert set(doc["all_windows"]) == set(methods.candidates(season))
    # the table: every method on the LSTM's six windows, the LSTM's band checked there too
    assert all(doc["methods"][m]["windows"] == 6 for m in doc["methods"])
    assert {"coverage", "width", "pinball"} <= set(doc["methods"]["lstm"])
    assert doc["all_windows"]["naive"]["windows"] > 6  # the per-series methods reach back
    assert sum(doc["chosen"].values()) == 3
    # the verdict against the pooled winner, from its skill's interval
    best, skill = doc["best_baseline"], doc["skill_vs_best_baseline"]
    assert best in methods.candidates(season)
    lstm_mase, best_mase = doc["methods"]["lstm"]["mase"], doc["methods"][best]["mase"]
    assert skill == pytest.approx(1 - lstm_mase / best_mase)
    low, high = doc["skill_interval"]
    assert low <= skill <= high
    assert doc["verdict"] == metrics.verdict(low, high)
    assert doc["beats_best_baseline"] == (doc["verdict"] == "beats")
    local = set(methods.candidates(season))
    if doc["verdict"] == "beats":
        assert doc["default_method"] == "lstm"
    elif doc["verdict"] == "ties":  # hedged: every series by the LSTM's mix with its method
        assert methods.partner(doc["default_method"]) in local
        assert all(methods.partner(m) in local for m in verdict.methods)
    else:  # the LSTM forecasts no series it lost on
        assert doc["default_method"] in local and set(verdict.methods) <= local


def test_refit_folds_forecast_by_the_choice_and_bands_of_their_own_past(trained):
    """Under --refit each fold's per-series methods and bands come from validation on its
    own past (a Verdict), not from the model file, which saw every fold's future."""
    from lstmcast import metrics
    from lstmcast.evaluate import backtest
    from lstmcast.verdict import Verdict

    model, _ = api.load_model(trained.model)
    panel = api.load(trained.data)
    h, q = model.cfg.horizon, len(model.cfg.quantiles)
    widths = np.linspace(-1, 1, q)[None, :] * np.arange(1, h + 1)[:, None]  # (H, Q)
    pasts = []

    def refit(past):
        pasts.append(past.lengths.copy())
        picked = np.array(["drift"] * past.n_series)
        return None, Verdict({}, picked, {"drift": widths.tolist()})

    shipped = np.array(["naive"] * panel.n_series)
    result = backtest(
        model, panel, folds=2, refit=refit, methods=shipped, widths={"naive": []}, lstm=True
    )
    assert len(pasts) == 2 and (pasts[0] < pasts[1]).all()  # each fold's own, shorter past
    assert set(result.methods) == {"drift"}  # the fold's choice, not the file's naive
    for k in range(len(result.series)):
        history = panel.series(int(result.series[k]))[: int(result.origin[k])]
        point = result.baselines["drift"][k]
        band = widths * metrics.band_scale(history.astype(np.float64), model.cfg.season, h)
        expected = point[:, None] + band
        if history.min() > 0:
            expected = np.maximum(expected, 0)
        np.testing.assert_allclose(result.chosen[k], expected, rtol=1e-9)


def test_evidence_gathered_while_the_lstm_trains_is_the_evidence_gathered_after(
    trained, monkeypatch
):
    """train_beside_evidence forecasts the per-series methods in a background thread while
    the LSTM trains: on the windows the trained LSTM is judged on, and to the same verdict
    as validation after training."""
    import threading

    from lstmcast.config import ModelConfig, TrainConfig
    from lstmcast.modelfile.container import read_header
    from lstmcast.verdict import train_beside_evidence
    from lstmcast.windows import verdict_windows

    header, _ = read_header(trained.model)
    cfg = ModelConfig.from_dict(header["model"])
    train_cfg = TrainConfig(**{**header["train"], "device": "cpu"})
    panel = api.load(trained.data)
    # the evidence waits for the LSTM's first step: gathered before or after training, it
    # would wait in vain
    stepped, waited, gather = threading.Event(), [], verdict_module.gather_evidence

    def gather_once_training_runs(*args):
        waited.append(stepped.wait(timeout=30))
        return gather(*args)

    monkeypatch.setattr(verdict_module, "gather_evidence", gather_once_training_runs)
    monkeypatch.setattr("lstmcast.threads.spare_cores", lambda *args: 1)  # as on 2 cores
    result, evidence = train_beside_evidence(
        panel, cfg, train_cfg, lambda event, info: event == "step" and stepped.set()
    )
    assert waited == [True]
    series, origin = verdict_windows(panel, result.index)
    assert [a.tolist() for a in evidence.lstm_windows()] == [series.tolist(), origin.tolist()]
    h, q, m = cfg.horizon, cfg.quantiles, cfg.season
    beside = validate_methods(result.model, panel, h, q, m, series, origin, evidence)
    after = validate_methods(result.model, panel, h, q, m, series, origin)
    assert beside.doc == after.doc and beside.widths == after.widths
    assert beside.methods.tolist() == after.methods.tolist()


def test_an_error_in_the_background_evidence_reaches_the_caller(trained, monkeypatch):
    from lstmcast.config import ModelConfig, TrainConfig
    from lstmcast.modelfile.container import read_header

    def broken(*args):
        raise RuntimeError("no evidence today")

    monkeypatch.setattr(verdict_module, "gather_evidence", broken)
    monkeypatch.setattr("lstmcast.threads.spare_cores", lambda *args: 1)
    header, _ = read_header(trained.model)
    cfg = ModelConfig.from_dict(header["model"])
    train_cfg = TrainConfig(**{**header["train"], "device": "cpu"})
    with pytest.raises(RuntimeError, match="no evidence today"):
        verdict_module.train_beside_evidence(api.load(trained.data), cfg, train_cfg)


def test_a_mix_band_warning_counts_the_mix_own_windows_or_in_older_files_its_parts():
    doc = {
        "chosen": {"lstm+naive": 3, "naive": 0},
        "band_windows": {"naive": 40, "lstm+naive": 2},
        "calibration": {"windows": 40},
    }
    assert "rests on 2 held-out windows" in verdict_module.band_evidence_warning(doc)
    doc["band_windows"]["lstm+naive"] = 12
    assert verdict_module.band_evidence_warning(doc) is None
    # a file from before mixes had their own bands: the partner's and the LSTM's windows
    older = {**doc, "band_windows": {"naive": 40}, "calibration": {"windows": 1}}
    assert "rests on 1 held-out window:" in verdict_module.band_evidence_warning(older)


def test_a_mix_scored_on_enough_windows_gets_a_band_from_its_own_errors():
    # Two random walks, their LSTM a fixed blend of naive and seasonal naive, held out from
    # 10 windows each: every mix gets offsets from its errors on those 20 windows. From 4
    # windows each (8, fewer than MIN_STEP_WINDOWS) no mix does: it keeps its parts' bands.
    panel = load(walk_frame(n_series=2, n=300))
    model = mixing_model(panel, gate_bias=0.0)
    mixes = {methods.mix(m) for m in methods.candidates(7)}
    series, origin = spaced_windows(panel.lengths, 7, 49, 10)
    v = validate_methods(model, panel, 7, model.cfg.quantiles, 7, series, origin)
    assert set(v.widths) == set(methods.candidates(7)) | mixes
    for m in mixes:
        assert v.doc["band_windows"][m] == 20 >= MIN_STEP_WINDOWS
        w = np.asarray(v.widths[m])
        assert w.shape == (7, 3) and (w[:, 2] > 0).all() and (np.diff(w[:, 2]) >= 0).all()
        np.testing.assert_allclose(w[:, 0], -w[:, 2])
    few = validate_methods(model, panel, 7, model.cfg.quantiles, 7, series[:8], origin[:8])
    assert set(few.widths) == set(few.doc["band_windows"]) == set(methods.candidates(7))
