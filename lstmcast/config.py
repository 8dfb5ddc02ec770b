"""Frozen configuration objects: what to read, how big the model is, how to train it."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from lstmcast.options import Range, option, options_of, stored

__all__ = [
    "DataSpec",
    "ModelConfig",
    "TrainConfig",
    "DEFAULT_QUANTILES",
    "ID_ALIASES",
    "OPTION_RANGES",
    "Range",
    "check_ranges",
    "parse_quantiles",
    "split_names",
    "check_warm_covariates",
    "warm_config",
]

DEFAULT_QUANTILES = (0.1, 0.5, 0.9)  # an 80 % interval around the median
# Column names taken as the series id of a long file (any case); read as text, never parsed.
ID_ALIASES = ("unique_id", "id", "series", "series_id", "item_id", "ts_id", "key")


MAX_STEPS = 1_000_000  # lookback, horizon, season, patch in a model file: no real model has more
STEPS = (1, MAX_STEPS)
# --horizon, --lookback, --season, and what train derives for them from the data: a day of
# 1-second data (86,400 steps) fits; a finer grid's day is no season (data.freq.season_length).
OPTION_STEPS = 100_000
# A cycle fed as sin/cos may be as long as a week of nanosecond steps: the longest calendar
# cycle of the finest grid pandas has (data.freq.calendar_periods).
MAX_PERIOD = 7 * 86_400 * 10**9
ALL_COMMANDS = ("inspect", "train", "predict", "evaluate", "plot")


# Text options that become tuples.

MAX_QUANTILES = 99
MAX_MODEL_QUANTILES = MAX_QUANTILES + 1  # a model's: train adds the median when it is missing


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


def split_names(text: str | None) -> tuple[str, ...]:
    """'a, b,' -> ('a', 'b'): a comma-separated option's names."""
    return tuple(n.strip() for n in (text or "").split(",") if n.strip())


# The configs. An option is declared once, on the field it sets (lstmcast.options): its
# default, help line, range and commands; the option fields come in the order of `--help`.
# A model file's bounds (`file`) are wider than the range: files also come from the Python API.

ANY_COUNT = (1, None)  # in a model file: any whole number from 1


@dataclass(frozen=True)
class DataSpec:
    """Which columns hold what, and the time grid; None means 'infer from the file'."""

    time_col: str | None = option(
        None, "Time column (default: ds, date, ..., else guessed).", commands=ALL_COMMANDS,
        read_help="Time column (default: the model's).",
    )  # fmt: skip
    # one column, or "A,B,C" for wide files
    target: str | None = option(
        None, "Value column(s), comma-separated for a wide file.", commands=ALL_COMMANDS,
        read_help="Value column(s) of this file (default: the model's).",
    )  # fmt: skip
    id_col: str | None = option(
        None, "Series id column (default: unique_id, id, series, ...).", commands=ALL_COMMANDS,
        read_help="Series id column (default: the model's).",
    )  # fmt: skip
    # a pandas alias such as "h", "B", "MS"; inferred when None
    freq: str | None = option(
        None, "Frequency: h, D, B, W-SUN, MS, ... (default: inferred).", commands=ALL_COMMANDS,
        read_help="Frequency: h, D, B, W-SUN, MS, ... (default: the model's).",
    )  # fmt: skip
    # strftime format of a text time column; None = inferred
    date_format: str | None = option(
        None, "strftime format of the time column, e.g. %d/%m/%Y.", commands=ALL_COMMANDS,
        read_help="strftime format of the time column (default: the model's).",
    )  # fmt: skip
    # longest run of missing steps filled; None = one season
    max_gap: int | None = option(
        None, "Longest gap to interpolate, in steps (default: a season).",
        Range(0, 1_000_000, "24"), commands=("inspect", "train", "predict"),
        read_help="Longest gap to interpolate, in steps (default: the model's).",
    )  # fmt: skip
    # columns also known for the horizon (future rows)
    covariates: tuple[str, ...] = option(
        (), "Columns known ahead, comma-separated.", commands=("inspect", "train"),
        parse=split_names,
    )  # fmt: skip
    # columns known only up to the last observation
    past_covariates: tuple[str, ...] = option(
        (), "Columns known only up to now, comma-separated.", commands=("inspect", "train"),
        parse=split_names,
    )  # fmt: skip


@dataclass(frozen=True)
class ModelConfig:
    """Shape of the LSTM forecaster; lookback and horizon of None are derived from the data."""

    # default: one seasonal cycle of the detected frequency; at most 11 years of hourly steps
    horizon: int | None = option(
        None, "Steps to forecast (default: one season).", Range(1, OPTION_STEPS, "24"), file=STEPS
    )
    # default: a few seasonal cycles (train.resolve_model_config)
    lookback: int | None = option(
        None, "Past steps (default: 7 seasons, 14 if sub-daily; ≥ 3 horizons).",
        Range(1, OPTION_STEPS, "168"), file=STEPS,
    )  # fmt: skip
    season: int | None = option(
        None, "Seasonal period in steps (default: from the frequency).",
        Range(1, OPTION_STEPS, "24"), file=STEPS,
    )  # fmt: skip
    patch: int | None = stored(None, STEPS)  # steps per LSTM input token; a divisor of the season
    # big enough for many series at once, fast on 2 CPU cores; 8 layers of 2048: ~1 GB
    # default: 64 below 50,000 training windows, else 128 (train.resolve_model_config)
    hidden_size: int | None = option(
        None, "LSTM hidden units (default: 64, or 128 from 50,000 windows).",
        Range(1, 2048, "64"), file=(1, 65_536),
    )  # fmt: skip
    layers: int = option(2, "Stacked LSTM layers.", Range(1, 8, "2"), file=(1, 64))
    dropout: float = option(
        0.1, "Dropout between layers and in the head.", Range(0, 0.9, "0.1", whole=False),
        file=(0.0, 1.0),
    )  # fmt: skip
    quantiles: tuple[float, ...] = option(
        DEFAULT_QUANTILES, "Quantiles; the lowest and highest bound the interval.",
        parse=parse_quantiles,
    )  # fmt: skip
    # per-window normalisation: auto (log if all data > 0, else std) | std | meanabs | log
    scaling: str = option(
        "auto", "Window normalisation: auto, std, meanabs or log.",
        choices=("auto", "std", "meanabs", "log"),  # a model file's auto reads as std
    )  # fmt: skip
    # sin/cos of the calendar cycles of the frequency (freq.calendar_periods)
    calendar: bool = option(True, "Feed the calendar cycles of the frequency.")
    periods: tuple[float, ...] | None = None  # cycles fed as sin/cos; default: season + calendar
    # members trained with seeds seed, seed+1, ...; forecasts are their median
    ensemble: int = option(
        1, "Train N models (seeds seed..seed+N-1), forecast their median.", Range(1, 100, "5"),
        file=(1, 1_024),
    )  # fmt: skip
    skip: bool = True  # add the last seasonal cycle, so the network learns the residual
    gate: bool = True  # with skip: a learned per-window mix of the seasonal and last-value skips
    # with skip: seasonal cycles of the lookback the skip mixes, per window
    skip_cycles: int = option(
        14, "Past seasonal cycles the skip mixes per window (1: the last).",
        Range(1, 1_000, "14"), file=(1, 1_000),
    )  # fmt: skip
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

    epochs: int = option(
        30, "Maximum epochs of --windows-per-epoch windows.", Range(1, 100_000, "30"),
        file=ANY_COUNT,
    )  # fmt: skip
    # a hard cap on optimiser steps, across epochs
    max_steps: int | None = option(
        None, "Stop after this many optimiser steps.", Range(1, 1_000_000_000, "1000"),
        file=ANY_COUNT,
    )  # fmt: skip
    # seconds, up to a year; stop cleanly and keep the best weights
    time_budget: float | None = option(
        None, "Stop after this many seconds, keeping the best weights.",
        Range(0, 31_536_000, "600", whole=False, above=True), file=(0.0, None),
    )  # fmt: skip
    # 100 steps of 256: an epoch means the same on 1k or 10M rows
    windows_per_epoch: int = option(
        25_600, "Windows sampled per epoch.", Range(1, 100_000_000, "25600"), file=ANY_COUNT
    )
    batch_size: int = option(
        256, "Windows per step (per process under torchrun).", Range(1, 65_536, "256"),
        file=ANY_COUNT,
    )  # fmt: skip
    lr: float = option(
        2e-3, "Peak learning rate (AdamW, warm-up, cosine decay).",
        Range(0, None, "0.002", whole=False, above=True), file=(0.0, None),
    )  # fmt: skip
    weight_decay: float = stored(1e-4, (0.0, None))
    grad_clip: float = stored(1.0, (0.0, None))
    # huber: pinball smoothed near zero
    loss: str = option("pinball", "Training loss: pinball or huber.", choices=("pinball", "huber"))
    # widen the intervals so they cover as stated on validation windows
    calibrate: bool = option(True, "Calibrate the intervals on the validation windows.")
    # epochs without validation improvement before stopping
    patience: int = option(
        6, "Epochs without improvement before stopping.", Range(1, 100_000, "6"), file=ANY_COUNT
    )
    # steps held out per series; default: 1-4 horizons (windows.default_val_size)
    val_size: int | None = option(
        None, "Steps held out per series (default: 1-4 horizons).", Range(1, 1_000_000, "48"),
        file=ANY_COUNT,
    )  # fmt: skip
    # the command line takes numpy's seed range
    seed: int = option(
        0, "Random seed: same seed and data, same model.", Range(0, 2**32 - 1, "0"),
        file=(-(2**63), 2**64 - 1),
    )  # fmt: skip
    device: str = option("auto", "auto, cpu, cuda, cuda:N or mps.")  # auto | cpu | cuda | mps
    # CPU threads; None: by model size (threads.cpu_threads)
    threads: int | None = option(
        None, "CPU threads (default: 1 for small models, else all).", Range(1, 1024, "4"),
        file=ANY_COUNT,
    )  # fmt: skip


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


# Every numeric option of every command, by parameter name, checked before any work starts
# (command line and config file alike). The upper bounds keep one run within memory and time
# on one machine; each is far above what a forecaster needs.
OPTION_RANGES: dict[str, Range] = {
    name: spec.range
    for cls in (DataSpec, ModelConfig, TrainConfig)
    for name, (_, spec) in options_of(cls).items()
    if spec.range is not None
} | {  # the options lstmcast.api takes as arguments rather than in a config
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


def warm_config(old: ModelConfig, asked: ModelConfig, given: Collection[str] = ()) -> ModelConfig:
    """The existing model's settings; one the user gave that differs is a usage error.

    `given` names the fields the user set (the CLI: the options on the command line or in the
    config file); the others are the model's, whatever `asked` holds.
    """
    import dataclasses

    from lstmcast.errors import UsageError

    for field in dataclasses.fields(ModelConfig):
        name = field.name
        value = getattr(asked, name)
        if name not in given or value is None:  # None: from the data, as the model's was
            continue
        if name == "quantiles":
            value = tuple(sorted(set(value) | {0.5}))
        if value != getattr(old, name):
            raise UsageError(
                f"--warm-start keeps the model's {name} ({getattr(old, name)}), but --{name.replace('_', '-')} {value} was given",
                hint="drop the option, or train a new model without --warm-start",
            )
    return old
