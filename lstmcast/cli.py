"""The `lstmcast` command: parse options, call one core function, render. No torch at import."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from lstmcast import __version__
from lstmcast.config import DataSpec
from lstmcast.errors import Interrupted, LstmcastError

app = typer.Typer(
    name="lstmcast",
    help="Forecast time series from the command line with one global LSTM.\n\n"
    "Train on a CSV or Parquet file, predict with intervals, and see how the model "
    "compares with naive baselines. Exit codes: 0 ok, 2 usage, 3 bad data, 4 bad model "
    "file, 5 training failed, 73 cannot write output, 75 busy, 130/143 interrupted.",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Options shared by several commands, defined once.
DataArg = Annotated[
    Path,
    typer.Argument(
        help="CSV or Parquet file: long (unique_id, ds, y), one series (ds, y) or wide.",
        show_default=False,
    ),
]
TimeCol = Annotated[
    str | None,
    typer.Option("--time-col", help="Time column (default: guessed: ds, date, timestamp, ...)."),
]
Target = Annotated[
    str | None,
    typer.Option("--target", help="Value column; several comma-separated for a wide file."),
]
IdCol = Annotated[
    str | None,
    typer.Option(
        "--id-col", help="Series id column of a long file (default: unique_id, id, series, ...)."
    ),
]
Freq = Annotated[
    str | None,
    typer.Option("--freq", help="Pandas frequency such as h, D, B, W-SUN, MS (default: inferred)."),
]
MaxGap = Annotated[
    int | None,
    typer.Option(
        "--max-gap",
        min=0,
        help="Longest run of missing steps to fill by interpolation (default: one season).",
    ),
]
Json = Annotated[
    bool, typer.Option("--json", help="Print one JSON document on stdout instead of tables.")
]
Quiet = Annotated[
    bool,
    typer.Option("--quiet", "-q", help="Print nothing on success (errors still go to stderr)."),
]
Debug = Annotated[bool, typer.Option("--debug", help="Show the full traceback on errors.")]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lstmcast {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Forecast time series from the command line with one global LSTM."""


@contextlib.contextmanager
def errors_handled(as_json: bool = False, debug: bool = False) -> Iterator[None]:
    """The one place where core errors become a message on stderr and an exit code."""
    from lstmcast.report import print_error

    previous = signal.getsignal(signal.SIGTERM)

    def on_term(signum, frame):
        raise Interrupted("terminated", signum=signum)

    signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    except KeyboardInterrupt:
        print_error("interrupted", 130, "interrupted", "nothing was written", as_json)
        raise typer.Exit(130) from None
    except LstmcastError as exc:
        if debug:
            import traceback

            traceback.print_exc()
        print_error(exc.kind, exc.exit_code, exc.message, exc.hint, as_json)
        raise typer.Exit(exc.exit_code) from None
    except typer.Exit:
        raise
    except Exception as exc:
        if debug:
            raise
        print_error(
            "internal",
            1,
            f"unexpected {type(exc).__name__}: {exc}",
            "re-run with --debug for the traceback and report it",
            as_json,
        )
        raise typer.Exit(1) from None
    finally:
        signal.signal(signal.SIGTERM, previous)


def _spec(time_col, target, id_col, freq, max_gap) -> DataSpec:
    return DataSpec(time_col=time_col, target=target, id_col=id_col, freq=freq, max_gap=max_gap)


@app.command()
def inspect(
    data: DataArg,
    time_col: TimeCol = None,
    target: Target = None,
    id_col: IdCol = None,
    freq: Freq = None,
    max_gap: MaxGap = None,
    json_out: Json = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Show what lstmcast detects in a data file: layout, columns, frequency, series, gaps.

    Example: lstmcast inspect sample_data/prices.csv
    """
    with errors_handled(json_out, debug):
        from lstmcast.io import read_table
        from lstmcast.report import inspect_table, out, print_json
        from lstmcast.schema import build_panel

        panel = build_panel(read_table(data), _spec(time_col, target, id_col, freq, max_gap))
        summary = panel.summary()
        if json_out:
            print_json({"file": str(data), **summary})
        elif not quiet:
            out.print(inspect_table(summary, str(data)))
