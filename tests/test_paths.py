"""The user's files are never overwritten by mistake, and the lock writes only its own file."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import TINY
from typer.testing import CliRunner

from lstmcast.cli import app
from lstmcast.files import same_file

runner = CliRunner()
BIN = Path(sys.executable).parent / "lstmcast"
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "NO_COLOR": "1", "COLUMNS": "200"}


@pytest.fixture
def work(trained, tmp_path):
    """Copies of the trained model and its data in tmp_path; the model records that data."""
    data, model = tmp_path / "data.csv", tmp_path / "m.lstmcast"
    data.write_bytes(trained.data.read_bytes())
    model.write_bytes(trained.model.read_bytes())
    return data, model


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def refused(args, folder: Path, code: int, *words: str):
    """Run the CLI; assert the exit code, a one-line error naming `words`, no file changed."""
    before = snapshot(folder)
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith("error: "), result.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert snapshot(folder) == before
    return result


# --- outputs never overwrite inputs -------------------------------------------------------


def test_train_refuses_the_data_file_as_the_model(write_csv, tmp_path):
    data = write_csv("ds,y\n2024-01-01,1\n2024-01-02,2\n")
    refused(["train", data, "--model", data, *TINY], tmp_path, 2, "--model", "DATA", str(data))
    assert not (tmp_path / "data.csv.lock").exists()  # refused before the lock was taken


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_train_refuses_a_link_to_the_data_file(write_csv, tmp_path, link):
    data = write_csv("ds,y\n2024-01-01,1\n2024-01-02,2\n")
    model = tmp_path / "model.lstmcast"
    (os.symlink if link == "symlink" else os.link)(data, model)
    refused(["train", data, "--model", model, *TINY], tmp_path, 2, str(model), str(data))


def test_train_refuses_to_replace_a_file_that_is_not_a_model(write_csv, tmp_path):
    data = write_csv("ds,y\n2024-01-01,1\n2024-01-02,2\n")
    other = write_csv("precious,notes\n1,2\n", name="notes.csv")
    refused(
        ["train", data, "--model", other, *TINY], tmp_path, 2, str(other), "not an lstmcast model"
    )


@pytest.mark.slow
def test_train_refuses_a_fifo_as_the_model(write_csv, tmp_path):
    data = write_csv("ds,y\n2024-01-01,1\n2024-01-02,2\n")
    os.mkfifo(tmp_path / "fifo")
    proc = subprocess.run(
        [str(BIN), "train", str(data), "--model", str(tmp_path / "fifo"), *TINY],
        env=ENV, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "is a FIFO" in proc.stderr


@pytest.mark.slow
def test_train_may_replace_an_existing_model(work):
    data, model = work
    result = runner.invoke(app, ["train", str(data), "--model", str(model), *TINY, "-q"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("how", ["same", "symlink", "hardlink", "dotdot"])
def test_predict_refuses_the_data_file_as_output(work, how):
    data, model = work
    out = {
        "same": data,
        "symlink": data.with_name("link.csv"),
        "hardlink": data.with_name("hard.csv"),
        "dotdot": data.parent / "sub" / ".." / "data.csv",
    }[how]
    if how == "symlink":
        out.symlink_to(data)
    elif how == "hardlink":
        os.link(data, out)
    elif how == "dotdot":
        (data.parent / "sub").mkdir()
    refused(["predict", data, "--model", model, "-o", out], data.parent, 2, "--output", "DATA")


def test_predict_refuses_the_recorded_data_file_as_output(trained, tmp_path):
    # Without DATA, predict reads the file recorded in the model: that one is an input too.
    before = trained.data.read_bytes()
    refused(
        ["predict", "--model", trained.model, "-o", trained.data],
        trained.folder, 2, "--output", str(trained.data),
    )  # fmt: skip
    assert trained.data.read_bytes() == before


def test_predict_refuses_the_model_as_output(work):
    data, model = work
    link = model.with_name("alias.lstmcast")
    link.symlink_to(model)
    for out in (model, link):
        refused(["predict", data, "--model", model, "-o", out], data.parent, 2, "--model", str(out))


@pytest.mark.slow
def test_evaluate_refuses_outputs_over_inputs_or_each_other(work):
    data, model = work
    folder = data.parent
    refused(["evaluate", data, "--model", model, "-o", data], folder, 2, "--output", "DATA")
    refused(["evaluate", data, "--model", model, "--plot", model], folder, 2, "--plot", "--model")
    same = folder / "x.png"
    refused(
        ["evaluate", data, "--model", model, "-o", same, "--plot", same],
        folder, 2, "--plot", "--output",
    )  # fmt: skip


def test_plot_refuses_the_model_as_output(work):
    data, model = work
    refused(["plot", data, "--model", model, "-o", model], data.parent, 2, "--output", "--model")


def test_same_file_compares_inodes_and_resolved_paths(tmp_path):
    a = tmp_path / "a"
    a.write_text("x")
    os.link(a, tmp_path / "b")
    (tmp_path / "c").write_text("x")
    assert same_file(a, tmp_path / "b")
    assert not same_file(a, tmp_path / "c")  # same content, another file
    assert same_file(tmp_path / "new", tmp_path / "d" / ".." / "new")  # neither exists
    assert not same_file(tmp_path / "new", tmp_path / "other")


# --- the lock writes only its own file ----------------------------------------------------


@pytest.mark.parametrize("kind", ["symlink", "hardlink", "folder"])
def test_a_lock_path_that_is_not_a_lock_file_is_exit_73(work, kind):
    data, model = work
    lock = model.with_name(model.name + ".lock")
    victim = data.parent / "victim.txt"
    victim.write_text("precious\n")
    if kind == "symlink":
        lock.symlink_to(victim)
    elif kind == "hardlink":
        os.link(victim, lock)
    else:
        lock.mkdir()
    what = {"symlink": "a symbolic link", "hardlink": "a hard link", "folder": "a folder"}[kind]
    refused(["predict", data, "--model", model, "-o", "f.csv"], data.parent, 73, str(lock), what)
    assert victim.read_text() == "precious\n"
    refused(["train", data, "--model", model, *TINY], data.parent, 73, str(lock))


@pytest.mark.slow
def test_a_fifo_at_the_lock_path_is_exit_73_at_once(work):
    data, model = work
    lock = model.with_name(model.name + ".lock")
    os.mkfifo(lock)
    before = snapshot(data.parent)
    proc = subprocess.run(
        [str(BIN), "predict", str(data), "--model", str(model), "-o", str(data.parent / "f.csv")],
        env=ENV, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 73, proc.stderr
    assert "is not a regular lock file (a FIFO)" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert snapshot(data.parent) == before


def test_a_stale_lock_file_of_our_own_is_reused(work):
    data, model = work
    lock = model.with_name(model.name + ".lock")
    lock.write_text('{"pid": 1, "command": "train", "since": "2020-01-01T00:00:00+00:00"}' * 3)
    result = runner.invoke(app, ["predict", str(data), "--model", str(model), "-q"])
    assert result.exit_code == 0, result.output
    assert '"command": "predict"' in lock.read_text()
    assert lock.read_text().count("pid") == 1  # truncated: our own file, held by us
