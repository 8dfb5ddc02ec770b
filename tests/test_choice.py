"""The honest verdict, the per-series choice of method, and short data, on tiny real runs."""

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import (
    TINY,
    WEEKLY_LSTM,
    invoke,
    mixing_model,
    seasonal_frame,
    trending_weekly_frame,
    walk_frame,
)

from lstmcast import api
from lstmcast import methods as registry
from lstmcast.config import ModelConfig
from lstmcast.data.load import load
from lstmcast.forecast import baseline_quantiles, calibrate_intervals
from lstmcast.methods.lstm import LSTMForecaster
from lstmcast.train import resolve_model_config
from lstmcast.verdict import validate_methods
from lstmcast.windows import spaced_windows


def test_verdict_compares_with_the_best_baseline_not_seasonal_naive_alone():
    # A random walk with a weekly "season": a forecast halfway between seasonal naive and
    # naive beats seasonal naive but not naive. The verdict must say it does NOT win.
    panel = load(walk_frame(n=400))
    model = mixing_model(panel, gate_bias=0.0)
    series, origin = spaced_windows(panel.lengths, 7, 49, 4)  # four held-out horizons
    verdict = validate_methods(model, panel, 7, model.cfg.quantiles, 7, series, origin)
    doc, table = verdict.doc, verdict.doc["methods"]
    assert doc["windows"] == 4 and doc["lstm_folds"]["median"] == 4
    assert table["lstm"]["mase"] < table["seasonal_naive"]["mase"]  # the old verdict: "beats"
    best = doc["best_baseline"]
    assert best != "seasonal_naive" and best in registry.candidates(7)
    assert table["lstm"]["mase"] > table[best]["mase"]
    assert doc["skill_vs_best_baseline"] < 0
    assert doc["verdict"] != "beats" and doc["beats_best_baseline"] is False
    # and the series is forecast by naive (kept unless the strongest beats it beyond the
    # noise of the windows), or, on a tie, by the LSTM's mix with it; never by the LSTM alone
    # nor seasonal naive
    kept = ("naive", best)
    allowed = kept if doc["verdict"] == "loses" else tuple(registry.mix(m) for m in kept)
    assert doc["default_method"] in allowed
    assert list(verdict.methods) == [doc["default_method"]]
    assert doc["all_windows"]["naive"]["windows"] == 10  # its bands: windows across the series


@pytest.mark.slow
def test_on_a_trending_weekly_series_the_lstm_beats_seasonal_naive_but_not_ets(trained_model):
    # A weekly profile on a trend: seasonal naive lags a week of trend behind, and the LSTM
    # learns both. But additive ETS with trend and season is the very model of these data:
    # the honest verdict is that the LSTM loses to it, by more than the noise.
    trained = trained_model("weekly-lstm", trending_weekly_frame, WEEKLY_LSTM)
    v = trained.summary["validation"]
    assert v["methods"]["lstm"]["mase"] < 0.6 * v["methods"]["seasonal_naive"]["mase"], v
    assert v["best_baseline"] == "ets", v
    assert v["verdict"] == "loses" and v["skill_interval"][1] < 0, v
    assert v["beats_best_baseline"] is False and v["default_method"] == "ets"
    assert trained.summary["forecast_by"] == {"ets": 4}
    assert v["windows"] == 4 * 4  # four held-out horizons of each series, none overlapping
    assert v["lstm_folds"] == {"min": 4, "median": 4.0, "max": 4}
    assert "the LSTM loses to it" in invoke("info", trained.model).stdout


@pytest.mark.slow
def test_choice_is_recorded_in_the_model_file_and_applied_by_predict(tmp_path):
    frame = pd.concat([walk_frame(n_series=2, n=240, freq="h"), seasonal_frame(2, 240)])
    frame["ds"] = (
        frame.groupby("unique_id")
        .cumcount()
        .map(lambda i: pd.Timestamp("2024-01-01") + pd.Timedelta(hours=i))
    )
    data, model = tmp_path / "mixed.csv", tmp_path / "m.lstmcast"
    frame.to_csv(data, index=False)
    summary = json.loads(invoke("train", data, "--model", model, *TINY, "--json").stdout)
    header = api.model_info(model)
    methods = header["methods"]
    assert set(methods) == {"w0", "w1", "s0", "s1"}
    assert set(methods.values()) <= set(registry.names())
    counts = pd.Series(methods).value_counts().to_dict()
    assert summary["forecast_by"] == counts
    assert set(header["method_widths"]) == set(registry.candidates(header["model"]["season"]))
    assert np.shape(header["method_widths"]["naive"]) == (24, 3)
    assert "forecast by" in invoke("info", model).stdout

    out = tmp_path / "f.csv"
    invoke("predict", data, "--model", model, "-o", out)
    fc = pd.read_csv(out)
    by_series = fc.groupby("unique_id")["model"].agg(lambda m: set(m))
    assert {uid: m.pop() for uid, m in by_series.items()} == methods
    season = header["model"]["season"]

    def own_quantiles(uid: str, method: str) -> np.ndarray:
        history = frame.loc[frame["unique_id"] == uid, "y"].to_numpy()
        widths = np.asarray(header["method_widths"][method])
        return baseline_quantiles(history, method, 24, season, widths)

    for uid, rows in fc.groupby("unique_id"):
        assert (rows["yhat_lower"] <= rows["yhat"]).all() and (
            rows["yhat"] <= rows["yhat_upper"]
        ).all()
        method = methods[uid]
        if not registry.uses_lstm(method):
            expected = own_quantiles(uid, method)
            np.testing.assert_allclose(rows["yhat"], expected[:, 1], rtol=1e-5)
            np.testing.assert_allclose(rows["yhat_upper"], expected[:, 2], rtol=1e-5)

    # --fallback none: the LSTM everywhere, the same forecasts where it was chosen anyway.
    none = tmp_path / "none.csv"
    invoke("predict", data, "--model", model, "-o", none, "--fallback", "none")
    lstm = pd.read_csv(none)
    assert (lstm["model"] == "lstm").all()
    chosen = fc["model"] == "lstm"
    np.testing.assert_array_equal(lstm.loc[chosen, "yhat"], fc.loc[chosen, "yhat"])
    # a mix (a tie): the LSTM's and its partner's quantiles, half and half
    for uid, method in methods.items():
        partner = registry.partner(method)
        if partner:
            rows = (fc["unique_id"] == uid).to_numpy()
            half = (lstm.loc[rows, "yhat"].to_numpy() + own_quantiles(uid, partner)[:, 1]) / 2
            np.testing.assert_allclose(fc.loc[rows, "yhat"], half, rtol=1e-5)
    assert invoke("predict", data, "--model", model, "--fallback", "mean", ok=False).exit_code == 2


@pytest.mark.slow
def test_baseline_band_widens_with_the_horizon_on_a_random_walk(tmp_path):
    data, model = tmp_path / "walk.csv", tmp_path / "m.lstmcast"
    walk_frame(n_series=3, n=300).to_csv(data, index=False)
    invoke("train", data, "--model", model, *TINY)
    widths = np.asarray(api.model_info(model)["method_widths"]["naive"])  # (H, Q)
    upper = widths[:, -1]
    assert upper[-1] > 1.5 * upper[0], upper  # a random walk's error grows like sqrt(h)


def test_lstm_calibration_widens_along_the_horizon_on_random_walks():
    panel = load(walk_frame(n_series=4, n=300))
    model = mixing_model(panel, gate_bias=-6.0)  # the last value: naive
    series, origin = spaced_windows(panel.lengths, 7, 49, 10)  # 40 windows: one offset a step
    report = calibrate_intervals(model, panel, series, origin)
    assert report["per_step"]
    first, last = report["offsets"][-1], report["offsets_last_step"][-1]
    assert last > 1.5 * first > 0, report


@pytest.mark.slow
def test_short_data_is_forecast_by_a_baseline_not_refused(tmp_path):
    rng = np.random.default_rng(0)
    ds = pd.date_range("2022-01-01", periods=24, freq="MS")
    frame = pd.DataFrame({"ds": ds, "y": 100 + np.cumsum(rng.normal(0, 2, 24))})
    data, model = tmp_path / "monthly.csv", tmp_path / "m.lstmcast"
    frame.to_csv(data, index=False)
    result = invoke("train", data, "--model", model, "--horizon", "12", *TINY)
    assert "little data" in result.stderr and "24 points" in result.stderr  # a warning
    assert "forecast by" in result.stdout
    summary = json.loads(
        invoke("train", data, "--model", model, "--horizon", "12", *TINY, "--json").stdout
    )
    assert summary["lstm_trained"] is False and summary["epochs"] == 0
    assert summary["validation"]["windows"] > 0  # the baselines were still validated
    (method,) = summary["forecast_by"]
    assert method in registry.local_names()
    out = tmp_path / "f.csv"
    invoke("predict", data, "--model", model, "-o", out)
    fc = pd.read_csv(out)
    assert len(fc) == 12 and (fc["model"] == method).all()
    assert (fc["yhat_upper"] - fc["yhat_lower"] > 0).all()
    none = invoke("predict", data, "--model", model, "--fallback", "none", ok=False)
    assert none.exit_code == 2 and "holds no LSTM" in none.output
    # evaluate backtests the baselines predict uses (tests/test_short_data.py)
    assert invoke("evaluate", data, "--model", model, "--horizon", "6", "--folds", "1")
    invoke("plot", data, "--model", model, "-o", tmp_path / "p.png")  # the baseline, drawn
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"
    assert "none: the training data was too short" in invoke("info", model).stdout


@pytest.mark.slow
def test_a_file_without_usable_series_is_still_an_error(tmp_path):
    data = tmp_path / "one.csv"
    pd.DataFrame({"ds": ["2024-01-01"], "y": [1.0]}).to_csv(data, index=False)
    result = invoke("train", data, "--model", tmp_path / "m.lstmcast", *TINY, ok=False)
    assert result.exit_code == 3, result.output


@pytest.mark.parametrize("bias", [2.0])
def test_gate_starts_mostly_seasonal(bias):
    panel = load(seasonal_frame(1, 120))
    model = mixing_model(panel, gate_bias=bias)
    x = torch.from_numpy(panel.values[None, -model.cfg.lookback :].astype(np.float32))
    phase = torch.zeros(1, len(model.cfg.periods))
    yhat, loc, scale = model(x, phase)
    z = (x - loc) / scale
    g = torch.sigmoid(torch.tensor(bias))
    expected = g * model.seasonal_naive(z) + (1 - g) * z[:, -1:]
    torch.testing.assert_close(yhat[:, :, 1], expected)


@pytest.mark.slow
def test_a_diverging_recursive_forecast_is_refused_not_written(tmp_path, monkeypatch):
    """Steps past the trained horizon are rolled out; where they stop being numbers, predict
    names the step and writes nothing (forecast_at patched to diverge at step 5)."""
    import lstmcast.forecast

    data, model = tmp_path / "d.csv", tmp_path / "m.lstmcast"
    seasonal_frame(1, 120).to_csv(data, index=False)
    invoke("train", data, "--model", model, *TINY, "--horizon", "4", "-q")
    real = lstmcast.forecast.forecast_at

    def diverging(*args, **kwargs):
        preds = real(*args, **kwargs)
        preds[:, 4:] = np.nan
        return preds

    monkeypatch.setattr(lstmcast.forecast, "forecast_at", diverging)
    out = tmp_path / "f.csv"
    args = ("predict", data, "--model", model, "--fallback", "none", "--horizon", "9", "-o", out)
    result = invoke(*args, ok=False)
    assert result.exit_code == 2, result.output
    assert "no longer a number from step 5" in result.stderr and "--horizon 4" in result.stderr
    assert not out.exists()


def test_the_skip_mixes_the_last_cycles_by_learned_weights():
    """skip_cycles=3: the seasonal part of the skip is softmax(cycle_mix) over the last three
    cycles of the lookback, the latest first; it starts leaning on the latest."""
    from lstmcast.methods.lstm import CYCLE_INIT

    panel = load(seasonal_frame(1, 120))
    cfg = resolve_model_config(
        ModelConfig(hidden_size=4, layers=1, scaling="std", skip_cycles=3, gate=False), panel
    )
    assert cfg.mixed_cycles == 3 and cfg.lookback >= 3 * cfg.season
    torch.manual_seed(0)
    model = LSTMForecaster(cfg).eval()
    with torch.no_grad():
        for p in model.head.parameters():
            p.zero_()
    x = torch.from_numpy(panel.values[None, -cfg.lookback :].astype(np.float32))
    yhat, loc, scale = model(x, torch.zeros(1, len(cfg.periods)))
    z = ((x - loc) / scale)[0]
    w = torch.softmax(torch.tensor([CYCLE_INIT, 0.0, 0.0]), 0)
    L, s = cfg.lookback, cfg.season
    h = torch.arange(cfg.horizon) % s
    expected = sum(w[k] * z[L - (k + 1) * s + h] for k in range(3))
    torch.testing.assert_close(yhat[0, :, cfg.median_index], expected)
    assert w[0] > w[1]
    one = dataclasses.replace(cfg, skip_cycles=1)
    assert one.mixed_cycles == 1 and not hasattr(LSTMForecaster(one), "cycle_mix")


@pytest.mark.slow
def test_train_json_states_the_verdict_and_predict_keeps_positive_bands_above_zero(tmp_path):
    """A real run on a tiny file: the verdict and its evidence in train --json, registry
    names in the forecast's `model` column, and a positive series' band floored at zero,
    which a series holding negative values is not."""
    rng = np.random.default_rng(0)
    ds = pd.date_range("2024-01-01", periods=120, freq="D")
    skewed = rng.gamma(0.5, 1.0, len(ds)) + 0.01  # positive, near zero, spiky: wide bands
    frame = pd.concat(
        [
            pd.DataFrame({"unique_id": "pos", "ds": ds, "y": skewed}),
            pd.DataFrame({"unique_id": "neg", "ds": ds, "y": skewed - 1.0}),
        ]
    )
    data, model = tmp_path / "d.csv", tmp_path / "m.lstmcast"
    frame.to_csv(data, index=False)
    args = ("train", data, "--model", model, *TINY, "--max-steps", "5", "--seed", "0", "--json")
    summary = json.loads(invoke(*args).stdout)
    v = summary["validation"]
    assert v["verdict"] in ("beats", "ties", "loses")
    assert v["beats_best_baseline"] == (v["verdict"] == "beats")
    assert set(v["folds"]) == {"min", "median", "max"} and v["folds"]["min"] >= 1
    assert v["folds"]["min"] <= v["folds"]["median"] <= v["folds"]["max"]
    assert set(summary["forecast_by"]) <= set(registry.names())
    out = tmp_path / "f.csv"
    invoke("predict", data, "--model", model, "-o", out, "-q")
    fc = pd.read_csv(out)
    assert set(fc["model"]) <= set(registry.names())
    pos, neg = fc[fc["unique_id"] == "pos"], fc[fc["unique_id"] == "neg"]
    assert (pos["yhat_lower"] >= 0).all(), pos
    assert (neg["yhat_lower"] < 0).any(), neg  # the same shape, shifted: not floored
    # the LSTM alone: its band of the positive series floored the same way
    invoke("predict", data, "--model", model, "-o", out, "-q", "--fallback", "none")
    lstm = pd.read_csv(out)
    assert (lstm["model"] == "lstm").all()
    assert (lstm.loc[lstm["unique_id"] == "pos", "yhat_lower"] >= 0).all()
