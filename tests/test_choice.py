"""The honest verdict, the per-series choice of method, and short data, on tiny real runs."""

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import TINY, WEEKLY_LSTM, invoke, seasonal_frame, trending_weekly_frame, walk_frame

from lstmcast import api
from lstmcast.config import ModelConfig
from lstmcast.data.load import load
from lstmcast.forecast import baseline_quantiles, calibrate_intervals
from lstmcast.methods.lstm import LSTMForecaster
from lstmcast.train import resolve_model_config
from lstmcast.verdict import validate_methods
from lstmcast.windows import rolling_windows


def mixing_model(panel, gate_bias: float) -> LSTMForecaster:
    """A model whose median is exactly sigmoid(bias) seasonal naive + the rest naive (in
    normalised units; std scaling keeps that a mix in data units): head weights zero."""
    cfg = resolve_model_config(
        ModelConfig(hidden_size=4, layers=1, scaling="std", skip_cycles=1), panel
    )
    torch.manual_seed(0)
    model = LSTMForecaster(cfg)
    with torch.no_grad():
        for p in model.head.parameters():
            p.zero_()
        model.gate.bias.fill_(gate_bias)
    return model.eval()


def test_rolling_windows_spread_over_the_end_of_each_series():
    series, origin = rolling_windows(np.array([100, 30, 10]), horizon=5, span=24, min_history=4)
    # Series 0: origins 76 .. 95, one step apart, 20 of them; series 1: 6 .. 25 (history >= 4);
    # series 2 (10 points): 4 .. 5.
    assert (origin[series == 0] == np.arange(76, 96)).all()
    assert (origin[series == 1] == np.arange(6, 26)).all()
    assert sorted(origin[series == 2]) == [4, 5]
    s, o = rolling_windows(np.array([400]), horizon=5, span=200, min_history=4, per_series=20)
    assert len(o) == 20 and o.max() == 395 and o.min() == 200  # spread, not only the last 20


def test_verdict_compares_with_the_best_baseline_not_seasonal_naive_alone():
    # A random walk with a weekly "season": a forecast halfway between seasonal naive and
    # naive beats seasonal naive but not naive. The verdict must say it does NOT win.
    panel = load(walk_frame(n=400))
    model = mixing_model(panel, gate_bias=0.0)
    series, origin = rolling_windows(panel.lengths, 7, 26, 49)
    verdict = validate_methods(model, panel, 7, model.cfg.quantiles, 7, series, origin)
    doc, table = verdict.doc, verdict.doc["methods"]
    assert doc["windows"] == 20
    assert table["lstm"]["mase"] < table["seasonal_naive"]["mase"]  # the old verdict: "beats"
    assert doc["beats_seasonal_naive"] is True
    best = min(("naive", "seasonal_naive", "drift"), key=lambda m: table[m]["mase"])
    assert doc["best_baseline"] == best != "seasonal_naive"
    assert table["lstm"]["mase"] > table[best]["mase"]
    assert doc["beats_best_baseline"] is False and doc["skill_vs_best_baseline"] < 0
    assert list(verdict.methods) == [best]  # and the series is forecast by it
    assert verdict.doc["baseline_windows"] == 20  # its bands: origins across the series


@pytest.mark.slow
def test_verdict_on_a_seasonal_series_the_lstm_wins(trained_model):
    # A weekly profile on a trend: seasonal naive is the best baseline but lags a week of
    # trend behind; the LSTM learns both.
    trained = trained_model("weekly-lstm", trending_weekly_frame, WEEKLY_LSTM)
    v = trained.summary["validation"]
    assert v["best_baseline"] == "seasonal_naive", v
    assert v["methods"]["lstm"]["mase"] < v["methods"]["seasonal_naive"]["mase"], v
    assert v["beats_best_baseline"] is True and v["skill_vs_best_baseline"] > 0
    assert v["windows"] == 4 * 20  # rolling origins, not one window per series
    assert "the LSTM beats it" in invoke("info", trained.model).stdout


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
    assert set(methods.values()) <= {"lstm", "naive", "seasonal_naive", "drift"}
    counts = pd.Series(methods).value_counts().to_dict()
    assert summary["forecast_by"] == counts
    assert set(header["method_widths"]) == {"naive", "seasonal_naive", "drift"}
    assert np.shape(header["method_widths"]["naive"]) == (24, 3)
    assert "forecast by" in invoke("info", model).stdout

    out = tmp_path / "f.csv"
    invoke("predict", data, "--model", model, "-o", out)
    fc = pd.read_csv(out)
    by_series = fc.groupby("unique_id")["model"].agg(lambda m: set(m))
    assert {uid: m.pop() for uid, m in by_series.items()} == methods
    season = header["model"]["season"]
    for uid, rows in fc.groupby("unique_id"):
        assert (rows["yhat_lower"] <= rows["yhat"]).all() and (
            rows["yhat"] <= rows["yhat_upper"]
        ).all()
        method = methods[uid]
        if method != "lstm":
            history = frame.loc[frame["unique_id"] == uid, "y"].to_numpy()
            expected = baseline_quantiles(
                history, method, 24, season, np.asarray(header["method_widths"][method])
            )
            np.testing.assert_allclose(rows["yhat"], expected[:, 1], rtol=1e-5)
            np.testing.assert_allclose(rows["yhat_upper"], expected[:, 2], rtol=1e-5)

    # --fallback none: the LSTM everywhere, the same forecasts where it was chosen anyway.
    none = tmp_path / "none.csv"
    invoke("predict", data, "--model", model, "-o", none, "--fallback", "none")
    lstm = pd.read_csv(none)
    assert (lstm["model"] == "lstm").all()
    chosen = fc["model"] == "lstm"
    np.testing.assert_array_equal(lstm.loc[chosen, "yhat"], fc.loc[chosen, "yhat"])
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
    series, origin = rolling_windows(panel.lengths, 7, 26, 49)
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
    assert method in ("naive", "seasonal_naive", "drift")
    out = tmp_path / "f.csv"
    invoke("predict", data, "--model", model, "-o", out)
    fc = pd.read_csv(out)
    assert len(fc) == 12 and (fc["model"] == method).all()
    assert (fc["yhat_upper"] - fc["yhat_lower"] > 0).all()
    none = invoke("predict", data, "--model", model, "--fallback", "none", ok=False)
    assert none.exit_code == 2 and "holds no LSTM" in none.output
    assert invoke("evaluate", data, "--model", model, ok=False).exit_code == 2
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


def test_a_series_leaves_the_pooled_winner_only_for_a_clear_win():
    from lstmcast.verdict import SWITCH_MARGIN, _choose

    # Rows: methods 0 and 1. Over all windows method 0 is far better (scaled errors), so it
    # is the pooled winner. Series 0: method 1 wins by 10 % (< the margin): stays with 0.
    # Series 1: method 1 wins by 40 %: switches. Series 2: method 0 wins: stays. Series 3
    # has no window.
    series = np.array([0, 0, 1, 1, 2, 2])
    err = np.array([[10.0, 10.0, 10.0, 10.0, 1.0, 1.0], [9.0, 9.0, 5.0, 5.0, 5.0, 5.0]])
    scaled = np.array([[1.0, 1.0, 1.0, 1.0, 0.1, 0.1], [0.9, 0.9, 0.5, 0.5, 5.0, 5.0]])
    assert 0.1 < SWITCH_MARGIN < 0.5
    assert list(_choose(4, series, err, scaled)) == [0, 1, 0, -1]
    # With one series the pooled winner is that series' winner, however narrow the win.
    one = np.zeros(2, dtype=np.int64)
    assert list(_choose(1, one, err[:, 2:4] * [[1], [0.99]], scaled[:, 2:4] * [[1], [0.99]])) == [1]
    # Non-finite windows (a constant history: MASE scale 0) are left out of both means.
    scaled_nan = scaled.copy()
    scaled_nan[:, 0] = np.nan
    assert list(_choose(4, series, err, scaled_nan)) == [0, 1, 0, -1]


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
