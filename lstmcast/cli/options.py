"""The options of every command, each declared once as an `Annotated` type.

Shared options (the data columns, --model, --json, --quiet, ...) are used by several
commands; the rest belong to one. An option without a name of its own takes the name of
the parameter it annotates (`hidden_size` -> --hidden-size; a bool one gets a --no- form).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lstmcast.cli.support import config_option, show_version

__all__ = [
    "DataArg", "ModelDataArg", "TimeCol", "Target", "IdCol", "Freq", "DateFormat", "MaxGap",
    "Covariates", "PastCovariates", "Json", "Quiet", "Debug", "Config", "NoConfig", "LogFile",
    "LockTimeout", "ModelPath", "Device", "ReadDevice", "Threads", "Version", "TrainHorizon",
    "Lookback", "Season", "HiddenSize", "Layers", "Dropout", "Quantiles", "Scaling", "Calendar",
    "Ensemble", "SkipCycles", "Epochs", "MaxSteps", "TimeBudget", "WindowsPerEpoch", "BatchSize",
    "LearningRate", "Loss", "Calibrate", "Patience", "ValSize", "Seed", "WarmStart", "Horizon",
    "ForecastOutput", "Format", "MaxAge", "Strict", "AsOf", "Fallback", "ModelArg", "Folds",
    "FoldHorizon", "Step", "MaseSeason", "Refit", "Show", "TableOutput", "Forecasts",
    "PlotFile", "PngOutput", "SeriesIds", "Last", "Holdout",
]  # fmt: skip

# Options shared by several commands, defined once.
DataArg = Annotated[
    Path,
    typer.Argument(
        metavar="DATA",
        help="CSV, TSV, Parquet, .csv.gz etc., or - for standard input.",
        show_default=False,
        rich_help_panel="Data",
    ),
]
ModelDataArg = Annotated[
    Path | None,
    typer.Argument(
        metavar="DATA",
        help="Data file, or - for stdin (default: the model's training file).",
        show_default=False,
        rich_help_panel="Data",
    ),
]
TimeCol = Annotated[
    str | None,
    typer.Option(
        "--time-col",
        help="Time column (default: the model's, else ds, date, ...).",
        rich_help_panel="Data",
    ),
]
Target = Annotated[
    str | None,
    typer.Option(
        "--target",
        help="Value column(s), comma-separated for a wide file.",
        rich_help_panel="Data",
    ),
]
IdCol = Annotated[
    str | None,
    typer.Option(
        "--id-col",
        help="Series id column (default: the model's, else unique_id, ...).",
        rich_help_panel="Data",
    ),
]
Freq = Annotated[
    str | None,
    typer.Option(
        "--freq",
        help="Frequency: h, D, B, W-SUN, MS, ... (default: inferred).",
        rich_help_panel="Data",
    ),
]
DateFormat = Annotated[
    str | None,
    typer.Option(
        "--date-format",
        help="strftime format of the time column, e.g. %d/%m/%Y.",
        rich_help_panel="Data",
    ),
]
MaxGap = Annotated[
    int | None,
    typer.Option(
        "--max-gap",
        help="Longest gap to interpolate, in steps (default: a season).",
        rich_help_panel="Data",
    ),
]
Covariates = Annotated[
    str | None,
    typer.Option(
        "--covariates",
        help="Columns known ahead, comma-separated.",
        rich_help_panel="Data",
    ),
]
PastCovariates = Annotated[
    str | None,
    typer.Option(
        "--past-covariates",
        help="Columns known only up to now, comma-separated.",
        rich_help_panel="Data",
    ),
]
Json = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Print one JSON document on stdout (docs/json.md).",
        rich_help_panel="Output",
    ),
]
Quiet = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        help="No progress or results; warnings and errors still print.",
        rich_help_panel="Output",
    ),
]
Debug = Annotated[
    bool,
    typer.Option("--debug", help="Show the full traceback on errors.", rich_help_panel="Output"),
]
Config = Annotated[
    Path | None,
    typer.Option(
        "--config",
        is_eager=True,
        callback=config_option,
        help="TOML file of option defaults (default: ./lstmcast.toml).",
        rich_help_panel="Unattended runs",
    ),
]
NoConfig = Annotated[
    bool,
    typer.Option(
        "--no-config",
        is_eager=True,
        callback=config_option,
        help="Ignore ./lstmcast.toml.",
        rich_help_panel="Unattended runs",
    ),
]
LogFile = Annotated[
    Path | None,
    typer.Option(
        "--log-file",
        help="Append one logfmt line per run, warnings and errors too.",
        rich_help_panel="Unattended runs",
    ),
]
LockTimeout = Annotated[
    float,
    typer.Option(
        "--lock-timeout",
        help="Seconds to wait for a run on the same model (then 75).",
        rich_help_panel="Unattended runs",
    ),
]


ModelPath = Annotated[
    Path,
    typer.Option("--model", "-m", help="Model file.", rich_help_panel="Model"),
]
Device = Annotated[
    str,
    typer.Option(
        "--device",
        help="auto, cpu, cuda, cuda:N or mps.",
        rich_help_panel="Training",
    ),
]
# Forecasting reads a model: the CPU unless told, since loading CUDA costs more than it saves.
ReadDevice = Annotated[
    str,
    typer.Option("--device", help="cpu, auto, cuda, cuda:N or mps.", rich_help_panel="Model"),
]
Threads = Annotated[
    int | None,
    typer.Option(
        "--threads",
        help="CPU threads (default: 1 for small models, else all).",
        rich_help_panel="Training",
    ),
]

# The version option of `lstmcast` itself.
Version = Annotated[
    bool,
    typer.Option(
        "--version", "-V", callback=show_version, is_eager=True, help="Show the version and exit."
    ),
]

# train: the model and its training.
TrainHorizon = Annotated[
    int | None,
    typer.Option(
        help="Steps to forecast (default: one season).",
        rich_help_panel="Model",
    ),
]
Lookback = Annotated[
    int | None,
    typer.Option(
        help="Past steps (default: 7 seasons, 14 if sub-daily; ≥ 3 horizons).",
        rich_help_panel="Model",
    ),
]
Season = Annotated[
    int | None,
    typer.Option(
        help="Seasonal period in steps (default: from the frequency).",
        rich_help_panel="Model",
    ),
]
HiddenSize = Annotated[int, typer.Option(help="LSTM hidden units.", rich_help_panel="Model")]
Layers = Annotated[int, typer.Option(help="Stacked LSTM layers.", rich_help_panel="Model")]
Dropout = Annotated[
    float,
    typer.Option(
        help="Dropout between layers and in the head.",
        rich_help_panel="Model",
    ),
]
Quantiles = Annotated[
    str,
    typer.Option(
        help="Quantiles; the lowest and highest bound the interval.",
        rich_help_panel="Model",
    ),
]
Scaling = Annotated[
    str,
    typer.Option(
        help="Window normalisation: auto, std, meanabs or log.",
        rich_help_panel="Model",
    ),
]
Calendar = Annotated[
    bool,
    typer.Option(
        help="Feed the calendar cycles of the frequency.",
        rich_help_panel="Model",
    ),
]
SkipCycles = Annotated[
    int,
    typer.Option(
        help="Past seasonal cycles the skip mixes per window (1: the last).",
        rich_help_panel="Model",
    ),
]
Ensemble = Annotated[
    int,
    typer.Option(
        help="Train N models (seeds seed..seed+N-1), forecast their median.",
        rich_help_panel="Model",
    ),
]
Epochs = Annotated[
    int,
    typer.Option(
        help="Maximum epochs of --windows-per-epoch windows.",
        rich_help_panel="Training",
    ),
]
MaxSteps = Annotated[
    int | None,
    typer.Option(help="Stop after this many optimiser steps.", rich_help_panel="Training"),
]
TimeBudget = Annotated[
    float | None,
    typer.Option(
        help="Stop after this many seconds, keeping the best weights.",
        rich_help_panel="Training",
    ),
]
WindowsPerEpoch = Annotated[
    int, typer.Option(help="Windows sampled per epoch.", rich_help_panel="Training")
]
BatchSize = Annotated[
    int,
    typer.Option(
        help="Windows per step (per process under torchrun).",
        rich_help_panel="Training",
    ),
]
LearningRate = Annotated[
    float,
    typer.Option(
        help="Peak learning rate (AdamW, warm-up, cosine decay).",
        rich_help_panel="Training",
    ),
]
Loss = Annotated[
    str,
    typer.Option(
        help="Training loss: pinball or huber.",
        rich_help_panel="Training",
    ),
]
Calibrate = Annotated[
    bool,
    typer.Option(
        help="Calibrate the intervals on the validation windows.",
        rich_help_panel="Training",
    ),
]
Patience = Annotated[
    int,
    typer.Option(
        help="Epochs without improvement before stopping.",
        rich_help_panel="Training",
    ),
]
ValSize = Annotated[
    int | None,
    typer.Option(
        help="Steps held out per series (default: 1-4 horizons).",
        rich_help_panel="Training",
    ),
]
Seed = Annotated[
    int,
    typer.Option(
        help="Random seed: same seed and data, same model.",
        rich_help_panel="Training",
    ),
]
WarmStart = Annotated[
    bool,
    typer.Option(
        "--warm-start",
        help="Continue from the --model file's weights.",
        rich_help_panel="Training",
    ),
]

# predict
Horizon = Annotated[
    int | None,
    typer.Option(
        help="Steps to forecast (default: the trained horizon).",
        rich_help_panel="Model",
    ),
]
ForecastOutput = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        help="Write forecasts to .csv, .tsv, .parquet, .json, or - for stdout.",
        rich_help_panel="Output",
    ),
]
Format = Annotated[
    str,
    typer.Option(
        "--format",
        help="On stdout (no -o, or -o -): table, csv, tsv or json.",
        rich_help_panel="Output",
    ),
]
MaxAge = Annotated[
    str | None,
    typer.Option(
        "--max-age",
        help="Refuse (exit 4) a model older than this: 12h, 7d, 2w.",
        rich_help_panel="Unattended runs",
    ),
]
Strict = Annotated[
    bool,
    typer.Option(
        "--strict",
        help="Exit 3 instead of warning on stale or shifted data.",
        rich_help_panel="Unattended runs",
    ),
]
AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Take this ISO 8601 time (UTC) as 'now'.",
        rich_help_panel="Unattended runs",
    ),
]
Fallback = Annotated[
    str,
    typer.Option(
        "--fallback",
        help="auto: each series by its winner at validation; none: the LSTM.",
        rich_help_panel="Model",
    ),
]

# info
ModelArg = Annotated[
    Path,
    typer.Argument(
        metavar="MODEL", help="Model file.", show_default=False, rich_help_panel="Model"
    ),
]

# evaluate: the backtest and what it writes.
Folds = Annotated[
    int,
    typer.Option(
        help="Rolling origins per series; the last ends at the end.", rich_help_panel="Backtest"
    ),
]
FoldHorizon = Annotated[
    int | None,
    typer.Option(help="Steps per fold (default: the trained horizon).", rich_help_panel="Backtest"),
]
Step = Annotated[
    int | None,
    typer.Option(help="Steps between origins (default: the horizon).", rich_help_panel="Backtest"),
]
MaseSeason = Annotated[
    int | None,
    typer.Option(
        help="Season for MASE and seasonal naive (default: the model's).",
        rich_help_panel="Backtest",
    ),
]
Refit = Annotated[
    bool,
    typer.Option(
        "--refit",
        help="Retrain on each fold's past (slow; never sees the future).",
        rich_help_panel="Backtest",
    ),
]
Show = Annotated[
    int,
    typer.Option(help="Show the N worst and N best series by skill.", rich_help_panel="Output"),
]
TableOutput = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        help="Per-series table to .csv, .tsv, .parquet, .json, or - (stdout).",
        rich_help_panel="Output",
    ),
]
Forecasts = Annotated[
    Path | None,
    typer.Option(
        "--forecasts",
        help="Every backtest window, beside the baselines, to a table file.",
        rich_help_panel="Output",
    ),
]
PlotFile = Annotated[
    Path | None,
    typer.Option(
        "--plot", help="Draw the worst and best series to this PNG.", rich_help_panel="Output"
    ),
]

# plot
PngOutput = Annotated[
    Path, typer.Option("--output", "-o", help="PNG file to write.", rich_help_panel="Output")
]
SeriesIds = Annotated[
    list[str] | None,
    typer.Option(
        "--series",
        "-s",
        help="Series id to draw; repeat for several (default: 6).",
        rich_help_panel="Output",
    ),
]
Last = Annotated[
    int | None,
    typer.Option(
        help="History steps to show (default: 3 horizons or 2 seasons).", rich_help_panel="Output"
    ),
]
Holdout = Annotated[
    int | None,
    typer.Option(
        help="Forecast from N steps before the end, draw those actuals.", rich_help_panel="Output"
    ),
]
