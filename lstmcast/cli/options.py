"""The options of every command: those declared on the config fields, and the rest.

An option that sets a field of DataSpec, ModelConfig or TrainConfig is declared once, on that
field (lstmcast.options); `declared_options` gives each command the ones that name it. The
options of one command that no config holds (--model, --json, --folds, ...) are `Annotated`
types here, shared ones used by several commands. An option without a name of its own takes
the name of its parameter (`hidden_size` -> --hidden-size; a bool one gets a --no- form).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from pathlib import Path
from typing import Annotated

import typer

from lstmcast.cli.support import config_option, show_version
from lstmcast.config import DataSpec, ModelConfig, TrainConfig
from lstmcast.options import options_of

__all__ = [
    "Declared", "declared_options", "DataArg", "ModelDataArg", "Json", "Quiet", "Debug",
    "Config", "NoConfig", "LogFile", "LockTimeout", "ModelPath", "ReadDevice", "Version",
    "WarmStart", "Horizon", "ForecastOutput", "Format", "MaxAge", "Strict", "AsOf", "Fallback",
    "ModelArg", "Folds", "FoldHorizon", "Step", "MaseSeason", "Refit", "Show", "TableOutput",
    "Forecasts", "PlotFile", "PngOutput", "SeriesIds", "Last", "Holdout",
]  # fmt: skip

# The configs whose fields declare options, in the order of the parameters, and the --help
# panel of each.
PANELS = {ModelConfig: "Model", TrainConfig: "Training", DataSpec: "Data"}


@dataclasses.dataclass(frozen=True)
class Declared:
    """The declared options of one run: their values by name, and the names the user gave
    (on the command line or in the config file), which --warm-start needs."""

    values: dict[str, object]
    given: frozenset[str]

    def build(self, cls):
        """The `cls` config these options set; text options are parsed (UsageError if bad)."""
        kwargs = {}
        for name, (_, spec) in options_of(cls).items():
            if name in self.values:
                value = self.values[name]
                kwargs[name] = spec.parse(value) if spec.parse else value
        return cls(**kwargs)

    def given_to(self, cls) -> frozenset[str]:
        """The fields of `cls` the user set."""
        return self.given & options_of(cls).keys()


def declared_options(command):
    """Give `command` the declared options that name it, where its `options: Declared`
    parameter stands (keyword-only); it receives their values as that one Declared.

    Click tells for each option where its value came from: a default is not given.
    """
    signature = inspect.signature(command, eval_str=True)
    [slot] = [p.name for p in signature.parameters.values() if p.annotation is Declared]
    assert "ctx" in signature.parameters, f"{command.__name__} takes ctx: typer.Context"
    declared = _parameters(command.__name__)
    names = [p.name for p in declared]
    params = []
    for p in signature.parameters.values():
        params.extend(declared if p.name == slot else [p])

    @functools.wraps(command)
    def run(ctx: typer.Context, **kwargs):
        values = {name: kwargs.pop(name) for name in names}
        sources = {n: getattr(ctx.get_parameter_source(n), "name", "DEFAULT") for n in names}
        given = frozenset(name for name, source in sources.items() if source != "DEFAULT")
        return command(ctx, **kwargs, **{slot: Declared(values, given)})

    run.__signature__ = signature.replace(parameters=params)
    run.__annotations__ = {p.name: p.annotation for p in params}
    return run


def _parameters(command: str) -> list[inspect.Parameter]:
    """The options declared on the config fields that `command` takes, as Typer parameters:
    the field's type (text, for an option that `parse`s), default and help."""
    params = []
    for cls, panel in PANELS.items():
        hints = typing.get_type_hints(cls)
        for name, (field, spec) in options_of(cls).items():
            if command not in spec.commands:
                continue
            kind, default = hints[name], field.default
            if spec.parse:  # a tuple, written as text: "0.1,0.5,0.9"
                default = ",".join(map(str, default)) or None
                kind = str if default else str | None
            kind = Annotated[kind, typer.Option(help=spec.help_for(command), rich_help_panel=panel)]
            keyword = inspect.Parameter.KEYWORD_ONLY
            params.append(inspect.Parameter(name, keyword, default=default, annotation=kind))
    return params


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
        help="Append one logfmt line per run: findings, warnings, errors.",
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
# Forecasting reads a model: the CPU unless told, since loading CUDA costs more than it saves.
ReadDevice = Annotated[
    str,
    typer.Option("--device", help="cpu, auto, cuda, cuda:N or mps.", rich_help_panel="Model"),
]

# The version option of `lstmcast` itself.
Version = Annotated[
    bool,
    typer.Option(
        "--version", "-V", callback=show_version, is_eager=True, help="Show the version and exit."
    ),
]

# train: the model and its training.
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
        help="Exit 3 instead of warning on lagging, stale or shifted data.",
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
    typer.Option(
        help="Show the N worst and best series by skill (tables, --plot).",
        rich_help_panel="Output",
    ),
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
        help="Every backtest window, each method's forecast, to a table file.",
        rich_help_panel="Output",
    ),
]
PlotFile = Annotated[
    Path | None,
    typer.Option(
        "--plot",
        help="Draw the --show worst and best series to this PNG.",
        rich_help_panel="Output",
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
        help="Series id to draw; repeat for several (default: the first 6).",
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
