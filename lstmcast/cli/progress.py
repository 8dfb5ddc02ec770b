"""Progress of training and backtests on stderr: a live bar on a terminal, lines otherwise."""

from __future__ import annotations

import os
import sys

from lstmcast.cli.render import err

__all__ = ["TrainProgress", "FoldProgress"]


class _LiveProgress:
    """A Rich progress bar on stderr, only when stderr is a terminal and colour is allowed."""

    label = ""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.live = enabled and sys.stderr.isatty() and not os.environ.get("NO_COLOR")
        self.progress = None
        self.task = None

    def columns(self) -> list:
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

        return [
            TextColumn(f"[bold]{self.label}[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
        ]

    def __enter__(self):
        if self.live:
            from rich.progress import Progress

            self.progress = Progress(*self.columns(), console=err.get(), transient=True)
            self.progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.progress is not None:
            self.progress.__exit__(*exc)


class TrainProgress(_LiveProgress):
    """Training callback: a progress bar on a terminal, one line per epoch otherwise."""

    label = "training"

    def columns(self) -> list:
        from rich.progress import TextColumn, TimeRemainingColumn

        return [*super().columns(), TextColumn("eta"), TimeRemainingColumn()]

    def __call__(self, event: str, info: dict) -> None:
        if not self.enabled:
            return
        if event == "start" and self.progress is not None:
            name = (
                "train"
                if info.get("members", 1) == 1
                else f"model {info['member']}/{info['members']}"
            )
            self.task = self.progress.add_task(
                name, total=info["total_steps"], status=f"device {info['device']}"
            )
        elif event == "step" and self.progress is not None and info["step"] % 5 == 0:
            self.progress.update(self.task, completed=info["step"])
        elif event == "epoch":
            status = f"epoch {info['epoch']}  train {info['train_loss']:.4f}  val {info['val_loss']:.4f}  best {info['best_val_loss']:.4f}"
            if self.progress is not None:
                self.progress.update(self.task, completed=info["step"], status=status)
            else:
                sys.stderr.write(status + "\n")
                sys.stderr.flush()


class FoldProgress(_LiveProgress):
    """Backtest callback: a progress bar over folds on a terminal, silent otherwise."""

    label = "backtest"

    def __call__(self, event: str, info: dict) -> None:
        if self.progress is None:
            return
        if event == "start":
            self.task = self.progress.add_task("folds", total=info["total"], status="folds")
        elif event == "fold":
            self.progress.update(self.task, completed=info["fold"])
