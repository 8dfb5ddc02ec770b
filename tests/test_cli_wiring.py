"""Each command hands its options to the one core call it makes, as the right config objects.

The core call is replaced by a recorder, so nothing is read, trained or written: these tests
pin the wiring from the command line to lstmcast.api, nothing more.
"""

from __future__ import annotations

import datetime as dt
import inspect
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from typer.testing import CliRunner

from lstmcast import api
from lstmcast.cli import app
from lstmcast.config import DataSpec, ModelConfig, TrainConfig

runner = CliRunner()


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no lstmcast.toml of the checkout; outputs land here


def record(monkeypatch, name: str, returns) -> dict:
    """Replace lstmcast.api.`name` by a recorder: the arguments it was called with, by name."""
    real, calls = getattr(api, name), {}

    def recorder(*args, **kwargs):
        calls.update(inspect.signature(real).bind(*args, **kwargs).arguments)
        return returns

    monkeypatch.setattr(api, name, recorder)
    return calls


def run(*args) -> None:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output


def test_inspect_passes_the_data_options_as_a_data_spec(monkeypatch):
    calls = record(monkeypatch, "load", SimpleNamespace(summary=lambda: {}))
    run(
        "inspect", "data.csv", "--time-col", "Date", "--target", "Close", "--freq", "D",
        "--date-format", "%d/%m/%Y", "--max-gap", "5", "--covariates", "a, b",
        "--past-covariates", "c", "--json",
    )  # fmt: skip
    assert calls == {
        "path": Path("data.csv"),
        "spec": DataSpec(
            time_col="Date",
            target="Close",
            freq="D",
            max_gap=5,
            date_format="%d/%m/%Y",
            covariates=("a", "b"),
            past_covariates=("c",),
        ),  # fmt: skip
    }


def test_train_builds_the_model_and_training_configs(monkeypatch):
    summary = SimpleNamespace(
        series=1,
        warnings=[],
        to_dict=lambda: {
            "data_path": "", "model_path": "", "model": {}, "validation": {}, "forecast_by": {}
        },
    )  # fmt: skip
    calls = record(monkeypatch, "train", summary)
    run(
        "train", "data.csv", "--model", "m.lstmcast", "--horizon", "12", "--lookback", "48",
        "--seed", "3", "--hidden-size", "16", "--no-calendar", "--quantiles", "0.05,0.5,0.95",
        "--max-steps", "7", "--lr", "0.01", "--loss", "huber", "--device", "cpu",
        "--target", "y", "--warm-start", "--lock-timeout", "9", "--no-config", "--json",
    )  # fmt: skip
    assert calls.pop("callback") is not None  # the progress bar
    assert calls == {
        "data": Path("data.csv"),
        "model_path": Path("m.lstmcast"),
        "spec": DataSpec(target="y"),
        "model_cfg": ModelConfig(
            lookback=48, horizon=12, hidden_size=16, quantiles=(0.05, 0.5, 0.95), calendar=False
        ),
        "train_cfg": TrainConfig(max_steps=7, lr=0.01, seed=3, device="cpu", loss="huber"),
        "warm_start": True,
        "lock_timeout": 9.0,
        # the model options given, which --warm-start holds against the model file's
        "given": {"lookback", "horizon", "hidden_size", "quantiles", "calendar"},
    }


def test_predict_passes_its_options_and_the_output_file(monkeypatch):
    result = SimpleNamespace(
        series=2, horizon=24, warnings=[], data_path="data.csv", lagging=[], new=[],
        last_timestamp=pd.Timestamp("2026-11-28"), forecast=pd.DataFrame({"ds": pd.to_datetime([])}),
    )  # fmt: skip
    calls = record(monkeypatch, "predict", result)
    run(
        "predict", "data.csv", "-m", "m.lstmcast", "--horizon", "24", "-o", "f.csv",
        "--max-age", "7d", "--as-of", "2026-11-28T02:00", "--strict", "--fallback", "none",
        "--id-col", "store", "--lock-timeout", "5", "--no-config", "--json",
    )  # fmt: skip
    assert calls == {
        "model_path": Path("m.lstmcast"),
        "data": Path("data.csv"),
        "horizon": 24,
        "device": "cpu",
        "max_gap": None,
        "max_age": dt.timedelta(days=7),
        "as_of": dt.datetime(2026, 11, 28, 2, tzinfo=dt.timezone.utc),
        "strict": True,
        "lock_timeout": 5.0,
        "output": Path("f.csv"),
        "fallback": "none",
        "spec": DataSpec(id_col="store"),
    }


def test_info_reads_the_model_it_is_given(monkeypatch):
    header = {"file": {"path": "m.lstmcast", "bytes": 1}, "data": {}, "model": {}}
    calls = record(monkeypatch, "model_info", header)
    run("info", "m.lstmcast", "--json")
    assert calls == {"path": Path("m.lstmcast")}


def test_evaluate_makes_one_call_that_also_writes_its_files(monkeypatch):
    result = SimpleNamespace(series=1, summary={}, per_series=pd.DataFrame(), warnings=[])
    calls = record(monkeypatch, "evaluate", result)
    run(
        "evaluate", "data.csv", "-m", "m.lstmcast", "--folds", "5", "--horizon", "6",
        "--step", "2", "--season", "24", "--refit", "-o", "s.csv", "--forecasts", "w.parquet",
        "--plot", "p.png", "--freq", "h", "--no-config", "--json",
    )  # fmt: skip
    assert calls.pop("callback") is not None and callable(calls.pop("scored"))
    assert callable(calls.pop("train_callback"))  # --refit trains: signals are checked there
    assert calls == {
        "model_path": Path("m.lstmcast"),
        "data": Path("data.csv"),
        "folds": 5,
        "horizon": 6,
        "step": 2,
        "season": 24,
        "refit": True,
        "device": "cpu",
        "spec": DataSpec(freq="h"),
        "output": Path("s.csv"),
        "forecasts": Path("w.parquet"),
        "plot": Path("p.png"),
        "show": 10,  # the default: --show also picks the series --plot draws
    }


def test_plot_passes_the_series_and_the_window(monkeypatch):
    calls = record(
        monkeypatch, "plot", SimpleNamespace(series=["A"], warnings=[], data="data.csv", total=2)
    )
    run(
        "plot", "data.csv", "-m", "m.lstmcast", "-o", "p.png", "-s", "A", "-s", "B",
        "--last", "30", "--holdout", "12", "--horizon", "12", "--target", "sales", "--json",
    )  # fmt: skip
    assert calls == {
        "model_path": Path("m.lstmcast"),
        "output": Path("p.png"),
        "data": Path("data.csv"),
        "series": ["A", "B"],
        "last": 30,
        "holdout": 12,
        "horizon": 12,
        "device": "cpu",
        "spec": DataSpec(target="sales"),
    }
