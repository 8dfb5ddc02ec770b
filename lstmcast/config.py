"""Frozen configuration objects: what to read, how big the model is, how to train it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "DataSpec",
    "ModelConfig",
    "TrainConfig",
    "DEFAULT_QUANTILES",
    "ID_ALIASES",
    "OPTION_RANGES",
    "check_ranges",
    "parse_quantiles",
    "check_warm_covariates",
    "warm_config",
]

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
    date_format: str | None = None  # strftime format of a text time column; None = inferred
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
    skip_cycles: int = 14  # with skip: seasonal cycles of the lookback the skip mixes, per window
    scaling: str = "auto"  # per-window normalisation: auto (log if all data > 0, else std) | std | meanabs | log
    calendar: bool = True  # sin/cos of the calendar cycles of the frequency (freq.calendar_periods)
    periods: tuple[float, ...] | None = None  # cycles fed as sin/cos; default: season + calendar
    ensemble: int = 1  # members trained with seeds seed, seed+1, ...; forecasts are their median
    covariates: tuple[str, ...] = ()  # future-known columns: lookback tokens and the head
    past_covariates: tuple[str, ...] = ()  # past-only columns: lookback tokens only

    @property
    def median_index(self) -> int:
        """Position of the 0.5 quantile, the point forecast, on the model's quantile axis.

        Training always adds 0.5 to the quantiles, so a trained model's config has it.
        """
        return self.quantiles.index(0.5)

    @property
    def mixed_cycles(self) -> int:
        """Seasonal cycles the skip mixes: skip_cycles, as many as the lookback holds."""
        if not (self.skip and self.season and self.season > 1 and self.lookback):
            return 1
        return max(1, min(self.skip_cycles, self.lookback // self.season))

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
        d.setdefault("skip_cycles", 1)  # files from before: the last cycle alone
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


MAX_CONFIG_BYTES = 1024 * 1024  # a config file is a few lines; more is a mistake


def read_config(path) -> dict[str, dict]:
    """Parse a TOML config: one table per command, keys named like the options.

    The file must be a regular file of at most MAX_CONFIG_BYTES (`/dev/zero`, a FIFO or a
    folder is refused at once). Unknown tables are a UsageError (exit 2); keys
    (`hidden-size` or `hidden_size` for --hidden-size) and the types of their values are
    checked by the CLI, which knows each command's options.
    """
    import os
    import stat
    import sys
    from pathlib import Path

    from lstmcast.errors import UsageError

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    path = Path(path)
    hint = "pass a TOML file of at most 1 MiB, or --no-config"
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise UsageError(f"--config {path}: not a regular file", hint=hint)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise UsageError(f"--config {path}: not a regular file", hint=hint)
            raw = fh.read(MAX_CONFIG_BYTES + 1)
        if len(raw) > MAX_CONFIG_BYTES:
            raise UsageError(f"--config {path}: larger than {MAX_CONFIG_BYTES:,} bytes", hint=hint)
        doc = tomllib.loads(raw.decode("utf-8"))
    except FileNotFoundError:
        raise UsageError(f"--config {path}: no such file") from None
    except OSError as exc:
        raise UsageError(f"--config {path}: cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"--config {path}: not UTF-8 text", hint=hint) from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"--config {path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise UsageError(f"--config {path}: not valid TOML: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer of thousands of digits
        raise UsageError(f"--config {path}: not valid TOML: {str(exc)[:80]}") from None
    tables = {}
    for name, table in doc.items():
        if name not in CONFIG_COMMANDS or not isinstance(table, dict):
            raise UsageError(
                f"{path}: unknown table or key '{name}'",
                hint=f"the file holds tables [{'], ['.join(CONFIG_COMMANDS)}] with option names as keys",
            )
        tables[name] = dict(table)
    return tables


@dataclass(frozen=True)
class Range:
    """The values a numeric option accepts: lo..hi, lo excluded when `above` is set.

    hi None: any finite value above lo (too large a learning rate diverges, which is exit 5).
    """

    lo: float
    hi: float | None
    example: str  # what the hint suggests typing
    whole: bool = True  # an integer option
    above: bool = False  # lo itself is not allowed (a learning rate of 0 learns nothing)

    def __contains__(self, value) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if not math.isfinite(value) or (self.whole and value != int(value)):
            return False
        return (value > self.lo if self.above else value >= self.lo) and (
            self.hi is None or value <= self.hi
        )

    def text(self) -> str:
        lo, hi = (f"{int(v):,}" if self.whole else f"{v:,.10g}" for v in (self.lo, self.hi or 0))
        kind = "a whole number" if self.whole else "a number"
        if self.hi is None:
            return (
                f"a finite {kind[2:]} above {lo}"
                if self.above
                else f"a finite {kind[2:]} from {lo} up"
            )
        return f"{kind} above {lo} and at most {hi}" if self.above else f"{kind} from {lo} to {hi}"


# Every numeric option of every command, by parameter name, checked before any work starts
# (command line and config file alike). The upper bounds keep one run within memory and time
# on one machine; each is far above what a forecaster needs.
OPTION_RANGES: dict[str, Range] = {
    "horizon": Range(1, 100_000, "24"),  # 11 years of hourly steps
    "lookback": Range(1, 100_000, "168"),
    "season": Range(1, 100_000, "24"),
    "hidden_size": Range(1, 2048, "64"),  # 8 layers of 2048: ~270 M parameters, ~1 GB
    "layers": Range(1, 8, "2"),
    "dropout": Range(0, 0.9, "0.1", whole=False),
    "ensemble": Range(1, 100, "5"),
    "skip_cycles": Range(1, 1_000, "14"),
    "epochs": Range(1, 100_000, "30"),
    "max_steps": Range(1, 1_000_000_000, "1000"),
    "time_budget": Range(0, 31_536_000, "600", whole=False, above=True),  # up to a year
    "windows_per_epoch": Range(1, 100_000_000, "25600"),
    "batch_size": Range(1, 65_536, "256"),
    "lr": Range(0, None, "0.002", whole=False, above=True),
    "patience": Range(1, 100_000, "6"),
    "val_size": Range(1, 1_000_000, "48"),
    "seed": Range(0, 2**32 - 1, "0"),  # numpy's seed range
    "threads": Range(1, 1024, "4"),
    "max_gap": Range(0, 1_000_000, "24"),
    "lock_timeout": Range(0, 604_800, "300", whole=False),  # up to a week
    "folds": Range(1, 1000, "3"),
    "step": Range(1, 100_000, "24"),
    "show": Range(0, 100_000, "10"),
    "last": Range(1, 10_000_000, "120"),
    "holdout": Range(1, 100_000, "24"),
}


def check_ranges(values: Mapping[str, object], sources: Mapping[str, str] | None = None) -> None:
    """Refuse (UsageError, exit 2) the first option in `values` outside OPTION_RANGES.

    `values` maps parameter names to values (None: not given); `sources` names where a value
    came from when it was not the command line (e.g. "lstmcast.toml [train]").
    """
    from lstmcast.errors import UsageError

    for name, value in values.items():
        allowed = OPTION_RANGES.get(name)
        if allowed is None or value is None or value in allowed:
            continue
        flag = "--" + name.replace("_", "-")
        source = (sources or {}).get(name)
        where = f" (from {source})" if source else ""
        raise UsageError(
            f"{flag} {value}{where}: expected {allowed.text()}",
            hint=(
                f"fix '{name.replace('_', '-')}' in {source.split(' ')[0]}, or pass "
                if source
                else "e.g. "
            )
            + f"{flag} {allowed.example}",
        )


MAX_QUANTILES = 99


def parse_quantiles(text: str) -> tuple[float, ...]:
    """'0.1,0.5,0.9' -> (0.1, 0.5, 0.9): increasing, each strictly between 0 and 1, with at
    least one below and one above the median so that there is an interval (UsageError otherwise)."""
    from lstmcast.errors import UsageError

    hint = "e.g. --quantiles 0.1,0.5,0.9 (an 80 % interval around the median)"
    parts = [p.strip() for p in str(text).split(",")]
    try:
        qs = tuple(float(p) for p in parts)
    except ValueError:
        raise UsageError(
            f"--quantiles {text}: expected numbers separated by commas", hint
        ) from None
    if len(qs) > MAX_QUANTILES:
        raise UsageError(
            f"--quantiles: {len(qs)} values, at most {MAX_QUANTILES} are allowed", hint
        )
    bad = [p for p, q in zip(parts, qs, strict=True) if not 0 < q < 1]  # NaN fails this too
    if bad:
        raise UsageError(
            f"--quantiles {text}: {bad[0]} is not between 0 and 1 (both excluded)", hint
        )
    if any(b <= a for a, b in zip(qs, qs[1:], strict=False)):
        raise UsageError(
            f"--quantiles {text}: list each quantile once, in increasing order",
            hint=f"--quantiles {','.join(f'{q:g}' for q in sorted(set(qs)))}",
        )
    if not (qs[0] < 0.5 < qs[-1]):
        raise UsageError(
            f"--quantiles {text}: needs one quantile below 0.5 and one above, which bound the interval",
            hint,
        )
    return qs


# --warm-start continues training an existing model: its schema and shape are kept.


def check_warm_covariates(asked: DataSpec, model: DataSpec) -> None:
    """--warm-start reads the model's covariates; naming others is a usage error."""
    from lstmcast.errors import UsageError

    for flag, name in (("--covariates", "covariates"), ("--past-covariates", "past_covariates")):
        given, kept = getattr(asked, name), getattr(model, name)
        if given and [c.lower() for c in given] != [c.lower() for c in kept]:
            raise UsageError(
                f"--warm-start keeps the model's {name.replace('_', ' ')} ({', '.join(kept) or 'none'}), "
                f"but {flag} {','.join(given)} was given",
                hint="drop the option, or train a new model without --warm-start",
            )


def warm_config(old: ModelConfig, asked: ModelConfig) -> ModelConfig:
    """The existing model's settings; an explicit different shape is a usage error.

    A setting counts as explicit when it differs from ModelConfig's default.
    """
    import dataclasses

    from lstmcast.errors import UsageError

    default = ModelConfig()
    for field in dataclasses.fields(ModelConfig):
        name = field.name
        value = getattr(asked, name)
        if name == "quantiles":
            value = tuple(sorted(set(value) | {0.5}))
            if getattr(asked, name) == default.quantiles:
                continue
        elif value is None or value == getattr(default, name):
            continue
        if value != getattr(old, name):
            raise UsageError(
                f"--warm-start keeps the model's {name} ({getattr(old, name)}), but --{name.replace('_', '-')} {value} was given",
                hint="drop the option, or train a new model without --warm-start",
            )
    return old
