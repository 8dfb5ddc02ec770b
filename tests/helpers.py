"""Helpers shared by the CLI test modules: ragged hourly data and a CLI invoker."""

from __future__ import annotations

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from lstmcast.cli import app

runner = CliRunner()

# The smallest model that still trains: seconds per run on two busy cores.
TINY = [
    "--hidden-size", "8", "--layers", "1", "--epochs", "2", "--windows-per-epoch", "64",
    "--batch-size", "32", "--device", "cpu",
]  # fmt: skip

# A small model that learns trend and weekly profile of trending_weekly_frame() in seconds.
WEEKLY_LSTM = (
    "--hidden-size", "16", "--layers", "1", "--epochs", "8", "--windows-per-epoch", "1024",
    "--batch-size", "64", "--device", "cpu",
)  # fmt: skip

SPEC = (("A", "2024-01-01 00:00", 160), ("B", "2024-01-01 05:00", 150), ("C", "2024-01-02", 140))


def hourly_frame(spec=SPEC, seed=0) -> pd.DataFrame:
    """Ragged hourly series with a daily cycle and noise: each series ends at another hour."""
    rng = np.random.default_rng(seed)
    parts = []
    for k, (uid, start, n) in enumerate(spec):
        ds = pd.date_range(start, periods=n, freq="h")
        y = 10 * (k + 1) + 3 * np.sin(2 * np.pi * ds.hour / 24) + rng.normal(0, 0.3, n)
        parts.append(pd.DataFrame({"unique_id": uid, "ds": ds, "y": y}))
    return pd.concat(parts, ignore_index=True)


def invoke(*args, ok=True):
    """Run the CLI in-process; with ok=True, assert it exited 0."""
    result = runner.invoke(app, [str(a) for a in args])
    if ok:
        assert result.exit_code == 0, result.output
    return result


def train_tiny(folder, *extra):
    """Write hourly_frame() to folder/data.csv, train a TINY model on it with `extra` options.

    Returns a namespace with folder, data, model, frame and the CLI result.
    """
    from types import SimpleNamespace

    data, model = folder / "data.csv", folder / "model.lstmcast"
    frame = hourly_frame()
    frame.to_csv(data, index=False)
    result = invoke("train", data, "--model", model, *TINY, *extra)
    return SimpleNamespace(folder=folder, data=data, model=model, frame=frame, result=result)


def mixing_model(panel, gate_bias: float):
    """A model whose median is exactly sigmoid(bias) seasonal naive + the rest naive (in
    normalised units; std scaling keeps that a mix in data units): head weights zero."""
    import torch

    from lstmcast.config import ModelConfig
    from lstmcast.methods.lstm import LSTMForecaster
    from lstmcast.train import resolve_model_config

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


def walk_frame(n_series=1, n=300, freq="D", seed=0) -> pd.DataFrame:
    """Gaussian random walks around 100: the last value is the best forecast."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2023-01-01", periods=n, freq=freq)
    return pd.concat(
        pd.DataFrame({"unique_id": f"w{k}", "ds": ds, "y": 100 + np.cumsum(rng.normal(0, 1, n))})
        for k in range(n_series)
    )


def seasonal_frame(n_series=4, n=300, seed=0, slope=0.0, noise=1.5) -> pd.DataFrame:
    """Daily series with a strong weekly profile, noise, and optionally a trend."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2023-01-01", periods=n, freq="D")
    profile = np.array([0, 4, 6, 5, 3, -8, -10])
    return pd.concat(
        pd.DataFrame(
            {
                "unique_id": f"s{k}",
                "ds": ds,
                "y": 50
                + 10 * k
                + slope * (k + 1) * np.arange(n)
                + profile[ds.day_of_week]
                + rng.normal(0, noise, n),
            }
        )
        for k in range(n_series)
    )


def trending_weekly_frame() -> pd.DataFrame:
    """Four daily series with a weekly profile on a trend: seasonal naive is the best
    baseline but lags a week of trend behind, and WEEKLY_LSTM learns both."""
    return seasonal_frame(slope=0.3, noise=0.5)


def rewrite_header(path, change) -> None:
    """Edit a model file's JSON header in place with `change(header)`, keeping the framing
    and the payload (and so its checksum): a damaged file, or one from an older version."""
    import json
    import struct

    from lstmcast.modelfile.container import FORMAT_VERSION, MAGIC, read_header

    header, start = read_header(path)
    payload = path.read_bytes()[start:]
    change(header)
    head = json.dumps(header).encode()
    path.write_bytes(MAGIC + struct.pack("<IQ", FORMAT_VERSION, len(head)) + head + payload)
