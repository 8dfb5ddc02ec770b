"""Short data, everywhere: a model file without an LSTM is backtested by the baselines
predict uses, and `evaluate --refit` falls back on folds too short for an LSTM as train does."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from helpers import TINY, invoke

from lstmcast import methods

pytestmark = pytest.mark.slow


def weekly_daily(lengths: dict[str, int], seed: int = 1) -> pd.DataFrame:
    """Daily series with a weekly cycle and noise, one per (id, length)."""
    rng = np.random.default_rng(seed)
    return pd.concat(
        pd.DataFrame(
            {
                "unique_id": uid,
                "ds": pd.date_range("2024-01-01", periods=n, freq="D"),
                "y": 20 + 5 * np.sin(np.arange(n) * 2 * np.pi / 7) + rng.normal(0, 1, n),
            }
        )
        for uid, n in lengths.items()
    )


def test_evaluate_backtests_the_baselines_of_a_model_without_lstm(tmp_path):
    data, model = tmp_path / "short.csv", tmp_path / "m.lstmcast"
    weekly_daily({"a": 22, "b": 20}).to_csv(data, index=False)
    # --lookback 28 needs 28 points to train: too little data, every series gets a baseline
    trained = invoke("train", data, "--model", model, *TINY, "--lookback", "28", "--json")
    assert json.loads(trained.stdout)["lstm_trained"] is False
    predicted = tmp_path / "f.csv"
    invoke("predict", "--model", model, "-o", predicted)
    shipped = pd.read_csv(predicted).groupby("unique_id")["model"].first().to_dict()

    windows = tmp_path / "windows.csv"
    result = invoke("evaluate", "--model", model, "--folds", "2", "--forecasts", windows, "--json")
    doc = json.loads(result.stdout)
    assert "lstm" not in doc["methods"] and "chosen" in doc["methods"]
    assert doc["verdict"] is None and doc["skill_vs_seasonal_naive"] is None
    assert any("holds no LSTM" in w for w in doc["warnings"])
    for row in doc["per_series"]:  # the choice scored is exactly the baseline predict uses
        chosen = shipped[row["unique_id"]]
        assert chosen in methods.local_names()
        assert row["chosen_mase"] == pytest.approx(row[f"{chosen}_mase"])
    frame = pd.read_csv(windows)
    assert frame.groupby("unique_id")["model"].first().to_dict() == shipped
    assert frame["lstm"].isna().all()  # the LSTM's column: there is no LSTM
    shipped_point = frame.apply(lambda r: r[r["model"]], axis=1)  # yhat: the forecast shipped
    assert np.allclose(frame["yhat"], shipped_point, rtol=1e-5)

    tables = invoke("evaluate", "--model", model, "--folds", "2")
    assert "chosen per series" in tables.stdout and "LSTM " not in tables.stdout
    assert "no LSTM: the model file was trained on too little data" in tables.stdout
    plot = invoke(
        "evaluate", "--model", model, "--folds", "2", "--plot", tmp_path / "p.png", ok=False
    )
    assert plot.exit_code == 3 and "has no LSTM" in plot.stderr


def test_evaluate_refit_falls_back_on_folds_too_short_for_the_lstm(tmp_path):
    data, model = tmp_path / "daily.csv", tmp_path / "m.lstmcast"
    weekly_daily({"a": 30, "b": 26}).to_csv(data, index=False)
    trained = json.loads(invoke("train", data, "--model", model, *TINY, "--json").stdout)
    assert trained["lstm_trained"] is True
    windows = tmp_path / "windows.csv"
    args = ("evaluate", "--model", model, "--folds", "3", "--refit", "--forecasts", windows)
    result = invoke(*args, "--json")
    doc = json.loads(result.stdout)
    (note,) = [w for w in doc["warnings"] if w.startswith("--refit:")]
    assert "2 of 3 folds too short to train the LSTM" in note and "little data" in note
    assert doc["methods"]["lstm"]["mean"]["mase"] is not None  # scored on the fold that trained
    frame = pd.read_csv(windows)
    last = frame["cutoff"] == frame.groupby("unique_id")["cutoff"].transform("max")
    assert frame.loc[last, "lstm"].notna().all()  # the last fold's past trains an LSTM
    assert frame.loc[~last, "lstm"].isna().all()  # the earlier folds' do not
    assert frame["yhat"].notna().all()  # every window has the forecast that ships
    assert frame.loc[~last, "model"].isin(methods.local_names()).all()  # baselines instead
    plain = invoke(*args)  # the note is one line on stderr beside the tables
    lines = [line for line in plain.stderr.splitlines() if "--refit:" in line]
    assert len(lines) == 1 and lines[0].startswith("warning: --refit: 2 of 3 folds")


def test_a_band_on_one_window_says_its_coverage_is_a_guess(tmp_path):
    """30 monthly points and --horizon 12 leave one held-out window for the band."""
    rng = np.random.default_rng(0)
    data = tmp_path / "m30.csv"
    pd.DataFrame(
        {
            "month": pd.date_range("2022-01-01", periods=30, freq="MS"),
            "sales": 100 + np.cumsum(rng.normal(2, 5, 30)),
        }
    ).to_csv(data, index=False)
    args = ("train", data, "--model", tmp_path / "m.lstmcast", *TINY, "--horizon", "12")
    doc = json.loads(invoke(*args, "--json").stdout)
    (band,) = [w for w in doc["warnings"] if "band rests on" in w]
    assert band.startswith("the 80 % band rests on 1 held-out window: its coverage is a rough")
    plain = invoke(*args)
    assert "warning: the 80 % band rests on 1 held-out window" in plain.stderr


def test_a_band_on_enough_windows_says_nothing(tmp_path):
    data = tmp_path / "daily.csv"
    weekly_daily({"a": 200, "b": 190}).to_csv(data, index=False)
    args = ("train", data, "--model", tmp_path / "m.lstmcast", *TINY, "--horizon", "7")
    doc = json.loads(invoke(*args, "--json").stdout)
    assert not [w for w in doc["warnings"] if "band rests on" in w], doc["warnings"]
    assert min(doc["validation"]["band_windows"].values()) >= 3
