"""Shared test setup: a stable terminal for Rich, a CLI runner, and writers for input files."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

# Set before lstmcast.report is imported anywhere: its consoles read COLUMNS once, at import.
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
