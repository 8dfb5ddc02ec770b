"""Frozen configuration objects: what to read, how big the model is, how to train it."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DataSpec", "ModelConfig", "TrainConfig", "DEFAULT_QUANTILES", "ID_ALIASES"]

DEFAULT_QUANTILES = (0.1, 0.5, 0.9)  # an 80 % interval around the median
# Column names taken as the series id of a long file (any case); read as text, never parsed.
ID_ALIASES = ("unique_id", "id", "series", "series_id", "item_id", "ts_id", "key")


@dataclass(frozen=True)
class DataSpec:
    """Which columns hold what, and the time grid; None means 'infer from the file'."""

    time_col: str | None = None
    target: str | None = None  # one column, or "A,B,C" for wide files
    id_col: str | None = None
    freq: str | None = None  # a pandas alias such as "h", "B", "MS"; inferred when None
    max_gap: int | None = None  # longest run of missing steps filled; None = one season
    covariates: tuple[str, ...] = ()  # columns also known for the horizon (future rows)
    past_covariates: tuple[str, ...] = ()  # columns known only up to the last observation


@dataclass(frozen=True)
class ModelConfig:
    """Shape of the LSTM forecaster; lookback and horizon of None are derived from the data."""

    lookback: int | None = None  # default: a few seasonal cycles (see defaults.choose_window)
    horizon: int | None = None  # default: one seasonal cycle of the detected frequency
    hidden_size: int = 128  # big enough for many series at once, fast on 2 CPU cores
    layers: int = 2
    dropout: float = 0.1
    quantiles: tuple[float, ...] = DEFAULT_QUANTILES
    season: int | None = None  # seasonal period in steps; default from the frequency
    patch: int | None = None  # steps per LSTM input token; default: a divisor of the season
    skip: bool = True  # add the last seasonal cycle, so the network learns the residual
    gate: bool = True  # with skip: a learned per-window mix of the seasonal and last-value skips
    scaling: str = "auto"  # per-window normalisation: auto (log if all data > 0, else std) | std | meanabs | log
    calendar: bool = True  # sin/cos of the calendar cycles of the frequency (freq.calendar_periods)
    periods: tuple[float, ...] | None = None  # cycles fed as sin/cos; default: season + calendar
    ensemble: int = 1  # members trained with seeds seed, seed+1, ...; forecasts are their median
    covariates: tuple[str, ...] = ()  # future-known columns: lookback tokens and the head
    past_covariates: tuple[str, ...] = ()  # past-only columns: lookback tokens only

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        """Rebuild from a model file's header (JSON lists back to tuples).

        Files written before calendar features existed saw only the seasonal cycle; files
        written before covariates existed have none.
        """
        d = dict(d)
        d["quantiles"] = tuple(d["quantiles"])
        d.setdefault("scaling", "std")  # the only scaling before there was a choice
        d.setdefault("gate", False)  # files from before the gate: the seasonal skip alone
        if d.get("periods") is None:
            d["calendar"], d["periods"] = False, (float(d["season"]),)
        d["periods"] = tuple(float(p) for p in d["periods"])
        d["covariates"] = tuple(d.get("covariates") or ())
        d["past_covariates"] = tuple(d.get("past_covariates") or ())
        return cls(**d)


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings; an epoch is `windows_per_epoch` sampled windows, not every window."""

    epochs: int = 30
    max_steps: int | None = None  # hard cap on optimiser steps, across epochs
    time_budget: float | None = None  # seconds; stop cleanly and keep the best weights
    batch_size: int = 256
    lr: float = 2e-3
    weight_decay: float = 1e-4
    grad_clip: float = 1.0
    patience: int = 6  # epochs without validation improvement before stopping
    windows_per_epoch: int = 25_600  # 100 steps of 256: an epoch means the same on 1k or 10M rows
    val_size: int | None = (
        None  # steps held out per series; default: 1-4 horizons (windows.default_val_size)
    )
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda | mps
    loss: str = "pinball"  # pinball | huber (pinball smoothed near zero)
    calibrate: bool = True  # widen the intervals so they cover as stated on validation windows
    threads: int | None = None  # CPU threads; None: by model size (train.cpu_threads)


CONFIG_NAME = "lstmcast.toml"  # picked up from the working directory unless --no-config
CONFIG_COMMANDS = ("train", "predict", "evaluate")


def read_config(path) -> dict[str, dict]:
    """Parse a TOML config: one table per command, keys named like the options.

    Unknown tables are a UsageError (exit 2); keys (`hidden-size` or `hidden_size` for
    --hidden-size) are checked by the CLI, which knows each command's options.
    """
    import sys
    from pathlib import Path

    from lstmcast.errors import UsageError

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"--config {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--config {path}: cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"--config {path}: not valid TOML: {exc}") from None
    tables = {}
    for name, table in doc.items():
        if name not in CONFIG_COMMANDS or not isinstance(table, dict):
            raise UsageError(
                f"{path}: unknown table or key '{name}'",
                hint=f"the file holds tables [{'], ['.join(CONFIG_COMMANDS)}] with option names as keys",
            )
        tables[name] = dict(table)
    return tables
