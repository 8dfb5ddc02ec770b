"""The `lstmcast` command: parse options, call one core function, render. No torch at import.

Each command builds the core's config objects from its options (lstmcast.cli.options), makes
one call into lstmcast.api, and hands the result to lstmcast.cli.render; lstmcast.cli.support
turns errors into a message and an exit code.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from lstmcast.cli import options as opt
from lstmcast.cli.support import (
    PlainCommand,
    PlainGroup,
    check_options,
    errors_handled,
    parse_age,
    parse_time,
)
from lstmcast.config import DataSpec, ModelConfig, TrainConfig
from lstmcast.errors import DataError, UsageError

__all__ = ["app"]

app = typer.Typer(
    cls=PlainGroup,
    rich_markup_mode=None,  # cli.support's plain help: Rich is imported only to print tables
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


@app.callback()
def main(
    version: opt.Version = False,
) -> None:
    """Forecast time series from the command line with one global LSTM."""


@app.command(cls=PlainCommand)
@opt.declared_options
def inspect(
    ctx: typer.Context,
    data: opt.DataArg,
    *,
    options: opt.Declared,
    json_out: opt.Json = False,
    quiet: opt.Quiet = False,
    debug: opt.Debug = False,
) -> None:
    """Show what lstmcast detects in a data file.

    Layout, columns, frequency, number and length of series, gaps filled (with their
    dates), warnings and notes; for a file it cannot load, what it found beside the problem.

    \b
    Example: lstmcast inspect sample_data/prices.csv
    """
    with errors_handled(json_out, debug, command="inspect"):
        check_options(ctx)
        from lstmcast.api import load
        from lstmcast.cli.documents import document, print_json
        from lstmcast.cli.render import inspect_problem, inspect_table, out

        try:
            panel = load(data, options.build(DataSpec))
        except DataError as exc:  # show the layout found beside the problem, then the error
            if getattr(exc, "found", None):
                exc.found = {"data": str(data), **exc.found}  # --json: in the error document
                if not (json_out or quiet):
                    out.print(inspect_problem(exc.found, str(data), exc.message))
            raise
        summary = panel.summary()
        if json_out:
            print_json(document("inspect", {"data": str(data), **summary}))
        elif not quiet:
            out.print(inspect_table(summary, str(data)))


@app.command(cls=PlainCommand)
@opt.declared_options
def train(
    ctx: typer.Context,
    data: opt.DataArg,
    model: opt.ModelPath = Path("model.lstmcast"),
    *,
    options: opt.Declared,  # the model's, the training's and the data's
    warm_start: opt.WarmStart = False,
    lock_timeout: opt.LockTimeout = 300.0,
    log_file: opt.LogFile = None,
    config: opt.Config = None,
    no_config: opt.NoConfig = False,
    json_out: opt.Json = False,
    quiet: opt.Quiet = False,
    debug: opt.Debug = False,
) -> None:
    """Train one global LSTM on every series in DATA.

    Saves it to --model and ends with its validation error beside every other method
    (naive, seasonal naive, drift, Theta, ETS) on the same held-out windows, the verdict
    against the best of them, and how many series each method will forecast. Data too
    short for the LSTM is forecast by the other methods.

    \b
    Example: lstmcast train sample_data/stores.csv --model stores.lstmcast
    """
    from lstmcast import distributed

    if not distributed.is_main():  # under torchrun rank 0 reports and logs; errors still show
        json_out, quiet, log_file = False, True, None
    with errors_handled(json_out, debug, log_file, "train") as run:
        check_options(ctx)
        from lstmcast import api
        from lstmcast.cli.documents import print_json, train_document, train_log_fields
        from lstmcast.cli.progress import TrainProgress
        from lstmcast.cli.render import out, train_tables
        from lstmcast.ops import DeferredSignals

        model_cfg, train_cfg = options.build(ModelConfig), options.build(TrainConfig)
        spec, given = options.build(DataSpec), options.given_to(ModelConfig)
        progress = TrainProgress(not (quiet or json_out), budget=train_cfg.time_budget)
        with DeferredSignals() as signals, progress:

            def callback(event: str, info: dict) -> None:
                signals.check()  # a signal is acted on here, never inside torch
                progress(event, info)

            summary = api.train(
                data, model, spec, model_cfg, train_cfg, callback, warm_start, lock_timeout, given
            )
        run.series, run.output = summary.series, model
        if distributed.is_main():  # every rank finds the same warnings
            run.warn(summary.warnings)
            if not quiet and not json_out:  # how the file was read: the guessed id, empty rows
                run.note(summary.notes)
        doc = train_document(summary.to_dict())
        run.fields = train_log_fields(doc)  # the verdict reaches the log under --quiet too
        if json_out:
            print_json(doc)
        elif not quiet:
            for table in train_tables(doc):
                out.print(table)


@app.command(cls=PlainCommand)
@opt.declared_options
def predict(
    ctx: typer.Context,
    data: opt.ModelDataArg = None,
    model: opt.ModelPath = Path("model.lstmcast"),
    horizon: opt.Horizon = None,
    output: opt.ForecastOutput = None,
    fmt: opt.Format = "table",
    *,
    options: opt.Declared,
    device: opt.ReadDevice = "cpu",
    max_age: opt.MaxAge = None,
    strict: opt.Strict = False,
    as_of: opt.AsOf = None,
    fallback: opt.Fallback = "auto",
    lock_timeout: opt.LockTimeout = 300.0,
    log_file: opt.LogFile = None,
    config: opt.Config = None,
    no_config: opt.NoConfig = False,
    json_out: opt.Json = False,
    quiet: opt.Quiet = False,
    debug: opt.Debug = False,
) -> None:
    """Forecast the next steps of every series, with intervals.

    Forecasts start one step after each series' last timestamp, so a nightly run on a
    grown file forecasts from the new rows without retraining.

    \b
    Example: lstmcast predict --model stores.lstmcast --horizon 24 -o forecast.csv
    """
    with errors_handled(json_out, debug, log_file, "predict") as run:
        check_options(ctx)
        from lstmcast import api
        from lstmcast.cli.documents import predict_document, predict_log_fields, print_json
        from lstmcast.cli.render import err, forecast_table, out
        from lstmcast.data.io import write_stream

        fmt = fmt.strip().lower()
        if fmt not in ("table", "csv", "tsv", "json"):
            raise UsageError(f"--format {fmt}: expected table, csv, tsv or json")
        if output is not None and str(output) == "-":  # standard output, csv unless told
            output, fmt = None, "csv" if fmt == "table" else fmt
        result = api.predict(
            model, data, horizon, device, None,
            max_age=parse_age(max_age) if max_age else None,
            as_of=parse_time(as_of) if as_of else None,
            strict=strict, lock_timeout=lock_timeout, output=output, fallback=fallback,
            spec=options.build(DataSpec),
        )  # fmt: skip
        run.series, run.output = result.series, output
        run.fields = predict_log_fields(result)
        run.warn(result.warnings)
        if json_out:
            print_json(predict_document(result, model, output))
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


@app.command(cls=PlainCommand)
def info(
    model: opt.ModelArg = Path("model.lstmcast"),
    json_out: opt.Json = False,
    quiet: opt.Quiet = False,
    debug: opt.Debug = False,
) -> None:
    """Show what a model file holds.

    Its settings, the data it expects and its validation errors at training time. With
    --quiet it prints nothing and its exit code says whether the file is readable (0) or
    not (4).

    \b
    Example: lstmcast info model.lstmcast
    """
    with errors_handled(json_out, debug, command="info"):
        from lstmcast import api
        from lstmcast.cli.documents import info_document, print_json
        from lstmcast.cli.render import info_tables, out

        header = api.model_info(model)
        if json_out:
            print_json(info_document(header))
        elif not quiet:
            for table in info_tables(header):
                out.print(table)


@app.command(cls=PlainCommand)
@opt.declared_options
def evaluate(
    ctx: typer.Context,
    data: opt.ModelDataArg = None,
    model: opt.ModelPath = Path("model.lstmcast"),
    folds: opt.Folds = 3,
    horizon: opt.FoldHorizon = None,
    step: opt.Step = None,
    season: opt.MaseSeason = None,
    refit: opt.Refit = False,
    show: opt.Show = 10,
    output: opt.TableOutput = None,
    forecasts: opt.Forecasts = None,
    plot_file: opt.PlotFile = None,
    *,
    options: opt.Declared,
    device: opt.ReadDevice = "cpu",
    log_file: opt.LogFile = None,
    config: opt.Config = None,
    no_config: opt.NoConfig = False,
    json_out: opt.Json = False,
    quiet: opt.Quiet = False,
    debug: opt.Debug = False,
) -> None:
    """Backtest the model against every other method.

    The LSTM, naive, seasonal naive, drift, Theta and ETS are scored on the same
    rolling-origin windows, and so is the forecast predict makes ("chosen per series":
    each series by its method, with its band). Skill is 1 - MASE(LSTM) / MASE(best other
    method); the LSTM beats it when the skill's 90 % interval lies above 0, loses when
    below, and ties otherwise.

    Series are ranked by skill against their own best method; --show N shows the N worst
    and best, in the tables and in --plot; --forecasts writes every window.

    \b
    Example: lstmcast evaluate sample_data/stores.csv -m stores.lstmcast --folds 3 --forecasts backtest.csv
    """
    with errors_handled(json_out, debug, log_file, "evaluate") as run:
        check_options(ctx)
        from lstmcast import api, metrics
        from lstmcast.cli.backtests import evaluate_tables, written_lines
        from lstmcast.cli.documents import evaluate_document, print_json
        from lstmcast.cli.progress import FoldProgress
        from lstmcast.cli.render import out
        from lstmcast.data.io import write_stream
        from lstmcast.ops import DeferredSignals

        to_stdout = output is not None and str(output) == "-"  # the per-series table as CSV
        if to_stdout:
            output = None

        with DeferredSignals() as signals, FoldProgress(not (quiet or json_out)) as progress:

            def on_fold(event: str, info: dict) -> None:
                signals.check()  # a signal is acted on here, never inside torch (--refit trains)
                progress(event, info)

            def scored(result) -> None:  # before any file is written, so a failed write logs them
                run.series, run.output = result.series, output
                run.warn(result.warnings)
                signals.check()

            result = api.evaluate(
                model, data, folds, horizon, step, season, refit, device, on_fold,
                lambda event, info: signals.check(),
                spec=options.build(DataSpec),
                output=output, forecasts=forecasts, plot=plot_file, scored=scored, show=show,
            )  # fmt: skip
        if to_stdout and not json_out:
            write_stream(metrics.as_written(result.per_series), sys.stdout, "csv")
        elif json_out:
            print_json(evaluate_document(result, model, output, plot_file, forecasts))
        elif not quiet:
            for table in evaluate_tables(result.summary, result.per_series, show):
                out.print(table)
        if not (quiet or json_out):
            written_lines(result, output, forecasts, plot_file)


@app.command(cls=PlainCommand)
@opt.declared_options
def plot(
    ctx: typer.Context,
    data: opt.ModelDataArg = None,
    model: opt.ModelPath = Path("model.lstmcast"),
    output: opt.PngOutput = Path("forecast.png"),
    series: opt.SeriesIds = None,
    last: opt.Last = None,
    holdout: opt.Holdout = None,
    horizon: opt.Horizon = None,
    *,
    options: opt.Declared,
    device: opt.ReadDevice = "cpu",
    json_out: opt.Json = False,
    quiet: opt.Quiet = False,
    debug: opt.Debug = False,
) -> None:
    """Draw history, forecast and interval of some series to a PNG.

    Each series is drawn as predict forecasts it (the LSTM, a per-series method, or a mix
    of the two, as chosen for it); each panel is titled with its series, that method and
    its forecast origin; the y axis names the target.

    \b
    Example: lstmcast plot sample_data/stores.csv -m stores.lstmcast --holdout 24 -o stores.png
    """
    with errors_handled(json_out, debug, command="plot") as run:
        check_options(ctx)
        from lstmcast import api
        from lstmcast.cli.documents import plot_document, print_json
        from lstmcast.cli.render import drawn_text, wrote

        spec = options.build(DataSpec)
        result = api.plot(model, output, data, series, last, holdout, horizon, device, spec)
        drawn = result.series
        run.warn(result.warnings)
        if json_out:
            print_json(plot_document(result, data, model, output))
        elif not quiet:
            hint = None if series else "--series picks others"  # unless the user picked them
            wrote(output, drawn_text(drawn, result.total, hint))
