"""Data-parallel training under torchrun: real 2-process gloo runs, and each rank's share."""

import os
import re
import socket
import subprocess
import sys

import numpy as np
import pytest
import torch
from helpers import TINY, hourly_frame, invoke

from lstmcast import distributed
from lstmcast.api import load_model
from lstmcast.data.load import load
from lstmcast.modelfile.container import load_artifact
from lstmcast.ops import model_lock
from lstmcast.windows import build_index

# One thread per process: two ranks share two cores.
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "NO_COLOR": "1", "COLUMNS": "200"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun(folder, *args, timeout=150) -> subprocess.CompletedProcess:
    """`python -m torch.distributed.run --nproc-per-node 2 -m lstmcast train tiny.csv ...`."""
    if not (folder / "tiny.csv").exists():
        hourly_frame().to_csv(folder / "tiny.csv", index=False)
    launcher = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2"]
    command = [*launcher, "--master-port", str(free_port()), "-m", "lstmcast", "train"]
    return subprocess.run(
        [*command, "tiny.csv", "--model", "m.lstmcast", *TINY, *map(str, args)],
        cwd=folder,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=timeout,  # a rank left waiting in a collective would hang here
    )


def exit_codes(stderr: str) -> list[int]:
    """Each failed rank's exit code, from torchrun's failure summary."""
    return [int(c) for c in re.findall(r"^\s*exitcode\s*:\s*(-?\d+)", stderr, re.M)]


@pytest.mark.slow
def test_two_processes_train_one_model_that_predict_uses(tmp_path):
    result = torchrun(tmp_path, "--log-file", "run.log")
    assert result.returncode == 0, result.stderr[-3000:]
    # rank 0 alone reports: one summary, one progress line per epoch, one log line
    assert result.stdout.count("Validation:") == 1, result.stdout
    assert result.stdout.count("best validation loss") == 1
    assert "on 2 × cpu (gloo)" in result.stdout
    assert len(re.findall(r"^epoch \d", result.stderr, re.M)) == 2, result.stderr[-3000:]
    log = (tmp_path / "run.log").read_text().splitlines()
    assert len(log) == 1 and "command=train exit=0" in log[0], log
    # one model file in the usual format, no stray temp files
    assert sorted(os.listdir(tmp_path)) == ["m.lstmcast", "m.lstmcast.lock", "run.log", "tiny.csv"]
    header, tensors = load_artifact(tmp_path / "m.lstmcast")
    assert not [k for k in tensors if "module." in k]
    assert header["metrics"]["steps"] == 4  # 2 epochs of 64 windows / 32 per rank and step
    model, _ = load_model(tmp_path / "m.lstmcast")
    assert sum(p.numel() for p in model.parameters()) == header["metrics"]["parameters"]
    invoke("predict", tmp_path / "tiny.csv", "--model", tmp_path / "m.lstmcast", "-o",
           tmp_path / "f.csv", "-q")  # fmt: skip
    assert len((tmp_path / "f.csv").read_text().splitlines()) == 1 + 3 * 24


@pytest.mark.slow
def test_a_bad_loss_on_one_rank_stops_every_rank_with_the_same_error(tmp_path):
    # Values near float32's limit in the last series: only rank 1's block of windows holds
    # them, so only its loss is NaN; rank 0 must stop at the same step, with the same error.
    # (z-scores of raw values overflow there; log values of positive data would not.)
    frame = hourly_frame()
    frame.loc[frame.index[frame["unique_id"] == "C"][60:70], "y"] = 3e38
    frame.to_csv(tmp_path / "tiny.csv", index=False)
    result = torchrun(tmp_path, "--epochs", "1", "--scaling", "std")
    assert result.returncode != 0
    errors = re.findall(r"^error: .*$", result.stderr, re.M)
    assert len(errors) == 2 and errors[0] == errors[1], result.stderr[-3000:]
    assert re.fullmatch(r"error: the training loss became \S+ at step \d+", errors[0])
    codes = exit_codes(result.stderr)  # torchrun may stop the later rank as it exits (-15)
    assert 5 in codes and set(codes) <= {5, -15}, (codes, result.stderr[-4000:])
    assert sorted(os.listdir(tmp_path)) == ["m.lstmcast.lock", "tiny.csv"]


@pytest.mark.slow
def test_a_busy_model_stops_every_rank_while_rank_0_alone_locks(tmp_path):
    hourly_frame().to_csv(tmp_path / "tiny.csv", index=False)
    with model_lock(tmp_path / "m.lstmcast", "predict", 0):
        result = torchrun(tmp_path, "--lock-timeout", "0")
    errors = re.findall(r"^error: .*$", result.stderr, re.M)
    assert len(errors) == 2 and errors[0] == errors[1], result.stderr[-3000:]
    assert errors[0].startswith("error: m.lstmcast is busy: lstmcast predict (pid ")
    codes = exit_codes(result.stderr)
    assert 75 in codes and set(codes) <= {75, -15}, codes
    assert not (tmp_path / "m.lstmcast").exists()


@pytest.fixture(scope="module")
def index():
    """Three ragged hourly series: a few hundred training windows."""
    return build_index(load(hourly_frame()), lookback=48, horizon=24, val_size=48)


def windows(index) -> set[tuple[int, int]]:
    """Every training window of an index as (series, origin)."""
    return {
        (s, o)
        for s in range(len(index.train_count))
        for o in range(index.train_first[s], index.train_first[s] + index.train_count[s])
    }


@pytest.mark.parametrize("world", [2, 3, 5])
def test_shards_are_disjoint_equal_blocks_that_cover_the_index(index, world):
    shards = [distributed.shard_index(index, r, world) for r in range(world)]
    parts = [windows(s) for s in shards]
    assert set().union(*parts) == windows(index)
    assert sum(len(p) for p in parts) == index.n_train  # no window in two shards
    sizes = [s.n_train for s in shards]
    assert max(sizes) - min(sizes) <= 1, sizes
    for s in shards:  # validation and shape untouched: only the training windows are split
        assert np.array_equal(s.val_series, index.val_series)
        assert (s.lookback, s.horizon, s.val_size) == (index.lookback, index.horizon, 48)


def test_ranks_draw_different_windows_that_together_cover_the_index(index):
    val_s, val_o = index.val_series, index.val_origin
    drawn = []
    for r in range(2):
        shard, rng, vs, vo = distributed.rank_share(index, val_s, val_o, 7, r, 2)
        again = distributed.rank_share(index, val_s, val_o, 7, r, 2)[1]
        s, o = shard.sample(rng, 4000)
        assert all(map(np.array_equal, (s, o), shard.sample(again, 4000)))  # reproducible
        drawn.append(set(zip(s.tolist(), o.tolist(), strict=True)))
        assert drawn[-1] <= windows(shard)
        assert np.array_equal(vs, val_s[r::2]) and np.array_equal(vo, val_o[r::2])
    assert not drawn[0] & drawn[1]
    assert drawn[0] | drawn[1] == windows(index)


def test_rank_streams_differ_and_too_few_windows_is_a_data_error(index):
    a = distributed.rank_share(index, index.val_series, index.val_origin, 0, 0, 2)[1]
    b = distributed.rank_share(index, index.val_series, index.val_origin, 0, 1, 2)[1]
    assert not np.array_equal(a.integers(0, 10**9, 8), b.integers(0, 10**9, 8))
    with pytest.raises(Exception, match="cannot be shared by"):
        distributed.rank_share(index, index.val_series, index.val_origin, 0, 0, index.n_train + 1)


def test_a_plain_run_gets_everything_back_unchanged(index, monkeypatch):
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    assert not distributed.launched() and not distributed.active()
    assert (distributed.rank(), distributed.world_size(), distributed.is_main()) == (0, 1, True)
    rng = np.random.default_rng(0)
    out = distributed.shard(index, rng, index.val_series, index.val_origin, 0)
    assert out[0] is index and out[1] is rng and out[2] is index.val_series
    loss = torch.tensor(0.25)
    assert distributed.mean(loss) is loss
    assert distributed.all_sum(1.5, 3) == (1.5, 3)
    assert distributed.average(0.1) == 0.1 and distributed.rank0_decides(True) is True
    model = torch.nn.Linear(2, 1)
    assert distributed.wrap(model) is model and distributed.unwrap(model) is model
    assert distributed.describe(torch.device("cpu")) == "cpu"


def test_torchrun_environment_is_detected(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert distributed.launched()
    assert (distributed.rank(), distributed.world_size(), distributed.is_main()) == (3, 4, False)
    monkeypatch.setenv("WORLD_SIZE", "1")  # torchrun with one process: a plain run
    monkeypatch.setenv("RANK", "0")
    assert not distributed.launched() and distributed.is_main()
