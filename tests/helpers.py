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
