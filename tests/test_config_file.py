"""Config files are bounded regular files of strictly typed values; their errors are one line."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import TINY
from typer.testing import CliRunner

from lstmcast.cli import app

runner = CliRunner()
BIN = Path(sys.executable).parent / "lstmcast"
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "NO_COLOR": "1", "COLUMNS": "200"}


@pytest.fixture
def data(write_csv):
    return write_csv("ds,y\n" + "".join(f"2024-01-{d:02d},{d % 7}\n" for d in range(1, 29)))


def one_line_error(result, code: int, *words: str) -> str:
    assert result.exit_code == code, result.output
    lines = result.stderr.splitlines()
    assert 1 <= len(lines) <= 2 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output and "Usage:" not in result.output
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


@pytest.mark.parametrize(
    "line, words",
    [
        ("hidden-size = true", ["hidden-size", "a boolean", "must be an integer"]),
        ('hidden_size = "8"', ["hidden_size", "a string", "must be an integer"]),
        ("epochs = 2.5", ["epochs", "must be an integer"]),
        ('dropout = "0.1"', ["dropout", "a string", "must be a finite number"]),
        ("lr = nan", ["lr", "must be a finite number"]),
        ("calendar = 1", ["calendar", "an integer", "must be true or false"]),
        ('model = ["a", "b"]', ["model", "an array", "must be a string"]),
        ("quantiles = [true, 0.5]", ["quantiles", "an array"]),
        ("time-col = { a = 1 }", ["time-col", "a table"]),
        ("epochs = 0", ["epochs = 0", "from 1 to"]),
        ("dropout = 0.95", ["dropout = 0.95", "from 0 to 0.9"]),
        ("ds = 1979-05-27", ["unknown key 'ds'"]),
    ],
)
def test_a_value_of_the_wrong_type_is_exit_2_naming_the_key(tmp_path, data, line, words):
    config = tmp_path / "my.toml"
    config.write_text(f"[train]\n{line}\n")
    args = ["train", str(data), "--model", str(tmp_path / "m.lstmcast"), "--config", str(config)]
    one_line_error(runner.invoke(app, [*args, *TINY]), 2, str(config), *words)
    assert not (tmp_path / "m.lstmcast").exists()


@pytest.mark.slow
def test_values_of_the_right_type_are_used(tmp_path, data):
    config = tmp_path / "lstmcast.toml"
    config.write_text(
        '[train]\nhidden-size = 6\ndropout = 0\nquantiles = [0.2, 0.5, 0.8]\ncalendar = false\nfreq = "D"\n'
    )
    model = tmp_path / "m.lstmcast"
    tiny = [a for a in TINY if a not in ("--hidden-size", "8")]
    result = runner.invoke(
        app, ["train", str(data), "--model", str(model), "--config", str(config), *tiny, "-q"]
    )
    assert result.exit_code == 0, result.output
    info = json.loads(runner.invoke(app, ["info", str(model), "--json"]).stdout)
    assert info["model_config"]["hidden_size"] == 6
    assert info["model_config"]["quantiles"] == [0.2, 0.5, 0.8]
    assert info["model_config"]["calendar"] is False


@pytest.mark.slow
@pytest.mark.parametrize("name", ["folder", "fifo", "/dev/zero", "big"])
def test_a_config_that_is_not_a_small_regular_file_is_refused_at_once(tmp_path, data, name):
    path = {"folder": tmp_path, "fifo": tmp_path / "fifo", "/dev/zero": Path("/dev/zero"),
            "big": tmp_path / "big.toml"}[name]  # fmt: skip
    if name == "fifo":
        os.mkfifo(path)  # nobody writes to it: reading it would block forever
    if name == "big":
        path.write_text("# padding\n" * 110_000)  # 1.1 MB of valid TOML comments
    started = time.monotonic()
    proc = subprocess.run(
        [str(BIN), "predict", str(data), "--config", str(path), "--model", "m.lstmcast"],
        cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith("error: --config "), proc.stderr
    assert ("larger than 1,048,576 bytes" if name == "big" else "not a regular file") in lines[0]
    assert "Traceback" not in proc.stderr
    assert time.monotonic() - started < 30


@pytest.mark.slow
def test_a_config_error_with_json_is_one_json_document(tmp_path, data):
    proc = subprocess.run(
        [str(BIN), "train", str(data), "--config", "/dev/zero", "--json"],
        cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    error = json.loads(proc.stdout)["error"]
    assert error["code"] == 2 and "/dev/zero" in error["message"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "content",
    [
        b"[train]\nepochs = 3\n\xff\xfe\n",
        b"x = " + b"[" * 100_000,
        b"[train\n",
        b"[train]\nepochs = " + b"9" * 5000 + b"\n",
    ],
    ids=["not-utf8", "deep-nesting", "not-toml", "huge-integer"],
)
def test_an_unreadable_config_is_exit_2_without_a_traceback(tmp_path, data, content):
    config = tmp_path / "lstmcast.toml"  # picked up from the working directory
    config.write_bytes(content)
    proc = subprocess.run(
        [str(BIN), "train", str(data)], cwd=tmp_path, env=ENV, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: --config lstmcast.toml: not ")
    assert "Traceback" not in proc.stderr and len(proc.stderr.splitlines()) <= 2
