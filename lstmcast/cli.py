"""The `lstmcast` command: parse options, call one core function, render. No torch at import."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import math
import os
import re
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
import typer.core

from lstmcast import __version__
from lstmcast.config import CONFIG_NAME, DataSpec
from lstmcast.errors import Interrupted, LstmcastError, UsageError

PANELS = ("Data", "Model", "Training", "Output", "Unattended runs")
METAVARS = {Path: "PATH", int: "INTEGER", float: "NUMBER", str: "TEXT"}


class _PlainHelp:
    """--help as plain text, options grouped in their panels (rich_help_panel), one line each.

    Click's own formatter, not Rich: rendering the help imports nothing more, so
    `lstmcast --help` answers at once.
    """

    def get_params(self, ctx) -> list:
        params = super().get_params(ctx)
        for param in params:
            _plain_flag(param)
        return params

    def collect_usage_pieces(self, ctx) -> list[str]:
        # Typer writes a required argument as {DATA}; the usual form is plain DATA.
        pieces = super().collect_usage_pieces(ctx)
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p for p in pieces]

    def format_options(self, ctx, formatter) -> None:
        panels: dict[str, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            if getattr(param, "hidden", False):
                continue
            panel = getattr(param, "rich_help_panel", None) or (
                "Arguments" if param.param_type_name == "argument" else "Options"
            )
            panels.setdefault(panel, []).append(_help_record(param))
        order = ["Arguments", *PANELS, *sorted(set(panels) - {"Arguments", "Options", *PANELS})]
        for name in [*order, "Options"]:
            if panels.get(name):
                with formatter.section(name):
                    formatter.write_dl(panels[name], col_max=34)
        if hasattr(self, "format_commands"):
            self.format_commands(ctx, formatter)


def _plain_flag(param) -> None:
    """A flag's value is already a bool (or None when absent): check it without Pydantic.

    Typer coerces every value through Pydantic, whose import costs more than the rest of
    `lstmcast --help`; for flags there is nothing to convert.
    """
    try:
        if param._runtime_param is None and param.type_descriptor.annotation is bool:
            from typer._coercion import PassThroughRuntimeParam

            info = param.type_descriptor.parameter_info
            param._runtime_param = PassThroughRuntimeParam(annotation=bool, parameter_info=info)
    except (AttributeError, ImportError, TypeError):  # another Typer: leave it to Typer
        pass


def _help_record(param) -> tuple[str, str]:
    """('-m, --model PATH', 'Model file. [default: model.lstmcast]'): one line of --help."""
    kind = param.type_descriptor.annotation
    if param.param_type_name == "argument":
        return param.metavar or param.name.upper(), param.help or ""
    names = ", ".join(sorted(param.opts, key=len))
    if param.secondary_opts:
        names += " / " + ", ".join(param.secondary_opts)
    if not param.is_flag:
        names += " " + (param.metavar or METAVARS.get(kind, "TEXT"))
    text, default = param.help or "", param.default
    if param.show_default and not param.is_flag and default not in (None, ""):
        text += f" [default: {default}]"
    elif param.secondary_opts:
        text += f" [default: {(param.opts if default else param.secondary_opts)[0]}]"
    return names, text


class _Command(_PlainHelp, typer.core.TyperCommand):
    pass


class _Group(_PlainHelp, typer.core.TyperGroup):
    """Usage errors (unknown option, missing argument, bad value, bad config file) become the
    same one line `error: ...` / `hint: ...` and exit 2 as every other error, go to stdout as
    one JSON document with --json, and reach --log-file like any failed run."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        args = list(sys.argv[1:] if args is None else args)
        _run.clear()
        _run["started"], _run["args"] = _now(), args
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except typer.Abort:
            code = 130
            sys.stderr.write("error: interrupted\n")
        except Exception as exc:  # Click's UsageError family, vendored by Typer
            if not (hasattr(exc, "format_message") and hasattr(exc, "exit_code")):
                raise
            code = _usage_error(exc, args)
        code = code if isinstance(code, int) else 0
        if standalone_mode:
            sys.exit(code)
        return code


# What the current run knows before its command body starts: its start time and, once the
# config file has been read, the --log-file it names (so an error found while parsing the
# other options is logged too).
_run: dict = {}


def _now():
    import datetime as dt

    return dt.datetime.now(dt.timezone.utc)


def _usage_error(exc, args: list[str]) -> int:
    from lstmcast.report import print_error

    ctx = getattr(exc, "ctx", None)
    if type(exc).__name__ == "NoArgsIsHelpError":  # bare `lstmcast` or `lstmcast train`
        typer.echo(ctx.get_help() if ctx is not None else exc.format_message())
        return exc.exit_code
    path = ctx.command_path if ctx is not None else "lstmcast"
    hint = f"see '{path} --help'"
    message = exc.format_message()
    command = next((a for a in args if not a.startswith("-")), None)
    print_error("usage", exc.exit_code, message, hint, "--json" in args, command)
    log_file = _log_file_in(args) or _run.get("log_file")
    if log_file is not None and command in ("train", "predict", "evaluate"):
        from lstmcast.ops import append_log

        started = _run["started"]
        append_log(
            log_file,
            {
                "command": command,
                "exit": exc.exit_code,
                "duration": f"{(_now() - started).total_seconds():.1f}s",
                "error": message,
            },
            started,
        )
    return exc.exit_code


def _log_file_in(args: list[str]) -> str | None:
    """--log-file PATH or --log-file=PATH on the command line, read before Click could."""
    for k, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--log-file" and k + 1 < len(args):
            return args[k + 1]
        if arg.startswith("--log-file="):
            return arg.split("=", 1)[1]
    return None


app = typer.Typer(
    cls=_Group,
    rich_markup_mode=None,  # the plain help of _PlainHelp: Rich is imported only to print tables
    name="lstmcast",
    help="Forecast time series from the command line with one global LSTM.\n\n"
    "Train on a CSV or Parquet file, predict with intervals, and see how the model "
    "compares with naive baselines. Exit codes: 0 ok, 2 usage, 3 bad data, 4 bad model "
    "file, 5 training failed, 73 cannot write output, 75 busy, 130/143 interrupted.",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 120},
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish, PowerShell)
    pretty_exceptions_enable=False,
)


def _config_option(ctx: typer.Context, param: typer.CallbackParam, value):
    """--config and --no-config: once both are known, load the command's table as defaults.

    Both are eager, so they run before every other option; Click then takes any option not
    given on the command line from ctx.default_map, so flags always override the file.
    """
    seen = ctx.meta.setdefault("lstmcast.config", {})
    seen[param.name] = value
    if len(seen) == 2:
        _apply_config(ctx, seen["config"], seen["no_config"])
    return value


def _apply_config(ctx: typer.Context, path: Path | None, no_config: bool) -> None:
    """Read the config file into ctx.default_map; its errors end like every other error."""
    if no_config:
        return
    if path is None:
        path = Path(CONFIG_NAME)
        if not path.is_file():
            return
    # A callback runs outside the command's body: the same one place turns errors into
    # one line and an exit code (with --json, a JSON document), never a traceback.
    # Its failure reaches the --log-file of the command line, else the one the file names.
    logged = ctx.command.name in ("train", "predict", "evaluate")
    args = _run.get("args", sys.argv[1:])
    with errors_handled("--json" in args, command=ctx.command.name, config_log=logged):
        from lstmcast.config import read_config

        table = read_config(path).get(ctx.command.name, {})
        log_file = table.get("log-file", table.get("log_file"))
        if isinstance(log_file, str):
            _run["log_file"] = log_file
        # A key may be the option's name (format, hidden-size) or its parameter's (hidden_size).
        params, names = {}, {}
        for p in ctx.command.params:
            if p.name in ("config", "no_config", "help"):
                continue
            params[p.name] = p
            names[p.name] = p.name
            for opt in p.opts:
                names[opt.lstrip("-").replace("-", "_")] = p.name
        defaults = {}
        for key, value in table.items():
            name = names.get(key.replace("-", "_"))
            if name is None:
                raise UsageError(
                    f"{path}: unknown key '{key}' in [{ctx.command.name}]",
                    hint=f"the keys are the options of lstmcast {ctx.command.name} --help",
                )
            defaults[name] = _config_value(
                params[name], f"{path}: [{ctx.command.name}] {key}", value
            )
        ctx.default_map = {**(ctx.default_map or {}), **defaults}
        ctx.meta["lstmcast.config_source"] = f"{path} [{ctx.command.name}]"


def _config_value(param, where: str, value):
    """A config value of the option's own type and range, as the option would take it.

    TOML knows booleans, integers and strings apart, so a boolean for an integer option
    or a string for a number is a mistake (UsageError), not something to convert.
    """
    kind = getattr(getattr(param, "type_descriptor", None), "annotation", str)
    if getattr(param, "is_flag", False):
        ok, want = isinstance(value, bool), "true or false"
    elif kind is int:
        ok, want = _is_int(value), "an integer"
    elif kind is float:
        ok = _is_int(value) or (isinstance(value, float) and math.isfinite(value))
        want = "a finite number"
    elif kind is str and isinstance(value, list):
        # TOML writes several values as an array; the options take them comma-separated.
        ok = all(isinstance(v, str) or _is_int(v) or isinstance(v, float) for v in value)
        want = "a string, or an array of strings or numbers"
        value = ",".join(map(str, value)) if ok else value
    elif kind is str:
        ok, want = isinstance(value, str) or _is_int(value) or isinstance(value, float), "a string"
        value = str(value) if ok else value
    else:  # a path
        ok, want = isinstance(value, str), "a string"
    if not ok:
        raise UsageError(
            f"{where} = {_toml_type(value)}, but it must be {want}",
            hint=f"write it as {max(param.opts, key=len)} takes it on the command line",
        )
    from lstmcast.config import OPTION_RANGES

    allowed = OPTION_RANGES.get(param.name)  # the same ranges as on the command line
    if allowed is not None and isinstance(value, int | float) and value not in allowed:
        raise UsageError(
            f"{where} = {value}, but it must be {allowed.text()}",
            hint=f"fix it in the file, or pass {max(param.opts, key=len)} on the command line",
        )
    return value


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _toml_type(value) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
             list: "an array", dict: "a table"}  # fmt: skip
    kind = next((n for t, n in names.items() if isinstance(value, t)), "a date or time")
    return f"{value!r:.40} ({kind})" if not isinstance(value, list | dict) else kind


def _check_options(ctx: typer.Context) -> None:
    """Every numeric option (config.OPTION_RANGES), the column names, --freq and --quantiles,
    before any work starts (exit 2). Values from a config file pass through the same checks,
    and their message names the file."""
    from lstmcast.config import check_ranges, parse_quantiles
    from lstmcast.freq import check_freq

    source = ctx.meta.get("lstmcast.config_source")
    from_file = {
        name: source
        for name in ctx.params
        if source and getattr(ctx.get_parameter_source(name), "name", "") == "DEFAULT_MAP"
    }
    check_ranges(ctx.params, from_file)
    for name, example in (("time_col", "ds"), ("target", "y"), ("id_col", "unique_id")):
        value = ctx.params.get(name)
        if value is not None and not value.replace(",", "").strip():
            flag = "--" + name.replace("_", "-")
            raise UsageError(
                f"{flag} {value!r}: names no column",
                hint=f"e.g. {flag} {example}, or leave it out to let lstmcast guess",
            )
    for name, check in (("freq", check_freq), ("quantiles", parse_quantiles)):
        if ctx.params.get(name) is None:
            continue
        try:
            check(ctx.params[name])
        except UsageError as exc:
            if name in from_file:
                exc.message += f" (from {from_file[name]})"
            raise


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
        callback=_config_option,
        help="TOML file of option defaults (default: ./lstmcast.toml).",
        rich_help_panel="Unattended runs",
    ),
]
NoConfig = Annotated[
    bool,
    typer.Option(
        "--no-config",
        is_eager=True,
        callback=_config_option,
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


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lstmcast {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Forecast time series from the command line with one global LSTM."""


@contextlib.contextmanager
def errors_handled(
    as_json: bool = False,
    debug: bool = False,
    log_file: Path | None = None,
    command: str | None = None,
    config_log: bool = False,
) -> Iterator[Run]:
    """The one place where core errors become a message on stderr and an exit code.

    Yields a Run the command fills (series, output, warnings); with `log_file`, one line with
    the start time, command, exit code, duration, those fields and any error is appended
    whatever the outcome. With `config_log` (reading the config file) a failure is logged to
    the --log-file of the command line or of the file itself.
    """
    from lstmcast.report import print_error

    previous = signal.getsignal(signal.SIGTERM)

    def on_term(signum, frame):
        raise Interrupted("terminated", "nothing was written", signum=signum)

    signal.signal(signal.SIGTERM, on_term)
    started, code, run, error = _run.get("started") or _now(), 0, Run(), None
    try:
        yield run
    except KeyboardInterrupt:
        code, error = 130, "interrupted"
        print_error("interrupted", code, error, "nothing was written", as_json, command)
        raise typer.Exit(code) from None
    except BrokenPipeError:
        # The reader of standard output went away (`| head`, a consumer that died): the
        # output is incomplete, which is exit 73; later flushes go nowhere instead of failing.
        code = 73
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print_error(
            "output", code, "standard output was closed before everything was written",
            "nothing is wrong if you piped into head; else check the reading command", False,
        )  # fmt: skip
        raise typer.Exit(code) from None
    except LstmcastError as exc:
        code, error = exc.exit_code, exc.message
        if debug:
            import traceback

            traceback.print_exc()
        print_error(exc.kind, code, exc.message, exc.hint, as_json, command)
        raise typer.Exit(code) from None
    except typer.Exit as exc:
        code = exc.exit_code
        raise
    except Exception as exc:
        code, error = 1, f"unexpected {type(exc).__name__}: {exc}"
        if debug:
            raise
        hint = "re-run with --debug for the traceback and report it"
        print_error("internal", code, error, hint, as_json, command)
        raise typer.Exit(code) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
        if config_log and code:  # a config file that failed: the command will not log it
            log_file = _log_file_in(_run.get("args", sys.argv[1:])) or _run.get("log_file")
        if log_file is not None:
            from lstmcast.ops import append_log

            duration = (_now() - started).total_seconds()  # from the start of the process's run
            fields = {"command": command, "exit": code, "duration": f"{duration:.1f}s"}
            fields.update(series=run.series, output=run.output, error=error)
            append_log(log_file, fields, started, run.warnings)


@dataclasses.dataclass
class Run:
    """What a command tells errors_handled for the log: counts, the file written, warnings."""

    series: int | None = None
    output: Path | None = None
    warnings: list[str] = dataclasses.field(default_factory=list)

    def warn(self, warnings: list[str]) -> None:
        """Print each warning on stderr — under --quiet too, so cron mails them — and keep it."""
        from lstmcast.report import visible  # text from files never reaches the terminal raw

        for w in warnings:
            sys.stderr.write(f"warning: {visible(w)}\n")
        sys.stderr.flush()
        self.warnings.extend(warnings)


AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
MAX_AGE_DAYS = 36_500  # a hundred years: beyond any model's life, well inside timedelta


def _parse_age(text: str) -> dt.timedelta:
    """'90s', '30m', '12h', '7d', '2w' -> timedelta."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", text or "")
    if not m:
        raise UsageError(
            f"--max-age {text}: expected a number and a unit, e.g. 90s, 30m, 12h, 7d, 2w"
        )
    seconds = float(m.group(1)) * AGE_UNITS[m.group(2)]
    if not 0 < seconds <= MAX_AGE_DAYS * 86400:
        raise UsageError(
            f"--max-age {text}: expected an age above 0 and at most {MAX_AGE_DAYS}d",
            hint="e.g. --max-age 7d",
        )
    return dt.timedelta(seconds=seconds)


def _parse_time(text: str) -> dt.datetime:
    """An ISO 8601 time for --as-of; without a zone it is taken as UTC."""
    import pandas as pd

    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        value = value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
        pd.Timestamp(value).as_unit("ns")  # comparable with the data's timestamps: 1677 to 2262
    except (ValueError, OverflowError):
        raise UsageError(
            f"--as-of {text}: expected an ISO 8601 time between 1677-09-22 and 2262-04-11, "
            "such as 2026-11-28 or 2026-11-28T02:00"
        ) from None
    return value


def _spec(
    time_col, target, id_col, freq, max_gap, date_format, covariates=None, past=None
) -> DataSpec:
    return DataSpec(
        time_col=time_col, target=target, id_col=id_col, freq=freq, max_gap=max_gap,
        date_format=date_format, covariates=_names(covariates), past_covariates=_names(past),
    )  # fmt: skip


def _names(text: str | None) -> tuple[str, ...]:
    return tuple(n.strip() for n in (text or "").split(",") if n.strip())


@app.command(cls=_Command)
def inspect(
    ctx: typer.Context,
    data: DataArg,
    time_col: TimeCol = None,
    target: Target = None,
    id_col: IdCol = None,
    freq: Freq = None,
    date_format: DateFormat = None,
    max_gap: MaxGap = None,
    covariates: Covariates = None,
    past_covariates: PastCovariates = None,
    json_out: Json = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Show what lstmcast detects in a data file.

    Layout, columns, frequency, number and length of series, gaps filled, warnings.

    \b
    Example: lstmcast inspect sample_data/prices.csv
    """
    with errors_handled(json_out, debug, command="inspect"):
        _check_options(ctx)
        from lstmcast.api import load_panel
        from lstmcast.report import document, inspect_table, out, print_json

        spec = _spec(
            time_col, target, id_col, freq, max_gap, date_format, covariates, past_covariates
        )
        panel = load_panel(data, spec)
        summary = panel.summary()
        if json_out:
            print_json(document("inspect", {"data": str(data), **summary}))
        elif not quiet:
            out.print(inspect_table(summary, str(data)))


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


@app.command(cls=_Command)
def train(
    ctx: typer.Context,
    data: DataArg,
    model: ModelPath = Path("model.lstmcast"),
    horizon: Annotated[
        int | None,
        typer.Option(
            help="Steps to forecast (default: one season).",
            rich_help_panel="Model",
        ),
    ] = None,
    lookback: Annotated[
        int | None,
        typer.Option(
            help="Past steps read (default: 7 seasons or 3 horizons).",
            rich_help_panel="Model",
        ),
    ] = None,
    season: Annotated[
        int | None,
        typer.Option(
            help="Seasonal period in steps (default: from the frequency).",
            rich_help_panel="Model",
        ),
    ] = None,
    hidden_size: Annotated[
        int, typer.Option(help="LSTM hidden units.", rich_help_panel="Model")
    ] = 128,
    layers: Annotated[int, typer.Option(help="Stacked LSTM layers.", rich_help_panel="Model")] = 2,
    dropout: Annotated[
        float,
        typer.Option(
            help="Dropout between layers and in the head.",
            rich_help_panel="Model",
        ),
    ] = 0.1,
    quantiles: Annotated[
        str,
        typer.Option(
            help="Quantiles; the lowest and highest bound the interval.",
            rich_help_panel="Model",
        ),
    ] = "0.1,0.5,0.9",
    scaling: Annotated[
        str,
        typer.Option(
            help="Window normalisation: auto, std, meanabs or log.",
            rich_help_panel="Model",
        ),
    ] = "auto",
    calendar: Annotated[
        bool,
        typer.Option(
            help="Feed the calendar cycles of the frequency.",
            rich_help_panel="Model",
        ),
    ] = True,
    ensemble: Annotated[
        int,
        typer.Option(
            help="Train N models (seeds seed..seed+N-1), forecast their median.",
            rich_help_panel="Model",
        ),
    ] = 1,
    epochs: Annotated[
        int,
        typer.Option(
            help="Maximum epochs of --windows-per-epoch windows.",
            rich_help_panel="Training",
        ),
    ] = 30,
    max_steps: Annotated[
        int | None,
        typer.Option(help="Stop after this many optimiser steps.", rich_help_panel="Training"),
    ] = None,
    time_budget: Annotated[
        float | None,
        typer.Option(
            help="Stop after this many seconds, keeping the best weights.",
            rich_help_panel="Training",
        ),
    ] = None,
    windows_per_epoch: Annotated[
        int, typer.Option(help="Windows sampled per epoch.", rich_help_panel="Training")
    ] = 25_600,
    batch_size: Annotated[
        int,
        typer.Option(
            help="Windows per step (per process under torchrun).",
            rich_help_panel="Training",
        ),
    ] = 256,
    lr: Annotated[
        float,
        typer.Option(
            help="Peak learning rate (AdamW, warm-up, cosine decay).",
            rich_help_panel="Training",
        ),
    ] = 2e-3,
    loss: Annotated[
        str,
        typer.Option(
            help="Training loss: pinball or huber.",
            rich_help_panel="Training",
        ),
    ] = "pinball",
    calibrate: Annotated[
        bool,
        typer.Option(
            help="Calibrate the intervals on the validation windows.",
            rich_help_panel="Training",
        ),
    ] = True,
    patience: Annotated[
        int,
        typer.Option(
            help="Epochs without improvement before stopping.",
            rich_help_panel="Training",
        ),
    ] = 6,
    val_size: Annotated[
        int | None,
        typer.Option(
            help="Steps held out per series (default: 1-4 horizons).",
            rich_help_panel="Training",
        ),
    ] = None,
    seed: Annotated[
        int,
        typer.Option(
            help="Random seed: same seed and data, same model.",
            rich_help_panel="Training",
        ),
    ] = 0,
    device: Device = "auto",
    threads: Threads = None,
    time_col: TimeCol = None,
    target: Target = None,
    id_col: IdCol = None,
    freq: Freq = None,
    date_format: DateFormat = None,
    max_gap: MaxGap = None,
    covariates: Covariates = None,
    past_covariates: PastCovariates = None,
    warm_start: Annotated[
        bool,
        typer.Option(
            "--warm-start",
            help="Continue from the --model file's weights.",
            rich_help_panel="Training",
        ),
    ] = False,
    lock_timeout: LockTimeout = 300.0,
    log_file: LogFile = None,
    config: Config = None,
    no_config: NoConfig = False,
    json_out: Json = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Train one global LSTM on every series in DATA.

    Saves it to --model and ends with its validation error beside naive, seasonal naive
    and drift on the same held-out windows, the verdict against the best of them, and how
    many series each method will forecast. Data too short for the LSTM is forecast by the
    baselines.

    \b
    Example: lstmcast train sample_data/stores.csv --model stores.lstmcast
    """
    from lstmcast import distributed

    if not distributed.is_main():  # under torchrun rank 0 reports and logs; errors still show
        json_out, quiet, log_file = False, True, None
    with errors_handled(json_out, debug, log_file, "train") as run:
        _check_options(ctx)
        from lstmcast import api
        from lstmcast.config import ModelConfig, TrainConfig, parse_quantiles
        from lstmcast.report import TrainProgress, out, print_json, train_document, train_tables

        model_cfg = ModelConfig(
            lookback=lookback, horizon=horizon, season=season, hidden_size=hidden_size, layers=layers,
            dropout=dropout, quantiles=parse_quantiles(quantiles), scaling=scaling, calendar=calendar,
            ensemble=ensemble,
        )  # fmt: skip
        train_cfg = TrainConfig(
            epochs=epochs, max_steps=max_steps, time_budget=time_budget, windows_per_epoch=windows_per_epoch,
            batch_size=batch_size, lr=lr, patience=patience, val_size=val_size, seed=seed, device=device,
            loss=loss, calibrate=calibrate,
            threads=threads,
        )  # fmt: skip
        spec = _spec(
            time_col, target, id_col, freq, max_gap, date_format, covariates, past_covariates
        )
        with TrainProgress(enabled=not (quiet or json_out)) as progress:
            summary = api.train(
                data, model, spec, model_cfg, train_cfg, progress, warm_start, lock_timeout
            )
        run.series, run.output = summary.series, model
        if distributed.is_main():  # every rank finds the same warnings
            run.warn(summary.warnings)
        doc = train_document(summary.to_dict())
        if json_out:
            print_json(doc)
        elif not quiet:
            for table in train_tables(doc):
                out.print(table)


@app.command(cls=_Command)
def predict(
    ctx: typer.Context,
    data: ModelDataArg = None,
    model: ModelPath = Path("model.lstmcast"),
    horizon: Annotated[
        int | None,
        typer.Option(
            help="Steps to forecast (default: the trained horizon).",
            rich_help_panel="Model",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write forecasts to .csv, .tsv, .parquet, .json, or - for stdout.",
            rich_help_panel="Output",
        ),
    ] = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="On stdout (no -o, or -o -): table, csv, tsv or json.",
            rich_help_panel="Output",
        ),
    ] = "table",
    time_col: TimeCol = None,
    target: Target = None,
    id_col: IdCol = None,
    freq: Freq = None,
    date_format: DateFormat = None,
    max_gap: MaxGap = None,
    device: ReadDevice = "cpu",
    max_age: Annotated[
        str | None,
        typer.Option(
            "--max-age",
            help="Refuse (exit 4) a model older than this: 12h, 7d, 2w.",
            rich_help_panel="Unattended runs",
        ),
    ] = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Exit 3 instead of warning on stale or shifted data.",
            rich_help_panel="Unattended runs",
        ),
    ] = False,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Take this ISO 8601 time (UTC) as 'now'.",
            rich_help_panel="Unattended runs",
        ),
    ] = None,
    fallback: Annotated[
        str,
        typer.Option(
            "--fallback",
            help="auto: each series by its winner at validation; none: the LSTM.",
            rich_help_panel="Model",
        ),
    ] = "auto",
    lock_timeout: LockTimeout = 300.0,
    log_file: LogFile = None,
    config: Config = None,
    no_config: NoConfig = False,
    json_out: Json = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Forecast the next steps of every series, with intervals.

    Forecasts start one step after each series' last timestamp, so a nightly run on a
    grown file forecasts from the new rows without retraining.

    \b
    Example: lstmcast predict --model stores.lstmcast --horizon 24 -o forecast.csv
    """
    with errors_handled(json_out, debug, log_file, "predict") as run:
        _check_options(ctx)
        from lstmcast import api
        from lstmcast.io import output_format, records, write_stream
        from lstmcast.report import document, err, forecast_table, out, print_json

        fmt = fmt.strip().lower()
        if fmt not in ("table", "csv", "tsv", "json"):
            raise UsageError(f"--format {fmt}: expected table, csv, tsv or json")
        if output is not None and str(output) == "-":  # standard output, csv unless told
            output, fmt = None, "csv" if fmt == "table" else fmt
        elif output is not None:
            api.check_outputs({"--output": output}, model, data)  # the data or model: say so
            output_format(output)
        result = api.predict(
            model, data, horizon, device, None,
            max_age=_parse_age(max_age) if max_age else None,
            as_of=_parse_time(as_of) if as_of else None,
            strict=strict, lock_timeout=lock_timeout, output=output, fallback=fallback,
            spec=_spec(time_col, target, id_col, freq, max_gap, date_format),
        )  # fmt: skip
        run.series, run.output = result.series, output
        run.warn(result.warnings)
        if json_out:
            body = {
                "data": result.data_path, "model": str(model), "output": str(output) if output else None,
                "horizon": result.horizon, "series": result.series, "warnings": result.warnings,
                "forecast": None if output else records(result.forecast),
            }  # fmt: skip
            print_json(document("predict", body))
        elif output is not None:
            if not quiet:
                err.print(
                    f"wrote {len(result.forecast):,} rows ({result.series:,} series × {result.horizon} steps) to {output}",
                    markup=False,
                )
        elif fmt in ("csv", "tsv", "json"):
            write_stream(result.forecast, sys.stdout, fmt)
        elif not quiet:
            out.print(forecast_table(result.forecast))


@app.command(cls=_Command)
def info(
    model: Annotated[
        Path,
        typer.Argument(
            metavar="MODEL", help="Model file.", show_default=False, rich_help_panel="Model"
        ),
    ] = Path("model.lstmcast"),
    json_out: Json = False,
    debug: Debug = False,
) -> None:
    """Show what a model file holds.

    Its settings, the data it expects and its validation errors at training time.

    \b
    Example: lstmcast info model.lstmcast
    """
    with errors_handled(json_out, debug, command="info"):
        from lstmcast import api
        from lstmcast.report import info_document, info_tables, out, print_json

        header = api.model_info(model)
        if json_out:
            print_json(info_document(header))
        else:
            for table in info_tables(header):
                out.print(table)


@app.command(cls=_Command)
def evaluate(
    ctx: typer.Context,
    data: ModelDataArg = None,
    model: ModelPath = Path("model.lstmcast"),
    folds: Annotated[
        int,
        typer.Option(
            help="Rolling origins per series; the last ends at the end.",
            rich_help_panel="Backtest",
        ),
    ] = 3,
    horizon: Annotated[
        int | None,
        typer.Option(
            help="Steps per fold (default: the trained horizon).", rich_help_panel="Backtest"
        ),
    ] = None,
    step: Annotated[
        int | None,
        typer.Option(
            help="Steps between origins (default: the horizon).", rich_help_panel="Backtest"
        ),
    ] = None,
    season: Annotated[
        int | None,
        typer.Option(
            help="Season for MASE and seasonal naive (default: the model's).",
            rich_help_panel="Backtest",
        ),
    ] = None,
    refit: Annotated[
        bool,
        typer.Option(
            "--refit",
            help="Retrain on each fold's past (slow; never sees the future).",
            rich_help_panel="Backtest",
        ),
    ] = False,
    show: Annotated[
        int,
        typer.Option(help="Show the N worst and N best series by skill.", rich_help_panel="Output"),
    ] = 10,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Per-series table to .csv, .tsv, .parquet, .json, or - (stdout).",
            rich_help_panel="Output",
        ),
    ] = None,
    forecasts: Annotated[
        Path | None,
        typer.Option(
            "--forecasts",
            help="Every backtest window, beside the baselines, to a table file.",
            rich_help_panel="Output",
        ),
    ] = None,
    plot_file: Annotated[
        Path | None,
        typer.Option(
            "--plot",
            help="Draw the worst and best series to this PNG.",
            rich_help_panel="Output",
        ),
    ] = None,
    time_col: TimeCol = None,
    target: Target = None,
    id_col: IdCol = None,
    freq: Freq = None,
    date_format: DateFormat = None,
    device: ReadDevice = "cpu",
    log_file: LogFile = None,
    config: Config = None,
    no_config: NoConfig = False,
    json_out: Json = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Backtest the model against naive, seasonal naive and drift.

    Every method is scored on the same rolling-origin windows, and so is the forecast
    predict makes by default (each series by the method chosen for it: "chosen per
    series"). Skill is 1 - MASE(LSTM) / MASE(seasonal naive).

    Series are ranked by skill against their own best baseline; --forecasts writes every window.

    \b
    Example: lstmcast evaluate sample_data/stores.csv -m stores.lstmcast --folds 3 --forecasts backtest.csv
    """
    with errors_handled(json_out, debug, log_file, "evaluate") as run:
        _check_options(ctx)
        from lstmcast import api
        from lstmcast.io import check_writable, output_format, records, write_stream, write_table
        from lstmcast.report import FoldProgress, document, evaluate_tables, out, print_json

        to_stdout = output is not None and str(output) == "-"  # the per-series table as CSV
        if to_stdout:
            output = None
        api.check_outputs(
            {"--output": output, "--forecasts": forecasts, "--plot": plot_file}, model, data
        )
        for flag, path in (("--output", output), ("--forecasts", forecasts)):
            if path is not None:  # an unknown type is refused before the backtest runs
                output_format(path, flag)
        for path in (output, forecasts, plot_file):
            if path is not None:
                check_writable(path)
        with FoldProgress(enabled=not (quiet or json_out)) as progress:
            spec = _spec(time_col, target, id_col, freq, None, date_format)
            result = api.evaluate(
                model, data, folds, horizon, step, season, refit, device, progress, spec=spec
            )
        run.series, run.output = result.summary["series"], output
        run.warn(_evaluate_warnings(result))
        if output is not None:
            write_table(result.per_series, output)
        if forecasts is not None:
            write_table(result.forecasts(), forecasts)
        if plot_file is not None:
            api.plot_backtest(result, plot_file)
        if to_stdout and not json_out:
            write_stream(result.per_series, sys.stdout, "csv")
        elif json_out:
            paths = {"model": str(model), "output": str(output) if output else None}
            paths["plot"] = str(plot_file) if plot_file else None
            paths["forecasts"] = str(forecasts) if forecasts else None
            body = {**result.summary, **paths, "warnings": run.warnings}
            print_json(document("evaluate", {**body, "per_series": records(result.per_series)}))
        elif not quiet:
            for table in evaluate_tables(result.summary, result.per_series, show):
                out.print(table)


def _evaluate_warnings(result) -> list[str]:
    warnings = list(result.panel.warnings)
    if result.summary["overlaps_training"]:
        warnings.append(
            "these windows lie inside the model's training data, so the LSTM's scores are optimistic; "
            "use --refit, or evaluate on data newer than the training file"
        )
    return warnings


@app.command(cls=_Command)
def plot(
    ctx: typer.Context,
    data: ModelDataArg = None,
    model: ModelPath = Path("model.lstmcast"),
    output: Annotated[
        Path, typer.Option("--output", "-o", help="PNG file to write.", rich_help_panel="Output")
    ] = Path("forecast.png"),
    series: Annotated[
        list[str] | None,
        typer.Option(
            "--series",
            "-s",
            help="Series id to draw; repeat for several (default: 6).",
            rich_help_panel="Output",
        ),
    ] = None,
    last: Annotated[
        int | None,
        typer.Option(
            help="History steps to show (default: 3 horizons or 2 seasons).",
            rich_help_panel="Output",
        ),
    ] = None,
    holdout: Annotated[
        int | None,
        typer.Option(
            help="Forecast from N steps before the end, draw those actuals.",
            rich_help_panel="Output",
        ),
    ] = None,
    horizon: Annotated[
        int | None,
        typer.Option(
            help="Steps to forecast (default: the trained horizon).", rich_help_panel="Model"
        ),
    ] = None,
    time_col: TimeCol = None,
    target: Target = None,
    id_col: IdCol = None,
    freq: Freq = None,
    date_format: DateFormat = None,
    device: ReadDevice = "cpu",
    json_out: Json = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Draw history, forecast and interval of some series to a PNG.

    Each panel is titled with its series and forecast origin; the y axis names the target.

    \b
    Example: lstmcast plot sample_data/stores.csv -m stores.lstmcast --holdout 24 -o stores.png
    """
    with errors_handled(json_out, debug, command="plot") as run:
        _check_options(ctx)
        from lstmcast import api
        from lstmcast.io import check_writable
        from lstmcast.report import document, err, print_json

        api.check_outputs({"--output": output}, model, data)
        check_writable(output)
        spec = _spec(time_col, target, id_col, freq, None, date_format)
        result = api.plot(model, output, data, series, last, holdout, horizon, device, spec)
        drawn = result.series
        run.warn(result.warnings)
        if json_out:
            body = {"data": str(data) if data else None, "model": str(model)}
            body.update(output=str(output), series=len(drawn), series_ids=drawn)
            print_json(document("plot", {**body, "warnings": result.warnings}))
        elif not quiet:
            err.print(
                f"wrote {output} ({len(drawn)} series: {', '.join(drawn[:6])}{' …' if len(drawn) > 6 else ''})",
                markup=False,
            )
