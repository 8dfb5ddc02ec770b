"""End-to-end `lstmcast train` and `lstmcast predict` on tiny seeded data, in process."""

import json
import os
import shutil

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import SPEC, TINY, hourly_frame, invoke

from lstmcast import api
from lstmcast.forecast import forecast_panel

FORECAST_COLUMNS = ["unique_id", "ds", "yhat", "yhat_lower", "yhat_upper", "model"]


def train(data, model, *extra, ok=True):
    return invoke("train", data, "--model", model, *TINY, *extra, ok=ok)


def read_forecast(path) -> pd.DataFrame:
    if path.suffix == ".csv":
        frame = pd.read_csv(path, parse_dates=["ds"])
    elif path.suffix == ".parquet":
        frame = pd.read_parquet(path)
    else:
        frame = pd.DataFrame(json.loads(path.read_text()))
        frame["ds"] = pd.to_datetime(frame["ds"])
    return frame


def assert_starts_after_last(forecast: pd.DataFrame, data: pd.DataFrame, horizon: int, step):
    last = data.groupby("unique_id")["ds"].max()
    assert sorted(forecast["unique_id"].unique()) == sorted(last.index)
    for uid, part in forecast.groupby("unique_id"):
        expected = pd.date_range(pd.Timestamp(last[uid]) + step, periods=horizon, freq=step)
        assert list(part["ds"]) == list(expected), uid


# --- train ------------------------------------------------------------------------------


def test_train_summary_json(trained):
    s = trained.summary
    assert s["series"] == 3
    assert s["rows"] == 160 + 150 + 140
    assert s["device"] == "cpu"
    assert s["epochs"] == 2
    assert s["model_config"]["horizon"] == 24
    assert s["model_config"]["hidden_size"] == 8
    assert s["model"] == str(trained.model)
    v = s["validation"]
    assert {"lstm", "naive", "seasonal_naive"} <= set(v["methods"])
    for method in ("lstm", "naive", "seasonal_naive"):
        assert {"mae", "rmse", "smape", "mase"} <= set(v["methods"][method]), method
        assert np.isfinite(v["methods"][method]["mae"]), method
    assert {"coverage", "width"} <= set(v["methods"]["lstm"])
    assert v["horizon"] == 24
    assert v["windows"] >= 3
    assert v["verdict"] in ("beats", "ties", "loses")
    assert v["beats_best_baseline"] == (v["verdict"] == "beats")
    assert v["best_baseline"] in v["methods"] and v["best_baseline"] != "lstm"
    assert set(v["folds"]) == set(v["lstm_folds"]) == {"min", "median", "max"}
    assert trained.model.read_bytes()[:8] == b"LSTMCAST"


@pytest.mark.slow
def test_train_table_output(tmp_path, trained):
    result = train(trained.data, tmp_path / "m.lstmcast")
    for row in ("LSTM", "naive", "seasonal naive", "lookback / horizon"):
        assert row in result.stdout, row
    assert "error" not in result.stderr


@pytest.mark.slow
def test_train_quiet_prints_only_warnings(tmp_path, trained):
    result = train(trained.data, tmp_path / "m.lstmcast", "--quiet")
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert all(line.startswith("warning: ") for line in lines), result.stderr
    assert lines == [f"warning: {w}" for w in trained.summary["warnings"]]
    assert (tmp_path / "m.lstmcast").exists()


@pytest.mark.slow
def test_same_seed_gives_byte_identical_forecasts(tmp_path, trained):
    outputs = []
    for name in ("one", "two"):
        model, out = tmp_path / f"{name}.lstmcast", tmp_path / f"{name}.csv"
        train(trained.data, model, "--seed", "7", "--quiet")
        # The LSTM's own forecasts (the tiny model may lose to a baseline on every series).
        invoke("predict", trained.data, "--model", model, "-o", out, "-q", "--fallback", "none")
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    # and the seed matters: the shared model was trained with seed 0
    s0 = tmp_path / "s0.csv"
    invoke("predict", trained.data, "--model", trained.model, "-o", s0, "-q", "--fallback", "none")
    assert (tmp_path / "s0.csv").read_bytes() != outputs[0]


def test_diverging_training_exits_5_and_keeps_the_old_model(tmp_path, trained):
    model = tmp_path / "model.lstmcast"
    shutil.copy(trained.model, model)
    before = model.read_bytes()
    result = train(trained.data, model, "--lr", "1e30", ok=False)
    assert result.exit_code == 5, result.output
    assert "loss" in result.stderr and "--lr" in result.stderr
    assert model.read_bytes() == before
    # no temp file; the lock file next to the model stays by design (see README)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.lstmcast", "model.lstmcast.lock"]


def test_training_data_too_short_is_forecast_by_baselines_and_names_the_numbers(tmp_path):

    data = tmp_path / "short.csv"
    hourly_frame((("A", "2024-01-01", 30), ("B", "2024-01-01", 25))).to_csv(data, index=False)
    model = tmp_path / "m.lstmcast"
    summary = json.loads(train(data, model, "--lookback", "48", "--horizon", "12", "--json").stdout)
    assert summary["lstm_trained"] is False
    (message,) = [w for w in summary["warnings"] if w.startswith("little data")]
    assert "30 points" in message  # the longest series
    assert "--lookback 48" in message
    assert "horizon 12" in message
    assert sum(summary["forecast_by"].values()) == 2
    assert model.exists()


def test_too_short_message_adds_up_when_the_lookback_was_derived(tmp_path):
    # Without --lookback the lookback is derived (here it shrinks to 1): the message should
    # not name a --lookback the user never passed, and its terms should add up to the total.
    import re

    data = tmp_path / "short.csv"
    hourly_frame((("A", "2024-01-01", 30),)).to_csv(data, index=False)
    result = train(data, tmp_path / "m.lstmcast", "--json")
    (message,) = [w for w in json.loads(result.stdout)["warnings"] if w.startswith("little")]
    assert "half of --lookback" not in message
    m = re.search(
        r"needs (\d+) \(context (\d+):.*; \+ horizon (\d+) \+ validation (\d+)\)", message
    )
    assert m, message
    needs, context, horizon, val = map(int, m.groups())
    assert context + horizon + val == needs, message


@pytest.mark.slow
def test_some_series_too_short_to_train_are_still_forecast(tmp_path):
    data = tmp_path / "data.csv"
    spec = (("A", "2024-01-01", 160), ("B", "2024-01-01", 150), ("tiny", "2024-01-05", 20))
    hourly_frame(spec).to_csv(data, index=False)
    result = train(data, tmp_path / "m.lstmcast", "--json")
    warnings = json.loads(result.stdout)["warnings"]
    assert any("too short" in w and "'tiny'" in w for w in warnings), warnings
    out = tmp_path / "f.csv"
    # The LSTM cannot be validated on 'tiny': a baseline forecasts it.
    invoke("predict", data, "--model", tmp_path / "m.lstmcast", "-o", out)
    forecast = read_forecast(out)
    assert (forecast["unique_id"] == "tiny").sum() == 24
    assert (forecast.loc[forecast["unique_id"] == "tiny", "model"] != "lstm").all()
    assert np.isfinite(forecast[["yhat", "yhat_lower", "yhat_upper"]].to_numpy()).all()
    # Forced onto the LSTM, its lookback is padded, and predict says so.
    m = tmp_path / "m.lstmcast"
    result = invoke("predict", data, "--model", m, "-o", out, "--fallback", "none")
    assert "shorter than the lookback" in result.stderr
    forecast = read_forecast(out)
    assert np.isfinite(forecast[["yhat", "yhat_lower", "yhat_upper"]].to_numpy()).all()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_device_cuda_without_cuda_is_a_usage_error(tmp_path, trained):
    result = train(trained.data, tmp_path / "m.lstmcast", "--device", "cuda", ok=False)
    assert result.exit_code == 2, result.output
    assert "--device cuda" in result.stderr
    assert not (tmp_path / "m.lstmcast").exists()
    result = invoke("predict", "--model", trained.model, "--device", "cuda", ok=False)
    assert result.exit_code == 2, result.output


@pytest.mark.parametrize("quantiles", ["0.1,abc", "0.1,1.5", "0,0.5"])
def test_bad_quantiles_are_a_usage_error(tmp_path, trained, quantiles):
    result = train(trained.data, tmp_path / "m.lstmcast", "--quantiles", quantiles, ok=False)
    assert result.exit_code == 2, result.output
    assert "--quantiles" in result.stderr


def test_val_size_shorter_than_the_horizon_is_a_usage_error(tmp_path, trained):
    result = train(trained.data, tmp_path / "m.lstmcast", "--val-size", "5", ok=False)
    assert result.exit_code == 2, result.output
    assert "--val-size 5" in result.stderr


def test_train_into_a_missing_folder_is_exit_73(tmp_path, trained):
    model = tmp_path / "no" / "such" / "m.lstmcast"
    result = train(trained.data, model, ok=False)
    assert result.exit_code == 73, result.output
    assert f"cannot write {model}: the folder does not exist" in result.stderr


def test_train_output_error_hint_names_the_model_flag(tmp_path, trained):
    # The hint said "choose another --output path", but train has no --output: it is --model.
    result = train(trained.data, tmp_path / "no" / "m.lstmcast", ok=False)
    assert result.exit_code == 73
    assert "--output" not in result.stderr, result.stderr


def test_train_missing_data_file_is_exit_3(tmp_path):
    result = train(tmp_path / "nope.csv", tmp_path / "m.lstmcast", ok=False)
    assert result.exit_code == 3, result.output
    assert "no such file" in result.stderr


# --- predict ----------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".json"])
def test_predict_writes_each_format(tmp_path, trained, suffix):
    out = tmp_path / f"forecast{suffix}"
    result = invoke("predict", trained.data, "--model", trained.model, "--output", out)
    assert f"wrote 72 rows (3 series × 24 steps) to {out}" in result.stderr
    assert result.stdout == ""
    forecast = read_forecast(out)
    assert list(forecast.columns) == FORECAST_COLUMNS
    assert len(forecast) == 3 * 24
    assert forecast["unique_id"].astype(str).tolist() == ["A"] * 24 + ["B"] * 24 + ["C"] * 24
    assert_starts_after_last(forecast, trained.frame, 24, pd.Timedelta(hours=1))
    values = forecast[["yhat_lower", "yhat", "yhat_upper"]].to_numpy()
    assert np.isfinite(values).all()
    assert (values[:, 0] <= values[:, 1]).all() and (values[:, 1] <= values[:, 2]).all()
    # each series' forecast sits at its own level (10, 20, 30), not at one global level
    means = forecast.groupby("unique_id")["yhat"].mean()
    assert means["A"] < means["B"] < means["C"]


@pytest.mark.slow
def test_predict_formats_agree(tmp_path, trained):
    frames = []
    for suffix in (".csv", ".parquet", ".json"):
        out = tmp_path / f"f{suffix}"
        invoke("predict", trained.data, "--model", trained.model, "-o", out, "-q")
        frames.append(read_forecast(out))
    for other in frames[1:]:
        np.testing.assert_allclose(other["yhat"], frames[0]["yhat"], rtol=1e-6)
        assert list(other["ds"]) == list(frames[0]["ds"])


@pytest.mark.slow
def test_business_day_forecasts_skip_weekends(tmp_path):
    rng = np.random.default_rng(1)
    ds = pd.bdate_range(end="2024-06-26", periods=150)  # ends on a Wednesday
    wave = np.sin(np.arange(150))
    frame = pd.concat(
        pd.DataFrame({"unique_id": uid, "ds": ds, "y": level + wave + rng.normal(0, 0.1, 150)})
        for uid, level in (("X", 50.0), ("Y", 80.0))
    )
    data, model, out = tmp_path / "prices.csv", tmp_path / "m.lstmcast", tmp_path / "f.csv"
    frame.to_csv(data, index=False)
    summary = json.loads(train(data, model, "--json").stdout)
    assert summary["model_config"]["horizon"] == 5  # one business week
    invoke("predict", data, "--model", model, "-o", out, "--horizon", "7", "-q")
    forecast = read_forecast(out)
    for _, part in forecast.groupby("unique_id"):
        days = [d.strftime("%a %d") for d in part["ds"]]
        assert days == "Thu 27|Fri 28|Mon 01|Tue 02|Wed 03|Thu 04|Fri 05".split("|")


def test_load_model_twice_gives_identical_predictions(trained):
    panel = api.load(trained.data)
    first, header = api.load_model(trained.model)
    second, _ = api.load_model(trained.model)
    assert header["model"] == trained.summary["model_config"]
    a = forecast_panel(first, panel, 24)
    b = forecast_panel(second, panel, 24)
    assert a.shape == (3, 24, 3)
    np.testing.assert_array_equal(a, b)
    p1, p2 = api.predict(trained.model), api.predict(trained.model, trained.data)
    pd.testing.assert_frame_equal(p1.forecast, p2.forecast)


@pytest.mark.slow
def test_saved_model_predicts_like_the_trained_one(trained, tmp_path):
    # fit in memory, save with api.train's writer, reload: identical forecasts
    from lstmcast.config import ModelConfig, TrainConfig
    from lstmcast.train import fit_model, resolve_model_config

    panel = api.load(trained.data)
    cfg = resolve_model_config(ModelConfig(hidden_size=8, layers=1), panel)
    tcfg = TrainConfig(epochs=1, windows_per_epoch=64, batch_size=32, device="cpu")
    result = fit_model(panel, cfg, tcfg)
    in_memory = forecast_panel(result.model, panel, cfg.horizon)
    model_cfg = ModelConfig(hidden_size=8, layers=1)
    summary = api.train(trained.data, tmp_path / "m.lstmcast", model_cfg=model_cfg, train_cfg=tcfg)
    assert summary.model["lookback"] == cfg.lookback
    loaded, _ = api.load_model(tmp_path / "m.lstmcast")
    np.testing.assert_array_equal(forecast_panel(loaded, panel, cfg.horizon), in_memory)


def test_info_json(trained):
    result = invoke("info", trained.model, "--json")
    doc = json.loads(result.stdout)
    assert {"data", "model", "metrics", "train_config", "format_version", "bytes"} <= set(doc)
    assert doc["data"] == doc["data_schema"]["path"] == str(trained.data.resolve())
    assert doc["model"] == str(trained.model)
    assert doc["data_schema"]["freq"] == "h"
    assert doc["series"] == doc["data_schema"]["series"] == 3
    assert doc["data_schema"]["last_timestamp"] == trained.frame["ds"].max().isoformat()
    assert doc["model_config"] == trained.summary["model_config"]
    assert doc["metrics"]["validation"]["methods"].keys() >= {"lstm", "naive", "seasonal_naive"}
    assert doc["bytes"] == trained.model.stat().st_size
    assert "payload_sha256" not in doc
    assert "tensors" not in doc


def test_info_table(trained):
    result = invoke("info", trained.model)
    assert str(trained.data.resolve()) in result.stdout.replace("\n", "")
    assert "hidden 8" in result.stdout


@pytest.mark.slow
def test_predict_defaults_to_the_grown_training_file(tmp_path, monkeypatch):
    data, model, out = tmp_path / "data.csv", tmp_path / "m.lstmcast", tmp_path / "f.csv"
    grown = hourly_frame(tuple((uid, start, n + 5) for uid, start, n in SPEC))
    old = pd.concat(part.iloc[:-5] for _, part in grown.groupby("unique_id", sort=False))
    old.to_csv(data, index=False)
    train(data, model, "--quiet")
    # overnight, every series grows by 5 rows, appended at the end of the file
    with open(data, "a") as fh:
        pd.concat(part.iloc[-5:] for _, part in grown.groupby("unique_id", sort=False)).to_csv(
            fh, index=False, header=False
        )
    monkeypatch.chdir(tmp_path)  # DATA omitted: the model's recorded (absolute) path is used
    result = invoke("predict", "--model", "m.lstmcast", "-o", "f.csv", "--json")
    doc = json.loads(result.stdout)
    assert doc["data"] == str(data)
    forecast = read_forecast(out)
    assert_starts_after_last(forecast, grown, 24, pd.Timedelta(hours=1))


@pytest.mark.slow
def test_predict_when_the_training_file_is_gone(tmp_path):
    data, model = tmp_path / "data.csv", tmp_path / "m.lstmcast"
    hourly_frame().to_csv(data, index=False)
    train(data, model, "-q")
    data.unlink()
    result = invoke("predict", "--model", model, ok=False)
    assert result.exit_code == 3, result.output
    assert "no longer exists" in result.stderr
    assert "lstmcast predict DATA" in result.stderr


@pytest.mark.slow
def test_longer_horizon_than_trained_warns_on_stderr(tmp_path, trained):
    out = tmp_path / "f.csv"
    # The LSTM rolls out beyond its horizon (the tiny model may lose to a baseline everywhere).
    result = invoke(
        "predict", trained.data, "--model", trained.model, "--horizon", "60", "-o", out,
        "--fallback", "none",
    )  # fmt: skip
    assert "warning: horizon 60 is longer than the trained 24" in result.stderr
    assert result.stdout == ""
    forecast = read_forecast(out)
    assert len(forecast) == 3 * 60
    assert_starts_after_last(forecast, trained.frame, 60, pd.Timedelta(hours=1))
    assert np.isfinite(forecast["yhat"]).all()
    # the first 24 steps are the direct forecast, the same as a plain predict
    direct = api.predict(trained.model, trained.data, fallback="none").forecast
    head = forecast.groupby("unique_id").head(24).reset_index(drop=True)
    np.testing.assert_allclose(head["yhat"], direct["yhat"], rtol=1e-6)


def test_shorter_horizon_is_a_prefix(trained):
    full = api.predict(trained.model, trained.data).forecast
    short = api.predict(trained.model, trained.data, horizon=5).forecast
    assert len(short) == 15
    pd.testing.assert_frame_equal(
        short.reset_index(drop=True), full.groupby("unique_id").head(5).reset_index(drop=True)
    )


def test_series_not_seen_in_training_is_forecast(tmp_path, trained):
    data, out = tmp_path / "new.csv", tmp_path / "f.csv"
    frame = hourly_frame((("A", "2024-01-01 00:00", 160), ("NEW", "2024-02-01 03:00", 130)), seed=5)
    frame.to_csv(data, index=False)
    invoke("predict", data, "--model", trained.model, "-o", out, "-q")
    forecast = read_forecast(out)
    assert sorted(forecast["unique_id"].unique()) == ["A", "NEW"]
    assert_starts_after_last(forecast, frame, 24, pd.Timedelta(hours=1))
    new = forecast[forecast["unique_id"] == "NEW"]
    assert new["yhat"].between(15, 25).all()  # NEW's level is 20 (second series of the frame)


@pytest.mark.slow
def test_predict_quiet_prints_nothing_on_fresh_data(tmp_path, trained):
    fresh = ("--as-of", "2024-01-08")  # the data ends 2024-01-07 19:00
    result = invoke(
        "predict", trained.data, "--model", trained.model, "-o", tmp_path / "f.csv", "-q", *fresh
    )
    assert result.stdout == ""
    assert result.stderr == ""
    result = invoke("predict", trained.data, "--model", trained.model, "--quiet", *fresh)
    assert result.stdout == ""
    assert result.stderr == ""
    # stale data: --quiet keeps the warning, and only it
    result = invoke("predict", trained.data, "--model", trained.model, "--quiet")
    assert result.stdout == ""
    assert result.stderr.startswith("warning: the data is stale")


@pytest.mark.slow
def test_predict_json_is_one_document(trained):
    result = invoke("predict", trained.data, "--model", trained.model, "--json")
    doc = json.loads(result.stdout)
    assert doc["horizon"] == 24
    assert doc["series"] == 3
    assert doc["output"] is None
    assert len(doc["forecast"]) == 72
    assert set(doc["forecast"][0]) == set(FORECAST_COLUMNS)


def test_predict_json_with_output(tmp_path, trained):
    out = tmp_path / "f.parquet"
    result = invoke("predict", trained.data, "--model", trained.model, "--json", "-o", out)
    doc = json.loads(result.stdout)
    assert doc["output"] == str(out)
    assert doc["forecast"] is None
    assert len(pd.read_parquet(out)) == 72


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_predict_to_stdout(trained, fmt):
    result = invoke("predict", trained.data, "--model", trained.model, "--format", fmt)
    if fmt == "csv":
        from io import StringIO

        frame = pd.read_csv(StringIO(result.stdout))
    else:
        frame = pd.DataFrame(json.loads(result.stdout))
    assert list(frame.columns) == FORECAST_COLUMNS
    assert len(frame) == 72


@pytest.mark.slow
def test_predict_table(trained):
    result = invoke("predict", trained.data, "--model", trained.model)
    assert "yhat" in result.stdout


def test_predict_bad_format_is_a_usage_error(trained):
    result = invoke("predict", trained.data, "--model", trained.model, "--format", "xml", ok=False)
    assert result.exit_code == 2
    assert "--format xml" in result.stderr


def test_missing_model_is_exit_4(tmp_path, trained):
    result = invoke("predict", trained.data, "--model", tmp_path / "nope.lstmcast", ok=False)
    assert result.exit_code == 4, result.output
    assert "no such model file" in result.stderr
    assert "lstmcast train" in result.stderr  # the hint
    result = invoke("info", tmp_path / "nope.lstmcast", ok=False)
    assert result.exit_code == 4


# --- a failed predict leaves the previous output alone ----------------------------------


@pytest.fixture
def old_output(tmp_path):
    out = tmp_path / "out" / "forecast.csv"
    out.parent.mkdir()
    out.write_text("unique_id,ds,yhat\nold,2020-01-01,1\n")
    return out


def assert_untouched(out):
    assert out.read_text() == "unique_id,ds,yhat\nold,2020-01-01,1\n"
    assert [p.name for p in out.parent.iterdir()] == ["forecast.csv"]  # no temp file left


@pytest.mark.parametrize(
    "content",
    [
        "unique_id,ds,y\nA,2024-01-01,1\nA,2024-01-01,2\nA,2024-01-02,3\n",  # duplicate stamp
        "unique_id,ds,y\nA,2024-01-01,1\nA,2024-01-02,x\nA,2024-01-03,3\n",  # not a number
        "",  # empty file
    ],
    ids=["duplicate", "not-numeric", "empty"],
)
def test_bad_data_leaves_the_output_untouched(tmp_path, trained, old_output, content):
    bad = tmp_path / "bad.csv"
    bad.write_text(content)
    result = invoke("predict", bad, "--model", trained.model, "-o", old_output, ok=False)
    assert result.exit_code == 3, result.output
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.output
    assert_untouched(old_output)


def test_missing_output_folder_is_exit_73(tmp_path, trained):
    out = tmp_path / "no" / "such" / "f.csv"
    result = invoke("predict", trained.data, "--model", trained.model, "-o", out, ok=False)
    assert result.exit_code == 73, result.output
    assert "folder does not exist" in result.stderr


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes into read-only folders"
)
def test_read_only_folder_is_exit_73(trained, old_output):
    old_output.parent.chmod(0o555)
    try:
        result = invoke(
            "predict", trained.data, "--model", trained.model, "-o", old_output, ok=False
        )
    finally:
        old_output.parent.chmod(0o755)
    assert result.exit_code == 73, result.output
    assert "permission denied" in result.stderr
    assert_untouched(old_output)


@pytest.mark.parametrize("call", ["fsync", "replace"])
def test_disk_full_during_write_is_exit_73(trained, old_output, monkeypatch, call):
    # The same path a read-only folder or a full disk takes, simulated (tests may run as root).
    import errno

    def fail(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, call, fail)
    result = invoke("predict", trained.data, "--model", trained.model, "-o", old_output, ok=False)
    monkeypatch.undo()
    assert result.exit_code == 73, result.output
    assert "no space left" in result.stderr
    assert_untouched(old_output)


def test_unknown_output_extension_is_refused_before_writing(tmp_path, trained):
    out = tmp_path / "f.xlsx"
    result = invoke("predict", trained.data, "--model", trained.model, "-o", out, ok=False)
    assert result.exit_code in (2, 3), result.output
    assert ".xlsx" in result.stderr
    assert not out.exists()


@pytest.mark.slow
def test_fallback_auto_forecasts_the_series_the_lstm_lost_by_the_winning_baseline(tmp_path):
    # Random walks: a two-epoch LSTM loses to a baseline on some of them at validation.
    rng = np.random.default_rng(3)
    ds = pd.date_range("2024-01-01", periods=240, freq="h")
    frame = pd.concat(
        pd.DataFrame(
            {"unique_id": f"s{k}", "ds": ds, "y": 100 + np.cumsum(rng.normal(0, 1, len(ds)))}
        )
        for k in range(6)
    )
    data, model = tmp_path / "walks.csv", tmp_path / "m.lstmcast"
    frame.to_csv(data, index=False)
    summary = json.loads(train(data, model, "--json").stdout)
    lost = sum(n for m, n in summary["forecast_by"].items() if m != "lstm")
    assert lost >= 1, summary["validation"]
    v = summary["validation"]
    # the LSTM forecasts a series only where it beat the pooled winner beyond the noise
    assert v["verdict"] == "beats" or lost == 6

    plain, marked = tmp_path / "plain.csv", tmp_path / "marked.csv"
    invoke("predict", data, "--model", model, "-o", plain, "-q", "--fallback", "none")
    result = invoke("predict", data, "--model", model, "-o", marked)
    assert "baseline" not in result.stderr  # the normal course, not a warning
    plain, marked = read_forecast(plain), read_forecast(marked)
    flags = marked.groupby("unique_id")["model"].agg(["first", "nunique"])
    assert (flags["nunique"] == 1).all()  # one method per series
    assert int((flags["first"] != "lstm").sum()) == lost
    season = summary["model_config"]["season"]
    for uid, rows in marked.groupby("unique_id"):
        method = rows["model"].iloc[0]
        history = frame.loc[frame["unique_id"] == uid, "y"].to_numpy()
        if method == "seasonal_naive":
            np.testing.assert_allclose(
                rows["yhat"], np.resize(history[-season:], len(rows)), rtol=1e-5
            )
        elif method == "naive":
            np.testing.assert_allclose(rows["yhat"], history[-1], rtol=1e-5)
        elif method == "lstm":
            np.testing.assert_array_equal(
                rows["yhat"], plain.loc[plain["unique_id"] == uid, "yhat"]
            )
        assert (rows["yhat_lower"] <= rows["yhat"]).all() and (
            rows["yhat"] <= rows["yhat_upper"]
        ).all()
    assert invoke("predict", data, "--model", model, "--fallback", "mean", ok=False).exit_code == 2
