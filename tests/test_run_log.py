"""What an unattended run reports: the --log-file line of train and predict, and the series
predict forecasts without evidence of their own (new since training, or too short then)."""

import json

import numpy as np
import pandas as pd
import pytest
from helpers import TINY, hourly_frame, invoke, walk_frame
from test_unattended import logged_warnings, read_log

from lstmcast import methods

FRESH = "2024-01-08T00:00"  # hours after the newest row of hourly_frame()


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def with_new_series(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` and two series it was not trained on, ending with the others: 'NEW' as long
    as a trained series, 'TINYNEW' 20 hours that swing by about ±25 around 100."""
    rng = np.random.default_rng(5)
    ds = pd.date_range("2024-01-01 04:00", "2024-01-07 19:00", freq="h")
    new = pd.DataFrame({"unique_id": "NEW", "ds": ds, "y": 40 + rng.normal(0, 1, len(ds))})
    tiny_ds = ds[-20:]
    tiny = pd.DataFrame(
        {"unique_id": "TINYNEW", "ds": tiny_ds, "y": 100 + rng.choice([-25, 25], 20)}
    )
    return pd.concat([frame, new, tiny], ignore_index=True)


def band_width(forecast: pd.DataFrame, series: str) -> np.ndarray:
    rows = forecast[forecast["unique_id"] == series]
    return (rows["yhat_upper"] - rows["yhat_lower"]).to_numpy()


def test_new_series_are_named_with_their_method_and_band(tmp_path, trained):
    with_new_series(trained.frame).to_csv("grown.csv", index=False)
    result = invoke(
        "predict", "grown.csv", "--model", trained.model, "-o", "f.csv", "--as-of", FRESH,
        "-q", "--log-file", "runs.log",
    )  # fmt: skip
    [warning] = [w for w in result.stderr.splitlines() if "new since training" in w]
    header = json.loads(invoke("info", trained.model, "--json").stdout)
    validation = header["metrics"]["validation"]
    default, local = validation["default_method"], validation["local_method"]
    forecast = pd.read_csv("f.csv")
    by = forecast.groupby("unique_id")["model"].first()
    # A new series with a whole lookback: the method chosen over all series; a new series
    # shorter than the lookback: the per-series method chosen over all series, never the
    # LSTM on a padded lookback.
    assert by["NEW"] == default and by["TINYNEW"] == local
    assert not methods.uses_lstm(local)
    assert warning.startswith("warning: 2 series new since training, never validated: ")
    assert (
        f"'TINYNEW' by {methods.label(local)} (band: its errors on the training series, scaled to the series' own history)"
        in warning
    )
    assert f"'NEW' by {methods.label(default)} (" in warning
    # Its band comes from its own history and widens with the horizon; the LSTM's, on the
    # padded lookback (--fallback none), is narrower for these ±25 swings.
    width = band_width(forecast, "TINYNEW")
    assert (np.diff(width) >= 0).all() and width[-1] > 25
    invoke(
        "predict", "grown.csv", "--model", trained.model, "-o", "lstm.csv", "--as-of", FRESH,
        "--fallback", "none", "-q",
    )  # fmt: skip
    assert width.mean() > band_width(pd.read_csv("lstm.csv"), "TINYNEW").mean()
    [line] = read_log(tmp_path / "runs.log")
    assert (line["new"], line["lagging"]) == ("2", "0")
    assert warning.removeprefix("warning: ") in logged_warnings(line)
    doc = json.loads(
        invoke("predict", "grown.csv", "--model", trained.model, "--as-of", FRESH, "--json").stdout
    )
    assert (doc["new"], doc["lagging"]) == (["NEW", "TINYNEW"], [])


def test_series_too_short_to_validate_at_training_are_named_at_predict(tmp_path, trained_model):
    spec = (("A", "2024-01-01", 160), ("B", "2024-01-01", 150), ("tiny", "2024-01-07", 20))
    model = trained_model("with-tiny", frame=lambda: hourly_frame(spec))
    result = invoke("predict", model.data, "--model", model.model, "--as-of", FRESH, "-q")
    [warning] = [w for w in result.stderr.splitlines() if "too short at training" in w]
    assert warning.startswith(
        "warning: 1 series too short at training for any validation window: 'tiny' by "
    )
    assert "'A'" not in warning and "'B'" not in warning


def test_short_series_forced_onto_the_lstm_are_named_shortest_first(trained):
    frame = trained.frame
    short = frame[(frame["unique_id"] == "A") | (frame["ds"] > "2024-01-05 12:00")]
    short.to_csv("short.csv", index=False)
    result = invoke(
        "predict",
        "short.csv",
        "--model",
        trained.model,
        "--fallback",
        "none",
        "--as-of",
        FRESH,
        "-q",
    )
    [warning] = [w for w in result.stderr.splitlines() if "shorter than the lookback" in w]
    lookback = json.loads(invoke("info", trained.model, "--json").stdout)["model_config"][
        "lookback"
    ]
    assert warning == (
        f"warning: 2 series shorter than the lookback {lookback}, forecast by the LSTM from a "
        "lookback padded with the first value: 'B' (46 points), 'C' (55 points)"
    )


def test_predict_log_line_carries_the_data_and_forecast_timestamps(tmp_path, trained):
    invoke(
        "predict", trained.data, "--model", trained.model, "-o", "f.csv", "--as-of", FRESH,
        "-q", "--log-file", "runs.log",
    )  # fmt: skip
    [line] = read_log(tmp_path / "runs.log")
    forecast = pd.read_csv("f.csv", parse_dates=["ds"])
    assert line["data_last"] == "2024-01-07T19:00:00"  # the newest row of the data
    assert line["forecast_first"] == forecast["ds"].min().isoformat() == "2024-01-07T11:00:00"
    assert line["forecast_last"] == forecast["ds"].max().isoformat()
    assert (line["lagging"], line["new"], line["series"]) == ("0", "0", "3")
    assert "warnings" not in line


@pytest.mark.slow
def test_train_log_line_carries_the_verdict_even_when_the_lstm_loses(tmp_path):
    # An LSTM trained for one short epoch on random walks loses to the per-series methods.
    walk_frame(n_series=4, n=150).to_csv("walk.csv", index=False)
    args = ("train", "walk.csv", "--model", "w.lstmcast", *TINY, "--epochs", "1", "--horizon", "7")
    quiet = invoke(*args, "-q", "--log-file", "runs.log")
    assert quiet.stdout == ""
    [line] = read_log(tmp_path / "runs.log")
    doc = json.loads(invoke("info", "w.lstmcast", "--json").stdout)["metrics"]
    validation = doc["validation"]
    assert validation["verdict"] == "loses"  # what the quiet run never printed
    assert line["verdict"] == "loses" and line["best_baseline"] == validation["best_baseline"]
    assert line["skill"] == f"{validation['skill_vs_best_baseline']:+.3f}"
    assert line["skill"].startswith("-")
    counts = dict(part.split(":") for part in line["forecast_by"].split(","))
    assert {m: int(n) for m, n in counts.items()} == doc["forecast_by"]
    assert sum(map(int, counts.values())) == 4 and "lstm" not in counts
