"""Shared test setup: a stable terminal for Rich, a CLI runner, writers for input files, and
the tiny models the suite trains once per session."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

# Set before lstmcast.cli.render is imported anywhere: its consoles read COLUMNS once, at import.
os.environ["COLUMNS"] = "200"
os.environ["NO_COLOR"] = "1"
os.environ.pop("FORCE_COLOR", None)
# torch's default thread count, read when torch loads: what lstmcast.train gives big models.
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(autouse=True)
def setup_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wide, colourless terminal for every test, whatever a test changed before."""
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TERM", raising=False)


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    """Tiny LSTMs run fastest on one thread, and on a busy machine extra threads crawl."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def runner() -> CliRunner:
    """Typer's runner; `result.stdout` and `result.stderr` are captured separately."""
    return CliRunner()


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    """write_csv(content, name="data.csv") -> path in tmp_path.

    `content` is a DataFrame (written without its index; extra keyword arguments go to
    `DataFrame.to_csv`), a str (written as UTF-8 exactly as given) or bytes (written as is).
    """

    def write(content: pd.DataFrame | str | bytes, name: str = "data.csv", **to_csv) -> Path:
        path = tmp_path / name
        if isinstance(content, pd.DataFrame):
            content.to_csv(path, index=False, **to_csv)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
        return path

    return write


@pytest.fixture
def write_parquet(tmp_path: Path) -> Callable[..., Path]:
    """write_parquet(df, name="data.parquet") -> path in tmp_path (pyarrow, no index)."""

    def write(df: pd.DataFrame, name: str = "data.parquet") -> Path:
        path = tmp_path / name
        df.to_parquet(path, index=False, engine="pyarrow")
        return path

    return write


@dataclass(frozen=True)
class TrainedModel:
    """A model trained once per session: its folder, data file, model file, the frame written
    to the data file and the `train --json` document. The files are shared read-only: a test
    that changes them works on copies in its own tmp_path."""

    folder: Path
    data: Path
    model: Path
    frame: pd.DataFrame
    summary: dict


def _digest(*paths: Path) -> str:
    return hashlib.sha256(b"".join(p.read_bytes() for p in paths)).hexdigest()


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory) -> Callable[..., TrainedModel]:
    """trained_model(name="hourly", frame=hourly_frame, options=(), data_name="data.csv").

    Trains TINY (plus `options`) on `frame()` written to `data_name` the first time `name` is
    asked for, once per session, and returns the same files every time after. A name stands
    for one recipe: asking for it with another is an error. At the end of the session every
    shared model and data file must still hold its original bytes.
    """
    from helpers import TINY, hourly_frame, invoke

    made: dict[str, tuple[tuple, TrainedModel, str]] = {}

    def get(
        name: str = "hourly",
        frame: Callable[[], pd.DataFrame] = hourly_frame,
        options: tuple[str, ...] = (),
        data_name: str = "data.csv",
    ) -> TrainedModel:
        recipe = (frame, tuple(options), data_name)
        if name not in made:
            folder = tmp_path_factory.mktemp(f"model-{name}")
            data, model = folder / data_name, folder / "model.lstmcast"
            table = frame()
            table.to_csv(data, index=False)
            # --no-config: a test may have made a lstmcast.toml its working directory
            result = invoke(
                "train", data, "--model", model, *TINY, *options, "--no-config", "--json"
            )
            trained = TrainedModel(folder, data, model, table, json.loads(result.stdout))
            made[name] = (recipe, trained, _digest(data, model))
        first, trained, _ = made[name]
        assert first == recipe, f"trained_model({name!r}) was first asked for with {first}"
        # each caller gets its own frame and summary to change as it likes
        return dataclasses.replace(
            trained, frame=trained.frame.copy(), summary=copy.deepcopy(trained.summary)
        )

    yield get
    changed = [n for n, (_, t, digest) in made.items() if _digest(t.data, t.model) != digest]
    assert not changed, f"a test changed the shared model files of {changed}: copy them first"


@pytest.fixture(scope="module")
def trained(trained_model) -> TrainedModel:
    """The tiny model most CLI tests share: TINY on helpers.hourly_frame() (three ragged
    hourly series), seed 0. Read-only; copy it to change it."""
    return trained_model("hourly")
