"""Progress of training and backtests on stderr: a live bar on a terminal, lines otherwise.

The bar fits an 80-column terminal, and training's ETA never runs past what is left of
--time-budget (training stops there whatever the pace)."""

from __future__ import annotations

import os
import sys
import time

from lstmcast.cli.render import err

__all__ = ["TrainProgress", "FoldProgress"]


class _LiveProgress:
    """A Rich progress bar on stderr, only when stderr is a terminal and colour is allowed."""

    label = ""

    def __init__(self, enabled: bool = True, console=None) -> None:
        self.enabled = enabled
        self.console = console  # a Rich console that is a terminal; default: stderr's, if it is one
        terminal = console is not None or (sys.stderr.isatty() and not os.environ.get("NO_COLOR"))
        self.live = enabled and terminal
        self.progress = None
        self.task = None

    def columns(self) -> list:
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

        return [
            TextColumn(f"[bold]{self.label}[/]"),
            BarColumn(bar_width=BAR_WIDTH),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
        ]

    def __enter__(self):
        if self.live:
            from rich.progress import Progress

            console = self.console or err.get()
            self.progress = Progress(*self.columns(), console=console, transient=True)
            self.progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.progress is not None:
            self.progress.__exit__(*exc)


BAR_WIDTH = 10  # with the label, counts up to 1,000,000, status, elapsed time and ETA: 80 columns


def clock(seconds: float) -> str:
    """0:01:05 for 65 seconds."""
    whole = int(round(seconds))
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


class TrainProgress(_LiveProgress):
    """Training callback: a progress bar on a terminal, one line per epoch otherwise.

    With `budget` (--time-budget, seconds), the ETA is at most what is left of it, counted
    from the start of training."""

    label = "training"

    def __init__(self, enabled: bool = True, budget: float | None = None, console=None) -> None:
        super().__init__(enabled, console)
        self.budget = budget
        self.deadline: float | None = None

    def eta(self, remaining: float | None) -> str:
        """The ETA shown: the bar's estimate, capped by the budget's remainder."""
        if self.deadline is not None:
            left = max(0.0, self.deadline - time.monotonic())
            remaining = left if remaining is None else min(remaining, left)
        return "eta -:--:--" if remaining is None else f"eta {clock(remaining)}"

    def columns(self) -> list:
        from rich.progress import ProgressColumn
        from rich.text import Text

        owner = self

        class Eta(ProgressColumn):
            def render(self, task) -> Text:
                return Text(owner.eta(task.time_remaining), style="progress.remaining")

        return [*super().columns(), Eta()]

    def __call__(self, event: str, info: dict) -> None:
        if not self.enabled:
            return
        if event == "start" and self.deadline is None and self.budget is not None:
            self.deadline = time.monotonic() + self.budget  # the budget counts from here
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
            if self.progress is not None:  # the bar's line has room for the epoch and best loss
                short = f"ep {info['epoch']} best {info['best_val_loss']:.4g}"
                self.progress.update(self.task, completed=info["step"], status=short)
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
