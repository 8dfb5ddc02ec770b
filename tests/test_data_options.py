"""The data options on every command that reads data, and data from standard input."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from helpers import TINY, invoke
from typer.testing import CliRunner

from lstmcast.cli import app

DATA_OPTIONS = ["--time-col", "--target", "--id-col", "--freq", "--date-format"]


@pytest.mark.parametrize("command", ["inspect", "train", "predict", "evaluate", "plot"])
def test_every_command_that_reads_data_has_the_data_options(runner, command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output
    for option in DATA_OPTIONS:
        assert option in result.stdout, f"{command} lacks {option}"


def prices(n=80, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2024-01-01", periods=n, freq="D")
    close = 100 + 5 * np.sin(2 * np.pi * np.arange(n) / 7) + rng.normal(0, 0.5, n)
    return pd.DataFrame({"Date": ds.strftime("%Y-%m-%d"), "Close": close})


@pytest.fixture(scope="module")
def close_model(trained_model):
    """A tiny model trained on a `Date, Close` file: (its folder, data, model), read-only."""
    run = trained_model("close", prices, ("--horizon", "3", "--lookback", "14"), "prices.csv")
    return run.folder, run.data, run.model


def forecast(result) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(result.stdout), parse_dates=["ds"])


@pytest.mark.slow
def test_renamed_columns_are_mapped_onto_the_model_by_the_options(close_model, tmp_path):
    _, data, model = close_model
    renamed = tmp_path / "price2.csv"
    prices().rename(columns={"Date": "When", "Close": "Price"}).to_csv(renamed, index=False)
    same = forecast(invoke("predict", data, "--model", model, "--format", "csv"))
    mapped = invoke(
        "predict", renamed, "--model", model, "--format", "csv", "--target", "Price",
        "--time-col", "When", "--strict", "--as-of", "2024-03-21",
    )  # fmt: skip
    # The same numbers under other column names forecast the same, under the model's series name.
    pd.testing.assert_frame_equal(forecast(mapped), same)
    assert set(forecast(mapped)["unique_id"]) == {"Close"}


@pytest.mark.slow
def test_a_missing_model_column_says_what_the_model_reads(close_model, runner, tmp_path):
    _, _, model = close_model
    renamed = tmp_path / "price3.csv"
    prices().rename(columns={"Close": "Price"}).to_csv(renamed, index=False)
    for command in (["predict"], ["evaluate"], ["plot", "-o", str(tmp_path / "p.png")]):
        result = runner.invoke(app, [*command, str(renamed), "--model", str(model)])
        assert result.exit_code == 3, result.output
        assert "the model reads target 'Close'; this file has columns Date, Price" in result.stderr
        assert "pass --target COLUMN" in result.stderr
    # A column named by the user that is not there is the user's own error.
    result = runner.invoke(
        app, ["predict", str(renamed), "--model", str(model), "--target", "Prize"]
    )
    assert result.exit_code == 3 and "--target Prize: no such column" in result.stderr


@pytest.mark.slow
def test_evaluate_and_plot_map_columns_too(close_model, tmp_path):
    _, _, model = close_model
    renamed = tmp_path / "price4.csv"
    prices().rename(columns={"Close": "Price"}).to_csv(renamed, index=False)
    doc = json.loads(
        invoke(
            "evaluate", renamed, "--model", model, "--target", "Price", "--folds", "1", "--json"
        ).stdout
    )
    assert doc["series"] == 1
    png = tmp_path / "p4.png"
    invoke("plot", renamed, "--model", model, "--target", "Price", "-o", png)
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_inspect_reads_standard_input(runner, close_model):
    _, data, _ = close_model
    result = runner.invoke(app, ["inspect", "-", "--json"], input=data.read_bytes())
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["rows"] == 80


@pytest.mark.slow
def test_predict_from_standard_input_never_falls_back_to_the_training_file(close_model):
    folder, data, model = close_model
    # The training file is gone: predict - must read the pipe, and only the pipe.
    moved = folder / "moved.csv"
    os.replace(data, moved)
    try:
        shorter = prices(n=60).to_csv(index=False).encode()
        run = subprocess.run(
            [sys.executable, "-m", "lstmcast", "predict", "-", "--model", str(model), "--format", "csv"],
            input=shorter, capture_output=True, timeout=120,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr.decode()
        out = pd.read_csv(io.BytesIO(run.stdout), parse_dates=["ds"])
        assert out["ds"].min() == pd.Timestamp("2024-03-01")  # one day after the 60th row
        # An empty pipe is an error, not a reason to read the recorded file.
        empty = CliRunner().invoke(app, ["predict", "-", "--model", str(model)], input=b"")
        assert empty.exit_code == 3 and "standard input: the file is empty" in empty.stderr
    finally:
        os.replace(moved, data)


@pytest.mark.slow
def test_a_model_trained_from_standard_input_asks_for_the_data(runner, tmp_path):
    model = tmp_path / "m.lstmcast"
    args = ["train", "-", "--model", str(model), *TINY, "--horizon", "3", "--lookback", "14"]
    trained = runner.invoke(app, args, input=prices().to_csv(index=False))
    assert trained.exit_code == 0, trained.output
    assert json.loads(invoke("info", model, "--json").stdout)["data"] == "-"
    result = runner.invoke(app, ["predict", "--model", str(model)])
    assert result.exit_code == 3
    assert "trained on standard input" in result.stderr and "lstmcast predict DATA" in result.stderr


@pytest.mark.slow
def test_predict_freq_must_be_the_models(close_model, runner):
    _, data, model = close_model
    result = runner.invoke(app, ["predict", str(data), "--model", str(model), "--freq", "h"])
    assert result.exit_code == 2 and "--freq h: the model was trained on D data" in result.stderr
    same = invoke("predict", data, "--model", model, "--freq", "1D", "--format", "csv")
    assert same.stdout == invoke("predict", data, "--model", model, "--format", "csv").stdout


@pytest.mark.slow
def test_a_file_in_another_date_form_needs_date_format(close_model, runner, tmp_path):
    _, data, model = close_model
    dotted = tmp_path / "dotted.csv"
    frame = prices()
    frame["Date"] = pd.to_datetime(frame["Date"]).dt.strftime("%d.%m.%Y")
    frame.to_csv(dotted, index=False)
    # The model recorded ISO 8601; its format is the default, and says so when it does not fit.
    result = runner.invoke(app, ["predict", str(dotted), "--model", str(model)])
    assert result.exit_code == 3
    assert "'01.01.2024', which does not fit the date format ISO 8601" in result.stderr
    assert "--date-format" in result.stderr
    args = ["--model", model, "--format", "csv"]
    mapped = invoke("predict", dotted, *args, "--date-format", "%d.%m.%Y")
    assert mapped.stdout == invoke("predict", data, *args).stdout
