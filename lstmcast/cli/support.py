"""The CLI's plumbing: plain --help, usage errors, the config file, and the one place where
errors become a message and an exit code. Like the rest of the CLI layer it imports Typer;
the core never does."""

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

import typer
import typer.core

from lstmcast import __version__
from lstmcast.config import CONFIG_NAME
from lstmcast.errors import Interrupted, LstmcastError, UsageError

__all__ = [
    "PlainCommand",
    "PlainGroup",
    "config_option",
    "check_options",
    "errors_handled",
    "Run",
    "show_version",
    "parse_age",
    "parse_time",
]

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


class PlainCommand(_PlainHelp, typer.core.TyperCommand):
    pass


class PlainGroup(_PlainHelp, typer.core.TyperGroup):
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
        if standalone_mode and code and _under_torchrun():
            # A failed rank leaves at once: its peers may have gone already, and gloo's
            # teardown against their closed sockets can abort the process (-6), hiding the
            # exit code that says what failed. Everything it wrote is flushed or closed.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        if standalone_mode:
            sys.exit(code)
        return code


def _under_torchrun() -> bool:
    from lstmcast.distributed import launched

    return launched()


# What the current run knows before its command body starts: its start time and, once the
# config file has been read, the --log-file it names (so an error found while parsing the
# other options is logged too).
_run: dict = {}


def _now():
    import datetime as dt

    return dt.datetime.now(dt.timezone.utc)


def _usage_error(exc, args: list[str]) -> int:
    from lstmcast.cli.render import print_error

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


def config_option(ctx: typer.Context, param: typer.CallbackParam, value):
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


def check_options(ctx: typer.Context) -> None:
    """Every numeric option (config.OPTION_RANGES), the column names, --freq and --quantiles,
    before any work starts (exit 2). Values from a config file pass through the same checks,
    and their message names the file."""
    from lstmcast.config import check_ranges, parse_quantiles
    from lstmcast.data.freq import check_freq

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


def show_version(value: bool) -> None:
    """-V, --version: print the version and stop, before any other option is read."""
    if value:
        typer.echo(f"lstmcast {__version__}")
        raise typer.Exit()


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
    from lstmcast.cli.render import print_error

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
        found = getattr(exc, "found", None) if command == "inspect" else None
        print_error(exc.kind, code, exc.message, exc.hint, as_json, command, found)
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
            fields.update(series=run.series, output=run.output, **run.fields, error=error)
            append_log(log_file, fields, started, run.warnings)


@dataclasses.dataclass
class Run:
    """What a command tells errors_handled for the log: counts, the file written, what the
    run found (the verdict, the data's timestamps), warnings."""

    series: int | None = None
    output: Path | None = None
    warnings: list[str] = dataclasses.field(default_factory=list)
    fields: dict = dataclasses.field(default_factory=dict)  # more of the log line: name -> value

    def warn(self, warnings: list[str]) -> None:
        """Print each warning on stderr — under --quiet too, so cron mails them — and keep it."""
        from lstmcast.cli.render import visible  # text from files never reaches the terminal raw

        for w in warnings:
            sys.stderr.write(f"warning: {visible(w)}\n")
        sys.stderr.flush()
        self.warnings.extend(warnings)

    def note(self, notes: list[str]) -> None:
        """Print each note (how the data was read; nothing to act on) on stderr."""
        from lstmcast.cli.render import visible

        for n in notes:
            sys.stderr.write(f"note: {visible(n)}\n")


AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
MAX_AGE_DAYS = 36_500  # a hundred years: beyond any model's life, well inside timedelta


def parse_age(text: str) -> dt.timedelta:
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


def parse_time(text: str) -> dt.datetime:
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
