"""The installed `lstmcast` entry point in a real process, and what its light paths import."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import TINY

# Every test here starts the installed command in a process of its own.
pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent / ("lstmcast.exe" if os.name == "nt" else "lstmcast")
# One torch thread: tiny models are fastest that way, and a busy CI box makes more crawl.
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "NO_COLOR": "1", "COLUMNS": "120"}


def run(*args, cwd, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def data(tmp_path) -> Path:
    rng = np.random.default_rng(0)
    parts = []
    for k, uid in enumerate(("north", "south")):
        ds = pd.date_range("2024-03-01", periods=150, freq="h")
        y = 100 * (k + 1) + 10 * np.sin(2 * np.pi * ds.hour / 24) + rng.normal(0, 1, 150)
        parts.append(pd.DataFrame({"store": uid, "timestamp": ds, "sales": y}))
    path = tmp_path / "sales.csv"
    pd.concat(parts).to_csv(path, index=False)
    return path


def test_entry_point_is_installed():
    assert BIN.exists(), f"{BIN} missing: pip install -e . into this environment"


def test_train_then_predict_in_a_real_process(tmp_path, data):
    # "store" is not one of the id aliases, so it is named; time and target are inferred
    args = ("--model", "m.lstmcast", "--id-col", "store", *TINY)
    train = run(BIN, "train", data.name, *args, "--json", cwd=tmp_path)
    assert train.returncode == 0, train.stderr
    summary = json.loads(train.stdout)
    assert summary["series"] == 2
    assert (tmp_path / "m.lstmcast").read_bytes()[:8] == b"LSTMCAST"

    predict = run(BIN, "predict", "--model", "m.lstmcast", "-o", "f.csv", cwd=tmp_path)
    assert predict.returncode == 0, predict.stderr
    assert predict.stdout == ""
    assert "wrote 48 rows (2 series × 24 steps) to f.csv" in predict.stderr
    forecast = pd.read_csv(tmp_path / "f.csv", parse_dates=["ds"])
    assert list(forecast.columns) == [
        "unique_id",
        "ds",
        "yhat",
        "yhat_lower",
        "yhat_upper",
        "model",
    ]
    assert len(forecast) == 48
    assert sorted(forecast["unique_id"].unique()) == ["north", "south"]
    assert forecast["ds"].min() == pd.Timestamp("2024-03-01") + pd.Timedelta(hours=150)

    # errors: one line and a hint on stderr, the documented exit code, no traceback
    missing = run(BIN, "predict", "--model", "nope.lstmcast", cwd=tmp_path)
    assert missing.returncode == 4
    assert missing.stderr.startswith("error: nope.lstmcast: no such model file")
    assert "Traceback" not in missing.stderr
    usage = run(BIN, "train", data.name, "--epochs", "0", cwd=tmp_path)
    assert usage.returncode == 2


def test_python_dash_m_works(tmp_path):
    result = run(sys.executable, "-m", "lstmcast", "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "predict" in result.stdout


PROBE = textwrap.dedent(
    """
    import sys
    from lstmcast.cli import app
    try:
        app(sys.argv[1:], prog_name="lstmcast", standalone_mode=False)
    except SystemExit:
        pass
    print("TORCH" if "torch" in sys.modules else "NO-TORCH")
    """
)


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["-h"],
        ["predict", "--help"],
        ["train", "--help"],
        ["evaluate", "--help"],
        ["plot", "--help"],
        ["info", "--help"],
        ["inspect", "--help"],
    ],
    ids=lambda a: " ".join(a),
)
def test_help_does_not_import_torch(tmp_path, args):
    result = run(sys.executable, "-c", PROBE, *args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout
    assert result.stdout.strip().endswith("NO-TORCH"), result.stdout[-300:]


def test_info_and_inspect_do_not_import_torch(tmp_path, data):
    # `info` reads only the header of the model file; `inspect` only reads data.
    args = ("--model", "m.lstmcast", "--id-col", "store", *TINY, "-q")
    train = run(BIN, "train", data.name, *args, cwd=tmp_path)
    assert train.returncode == 0, train.stderr
    for args in (["info", "m.lstmcast", "--json"], ["inspect", data.name, "--json"]):
        result = run(sys.executable, "-c", PROBE, *args, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().endswith("NO-TORCH"), (args, result.stdout[-300:])
