"""Ensembles, conformal interval calibration, scaling variants and losses, on tiny real runs."""

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import TINY, hourly_frame, invoke

from lstmcast import api
from lstmcast.config import ModelConfig, TrainConfig
from lstmcast.data.load import load
from lstmcast.forecast import calibrate_intervals, forecast_panel
from lstmcast.methods.lstm import Ensemble
from lstmcast.modelfile.container import load_artifact, save_artifact
from lstmcast.train import fit, fit_model, resolve_model_config
from lstmcast.verdict import gather_evidence, validate_methods


def holdout_metrics(model, panel, series, origin, season, evidence=None):
    """The validation document of `model` beside the per-series methods on these windows
    (their forecasts from `evidence` when given: gather_evidence's for the same windows)."""
    cfg = model.cfg
    return validate_methods(
        model, panel, cfg.horizon, cfg.quantiles, season, series, origin, evidence
    ).doc


@pytest.fixture(scope="module")
def ensemble_model(trained_model):
    """Three TINY members on hourly_frame(): the shared `trained` model's recipe, three times."""
    run = trained_model("ensemble", options=("--ensemble", "3"))
    return run.data, run.model, run.summary


def test_ensemble_file_holds_every_member_and_forecasts_their_median(ensemble_model, trained):
    data, model, summary = ensemble_model
    assert summary["model_config"]["ensemble"] == 3
    loaded, header = api.load_model(model)
    assert isinstance(loaded, Ensemble) and len(loaded.members) == 3
    panel = api.load(data)
    together = forecast_panel(loaded, panel, 24)
    each = np.stack([forecast_panel(m, panel, 24) for m in loaded.members])
    assert not np.allclose(each[0], each[1])  # different seeds, different members
    mid = loaded.cfg.median_index
    np.testing.assert_allclose(together[..., mid], np.median(each[..., mid], axis=0), rtol=1e-5)
    # Three members train three times the steps of one (the shared model: one member).
    assert trained.summary["model_config"]["ensemble"] == 1
    assert summary["steps"] == 3 * trained.summary["steps"]


@pytest.mark.slow
def test_ensemble_is_reproducible_and_predicts_through_the_cli(ensemble_model, tmp_path):
    data, model, _ = ensemble_model
    again = tmp_path / "again.lstmcast"
    invoke("train", data, "--model", again, *TINY, "--ensemble", "3", "--quiet")
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    invoke("predict", "--model", model, "--output", a, "--quiet")
    invoke("predict", "--model", again, "--output", b, "--quiet")
    assert a.read_bytes() == b.read_bytes()
    fc = pd.read_csv(a)
    assert len(fc) == 3 * 24
    assert (fc["yhat_lower"] <= fc["yhat"]).all() and (fc["yhat"] <= fc["yhat_upper"]).all()
    info = json.loads(invoke("info", model, "--json").stdout)
    assert info["model_config"]["ensemble"] == 3


def many_series_panel(n=30, seed=1):
    rng = np.random.default_rng(seed)
    parts = []
    for k in range(n):
        ds = pd.date_range("2024-01-01", periods=200, freq="h")
        level, amp, noise = rng.uniform(5, 50), rng.uniform(1, 5), rng.uniform(0.2, 2)
        y = level + amp * np.sin(2 * np.pi * ds.hour / 24) + rng.normal(0, noise, len(ds))
        parts.append(pd.DataFrame({"unique_id": f"s{k}", "ds": ds, "y": y}))
    return load(pd.concat(parts, ignore_index=True))


@pytest.mark.slow
def test_calibration_makes_validation_coverage_match_the_stated_level():
    torch.set_num_threads(1)
    panel = many_series_panel()
    tcfg = TrainConfig(epochs=1, windows_per_epoch=256, batch_size=64, device="cpu", val_size=72)
    cfg = resolve_model_config(ModelConfig(hidden_size=8, layers=1), panel, tcfg.val_size)
    raw = fit(panel, cfg, tcfg)
    series, origin = raw.index.val_series, raw.index.val_origin
    evidence = gather_evidence(panel, 24, 24, series, origin)  # ETS and Theta fit once
    before = holdout_metrics(raw.model, panel, series, origin, 24, evidence)
    report = calibrate_intervals(raw.model, panel, series, origin)
    offsets = report["offsets"]
    after = holdout_metrics(raw.model, panel, series, origin, 24, evidence)
    assert abs(report["cross_fitted_coverage"] - 0.8) < 0.08, report
    assert offsets[1] == 0 and offsets[0] == -offsets[2]  # the median never moves
    stated = 0.8
    assert abs(after["methods"]["lstm"]["coverage"] - stated) < 0.03, (before, after)
    # One epoch of a tiny model: its own band is far off the stated level.
    assert abs(before["methods"]["lstm"]["coverage"] - stated) > 0.05
    for k in ("mae", "smape", "mase"):  # point forecasts untouched
        assert before["methods"]["lstm"][k] == after["methods"]["lstm"][k]


def test_narrowing_calibration_never_crosses_the_median():
    torch.set_num_threads(1)
    panel = many_series_panel(n=4)
    tcfg = TrainConfig(epochs=1, windows_per_epoch=64, batch_size=32, device="cpu")
    result = fit_model(
        panel, resolve_model_config(ModelConfig(hidden_size=8, layers=1), panel), tcfg
    )
    model = result.model
    model.calibration.copy_(torch.tensor([0.0, 0.0, 0.0]))
    plain = forecast_panel(model, panel, 24)
    model.calibration.copy_(torch.tensor([50.0, 0.0, -50.0]))  # absurd narrowing
    narrowed = forecast_panel(model, panel, 24)
    np.testing.assert_array_equal(narrowed[..., 1], plain[..., 1])
    assert (narrowed[..., 0] <= narrowed[..., 1]).all()
    assert (narrowed[..., 1] <= narrowed[..., 2]).all()


def test_model_files_without_calibration_load_with_none(ensemble_model, tmp_path):
    _, model, _ = ensemble_model
    header, tensors = load_artifact(model)
    header.pop("tensors", None), header.pop("payload_sha256", None)
    old = {k: v for k, v in tensors.items() if not k.endswith("calibration")}
    assert len(old) < len(tensors)
    save_artifact(tmp_path / "old.lstmcast", header, old)
    loaded, _ = api.load_model(tmp_path / "old.lstmcast")
    assert torch.count_nonzero(loaded.calibration) == 0


@pytest.mark.slow
@pytest.mark.parametrize("scaling", ["meanabs", "log"])
def test_scaling_variants_train_and_forecast(tmp_path, scaling):
    data, model = tmp_path / "d.csv", tmp_path / "m.lstmcast"
    hourly_frame().to_csv(data, index=False)
    invoke("train", data, "--model", model, *TINY, "--scaling", scaling, "--quiet")
    loaded, header = api.load_model(model)
    assert loaded.cfg.scaling == scaling
    assert scaling.replace("meanabs", "mean absolute") in header["scaling"]
    fc = api.predict(model).forecast
    assert np.isfinite(fc[["yhat", "yhat_lower", "yhat_upper"]].to_numpy()).all()
    assert fc["yhat"].between(0, 100).all()  # the data lives in 5..45


def test_log_scaling_refuses_non_positive_data(tmp_path):
    frame = hourly_frame()
    frame.loc[5, "y"] = 0.0
    data = tmp_path / "d.csv"
    frame.to_csv(data, index=False)
    result = invoke(
        "train", data, "--model", tmp_path / "m.lstmcast", *TINY, "--scaling", "log", ok=False
    )
    assert result.exit_code == 2
    assert "--scaling log needs positive data" in result.output
    assert not (tmp_path / "m.lstmcast").exists()


@pytest.mark.slow
def test_unknown_scaling_and_loss_are_usage_errors(tmp_path):
    data = tmp_path / "d.csv"
    hourly_frame().to_csv(data, index=False)
    for opt in (["--scaling", "minmax"], ["--loss", "mse"]):
        result = invoke("train", data, "--model", tmp_path / "m.lstmcast", *TINY, *opt, ok=False)
        assert result.exit_code == 2, result.output
        assert opt[1] in result.output


def test_huber_loss_trains_and_differs_from_pinball():
    torch.set_num_threads(1)
    panel = many_series_panel(n=4)
    cfg = resolve_model_config(ModelConfig(hidden_size=8, layers=1), panel)
    base = TrainConfig(epochs=1, windows_per_epoch=64, batch_size=32, device="cpu")
    a = fit(panel, cfg, base).model.state_dict()
    b = fit(panel, cfg, dataclasses.replace(base, loss="huber")).model.state_dict()
    assert all(torch.isfinite(v).all() for v in b.values())
    assert not torch.equal(a["head.3.weight"], b["head.3.weight"])
