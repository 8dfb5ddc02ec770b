"""Every model file that `train` writes, the other commands read: tiny models trained across
frequencies, from milliseconds to years, and at the ends of each option's range, each read
back by `predict`, `info` and `evaluate` through the CLI; and the settings train derives for
any frequency pandas has, on short and on very long series, inside the header's bounds."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from helpers import invoke

from lstmcast import api
from lstmcast.config import OPTION_STEPS, DataSpec, ModelConfig
from lstmcast.data.load import load
from lstmcast.modelfile.header import MODEL_FIELDS
from lstmcast.train import resolve_model_config

# The smallest model that trains at all: about a second per file on two busy cores.
SMALLEST = (
    "--hidden-size", "2", "--layers", "1", "--epochs", "1", "--max-steps", "2",
    "--windows-per-epoch", "8", "--batch-size", "8", "--device", "cpu", "--threads", "1",
    "--no-config",
)  # fmt: skip
POINTS = 40  # per series: an LSTM on every grid with --horizon 2, and few windows to score
# 99 quantiles, none of them 0.5: the model holds 100, the median added
MANY_QUANTILES = ",".join(f"{q:.3f}" for q in np.arange(0.005, 0.99, 0.01))


def write_series(folder, freq: str, points: int = POINTS):
    """Two series on a `freq` grid (one 3 steps shorter): a cycle and noise, positive."""
    rng = np.random.default_rng(0)
    parts = []
    for uid, n in (("a", points), ("b", points - 3)):
        ds = pd.date_range("2021-01-04", periods=n, freq=freq)
        y = 50 + 5 * np.sin(np.arange(n) * 2 * np.pi / 6) + rng.normal(0, 1, n)
        parts.append(pd.DataFrame({"unique_id": uid, "ds": ds, "y": y}))
    path = folder / "data.csv"
    pd.concat(parts).to_csv(path, index=False)
    return path


def read_back(folder, train=(), predict=(), evaluate=()) -> dict:
    """Train on folder/data.csv, then predict, info and evaluate the model file, each exiting
    0 and agreeing with what train wrote. Returns the model's settings."""
    data, model = folder / "data.csv", folder / "m.lstmcast"
    trained = json.loads(
        invoke("train", data, "--model", model, *SMALLEST, *train, "--json").stdout
    )
    cfg = trained["model_config"]
    forecast = json.loads(invoke("predict", "--model", model, *predict, "--json").stdout)
    assert len(forecast["forecast"]) == 2 * forecast["horizon"]
    info = json.loads(invoke("info", model, "--json").stdout)
    assert info["model_config"] == cfg and info["lstm_trained"] == trained["lstm_trained"]
    evaluated = json.loads(
        invoke("evaluate", "--model", model, "--folds", "1", *evaluate, "--json").stdout
    )
    assert evaluated["windows"] >= 1 and "chosen" in evaluated["methods"]
    assert ("lstm" in evaluated["methods"]) == trained["lstm_trained"]
    return cfg


FREQS = ["1ms", "500ms", "1s", "1min", "15min", "h", "D", "B", "W-SUN", "MS", "ME", "QS",
         "QE", "YS", "YE"]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("freq", FREQS)
def test_a_model_of_every_frequency_is_read_back(tmp_path, freq):
    write_series(tmp_path, freq)
    season = load(tmp_path / "data.csv").season
    # A backtest fold needs a season + 1 steps of history (README): on 40 points of a
    # long season, evaluate measures MASE against the last value instead.
    evaluate = () if season + 1 + 2 <= POINTS - 3 else ("--season", "1")
    cfg = read_back(tmp_path, ("--horizon", "2"), (), evaluate)
    assert cfg["season"] == season <= OPTION_STEPS
    assert cfg["lookback"] <= OPTION_STEPS


# The ends of each model and training option's range that a tiny run can afford. Left out:
# --hidden-size 2048, --ensemble 100 and --batch-size 65536 (a minute or more each),
# --threads 1024 (1,024 threads on two cores), --horizon 100000 (half a minute of header).
EXTREMES = {
    "lowest": (
        "--hidden-size", "1", "--lookback", "1", "--horizon", "1", "--season", "1",
        "--skip-cycles", "1", "--epochs", "1", "--max-steps", "1", "--windows-per-epoch", "1",
        "--batch-size", "1", "--patience", "1", "--val-size", "1", "--dropout", "0",
        "--seed", "0", "--time-budget", "0.001", "--lr", "1e-9",
    ),
    "highest": (
        "--layers", "8", "--dropout", "0.9", "--skip-cycles", "1000", "--ensemble", "2",
        "--windows-per-epoch", "100000000", "--epochs", "100000",
        "--patience", "100000", "--seed", "4294967295", "--time-budget", "31536000",
        "--quantiles", MANY_QUANTILES, "--horizon", "2",
    ),
    "longest lookback": ("--lookback", str(OPTION_STEPS)),  # too little data: baselines only
    "longest validation": ("--val-size", "1000000"),
    "longest season": ("--season", str(OPTION_STEPS), "--horizon", "2"),
    "other choices": ("--scaling", "meanabs", "--loss", "huber", "--no-calendar",
                      "--no-calibrate", "--horizon", "2"),  # fmt: skip
    "std": ("--scaling", "std", "--horizon", "2"),
    "log": ("--scaling", "log", "--horizon", "2"),
}  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("case", EXTREMES)
def test_a_model_at_the_ends_of_the_option_ranges_is_read_back(tmp_path, case):
    write_series(tmp_path, "h")
    cfg = read_back(tmp_path, EXTREMES[case], (), ("--season", "1", "--horizon", "2"))
    if case == "highest":
        assert len(cfg["quantiles"]) == 100


@pytest.mark.slow
def test_a_horizon_whose_offsets_no_header_holds_is_refused_before_training(tmp_path):
    data, model = write_series(tmp_path, "D"), tmp_path / "m.lstmcast"
    result = invoke(
        "train", data, "--model", model, *SMALLEST, "--horizon", str(OPTION_STEPS),
        "--quantiles", MANY_QUANTILES, ok=False,
    )  # fmt: skip
    assert result.exit_code == 2 and "--horizon 100,000 with 100 quantiles" in result.stderr
    assert "pass --horizon 3,355 or less" in result.stderr and not model.exists()


def derived(frame: pd.DataFrame, freq: str, **options) -> dict:
    """The settings train derives for `frame`, as a model file stores them."""
    cfg = resolve_model_config(ModelConfig(**options), load(frame, DataSpec(freq=freq)))
    return json.loads(json.dumps(dataclasses.asdict(cfg)))


def grid(freq: str, points: int) -> pd.DataFrame:
    ds = pd.date_range("1900-01-01", periods=points, freq=freq)
    return pd.DataFrame({"ds": ds, "y": np.sin(np.arange(points) / 7) + 2})


@pytest.mark.parametrize(
    "freq", ["1ns", "1us", "1ms", "50ms", "100ms", "250ms", "750ms", "2s", "7min", "3h", "2D",
             "7D", "2W-SUN", "2MS", "12MS", "2QS", "2YS", *FREQS],
)  # fmt: skip
def test_what_train_derives_for_any_frequency_fits_the_header(freq):
    stored = derived(grid(freq, 60), freq)
    for name, check in MODEL_FIELDS.items():
        assert check(stored[name]) is None, (name, stored[name])
    assert max(stored["season"], stored["horizon"], stored["lookback"]) <= OPTION_STEPS


@pytest.mark.slow
def test_the_default_lookback_of_long_one_second_series_fits_the_header():
    """Fourteen days of 1-second steps would be 1.2 million: the lookback stops at 100,000."""
    stored = derived(grid("1s", 1_300_000), "1s", horizon=4)
    assert stored["season"] == 86_400 and OPTION_STEPS <= stored["lookback"] < 2 * OPTION_STEPS
    for name, check in MODEL_FIELDS.items():
        assert check(stored[name]) is None, (name, stored[name])


def write_format_1(path) -> None:
    """Rewrite a model file as format 1 wrote it: version 1 in the framing and the header,
    no `band_scale` field and no `data.last` tensor (each series' last timestamp)."""
    from lstmcast.modelfile import container

    header, tensors = container.load_artifact(path)
    for key in ("band_scale", "tensors", "payload_sha256"):
        header.pop(key, None)
    tensors.pop("data.last")
    header["format_version"] = 1
    real = container.FORMAT_VERSION
    container.FORMAT_VERSION = 1
    try:
        container.save_artifact(path, header, tensors)
    finally:
        container.FORMAT_VERSION = real


def test_a_file_from_before_band_scale_keeps_its_bands_in_mase_units(tmp_path):
    """A series that tripled: the band of a new file follows its level; the same file read
    as a format-1 file, written before the `band_scale` field (offsets in plain MASE units),
    does not; `predict` reads format 1."""
    from lstmcast.modelfile.container import read_header

    wiggle = np.where(np.arange(48) % 2 == 0, 1.0, -1.0)
    y = np.concatenate([np.full(36, 10.0), np.full(12, 30.0)]) + wiggle
    ds = pd.date_range("2020-01-01", periods=48, freq="MS")
    data, model = tmp_path / "grown.csv", tmp_path / "m.lstmcast"
    pd.DataFrame({"ds": ds, "y": y}).to_csv(data, index=False)
    # --lookback 96: too little data for an LSTM, so a per-series method forecasts it
    invoke("train", data, "--model", model, *SMALLEST, "--horizon", "3", "--lookback", "96")
    header, _ = read_header(model)
    assert header["band_scale"] and header["lstm_trained"] is False

    def width(name: str) -> np.ndarray:
        out = tmp_path / name
        invoke("predict", "--model", model, "-o", out)
        frame = pd.read_csv(out)
        return (frame["yhat_upper"] - frame["yhat_lower"]).to_numpy()

    new = width("new.csv")
    write_format_1(model)
    assert read_header(model)[0]["format_version"] == 1
    old = width("old.csv")
    assert (new > 0).all() and (old > 0).all()
    # the scale grows by the recent level over the mean level: the last 12 values over all
    np.testing.assert_allclose(new / old, y[-12:].mean() / y.mean(), rtol=1e-3)


def rewrite_header(path, change) -> None:
    """Apply `change` to a model file's header and write the file back, framing and all."""
    from lstmcast.modelfile import container

    header, tensors = container.load_artifact(path)
    for key in ("tensors", "payload_sha256"):
        header.pop(key, None)
    change(header)
    container.save_artifact(path, header, tensors)


def test_a_mix_ships_its_own_band_and_a_file_without_one_averages_its_parts(tmp_path):
    """A model file whose series are forecast by `lstm+naive`: with `mix_widths`, predict
    writes the mean of the LSTM's and naive's points with the mix's band; without (a file
    from before, or a mix on few windows), the two quantile forecasts averaged."""
    from lstmcast import metrics

    rng = np.random.default_rng(3)
    ds = pd.date_range("2024-01-01", periods=POINTS, freq="D")
    y = {k: 50 + np.cumsum(rng.normal(0, 1, POINTS)) for k in ("a", "b")}
    frame = pd.concat(pd.DataFrame({"unique_id": k, "ds": ds, "y": v}) for k, v in y.items())
    data, model = tmp_path / "walks.csv", tmp_path / "m.lstmcast"
    frame.to_csv(data, index=False)
    invoke("train", data, "--model", model, *SMALLEST, "--horizon", "2")
    offsets = [[-0.5, 0.0, 0.5], [-1.5, 0.0, 1.5]]  # (H, Q), in band-scale units

    def ship_the_mix(header):
        header["methods"] = {"a": "lstm+naive", "b": "lstm+naive"}
        header["mix_widths"] = {"lstm+naive": offsets}

    rewrite_header(model, ship_the_mix)
    season = json.loads(invoke("info", model, "--json").stdout)["model_config"]["season"]

    def forecast(name: str, *options) -> pd.DataFrame:
        invoke("predict", data, "--model", model, "-o", tmp_path / name, *options)
        return pd.read_csv(tmp_path / name).set_index(["unique_id", "ds"])

    mix, lstm = forecast("mix.csv"), forecast("lstm.csv", "--fallback", "none")
    assert set(mix["model"]) == {"lstm+naive"}
    for k, v in y.items():
        point = (lstm.loc[k, "yhat"].to_numpy() + v[-1]) / 2
        np.testing.assert_allclose(mix.loc[k, "yhat"], point, rtol=1e-5)
        scale = metrics.band_scale(v, season, 2)
        half = mix.loc[k, "yhat_upper"] - mix.loc[k, "yhat"]
        np.testing.assert_allclose(half, np.array(offsets)[:, 2] * scale, rtol=1e-4)

    rewrite_header(model, lambda header: header.pop("mix_widths"))
    averaged = forecast("averaged.csv")
    naive = np.asarray(api.model_info(model)["method_widths"]["naive"])
    for k, v in y.items():
        upper = v[-1] + naive[:, 2] * metrics.band_scale(v, season, 2)
        expected = (lstm.loc[k, "yhat_upper"].to_numpy() + upper) / 2
        np.testing.assert_allclose(averaged.loc[k, "yhat_upper"], expected, rtol=1e-4)
