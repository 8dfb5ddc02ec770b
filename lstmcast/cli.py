"""The `lstmcast` command: parse options, call one core function, render. No torch at import."""

from __future__ import annotations

import contextlib
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from lstmcast import __version__
from lstmcast.config import DataSpec
from lstmcast.errors import Interrupted, LstmcastError


class _App(typer.Typer):
    """With --json anywhere on the line, usage errors too come out as one JSON document."""

    def __call__(self, *args, **kwargs):
        if "--json" not in sys.argv[1:] or "standalone_mode" in kwargs:
            return super().__call__(*args, **kwargs)
        try:
            code = super().__call__(*args, standalone_mode=False, **kwargs)
        except Exception as exc:  # Click's UsageError family, vendored by Typer
            if not (hasattr(exc, "format_message") and hasattr(exc, "exit_code")):
                raise
            from lstmcast.report import print_error

            print_error("usage", exc.exit_code, exc.format_message(), "see --help", True)
            sys.exit(exc.exit_code)
        sys.exit(code if isinstance(code, int) else 0)


app = _App(
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
    from lstmcast.config import CONFIG_NAME, read_config
    from lstmcast.errors import LstmcastError

    if no_config:
        return
    if path is None:
        path = Path(CONFIG_NAME)
        if not path.is_file():
            return
    try:
        table = read_config(path).get(ctx.command.name, {})
    except LstmcastError as exc:
        raise typer.BadParameter(exc.message, param_hint="--config") from None
    # A key may be the option's name (format, hidden-size) or its parameter's (hidden_size).
    names = {}
    for p in ctx.command.params:
        if p.name in ("config", "no_config", "help"):
            continue
        names[p.name] = p.name
        for opt in p.opts:
            names[opt.lstrip("-").replace("-", "_")] = p.name
    defaults = {}
    for key, value in table.items():
        name = names.get(key.replace("-", "_"))
        if name is None:
            raise typer.BadParameter(
                f"{path}: unknown key '{key}' in [{ctx.command.name}]", param_hint="--config"
            )
        # TOML writes several values as an array; the options take them comma-separated.
        defaults[name] = ",".join(map(str, value)) if isinstance(value, list) else value
    ctx.default_map = {**(ctx.default_map or {}), **defaults}


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
Covariates = Annotated[
    str | None,
    typer.Option(
        "--covariates",
        help="Columns known ahead, comma-separated (price,promo); predict needs their values "
        "for the horizon in rows after the last target, with the target empty.",
    ),
]
PastCovariates = Annotated[
    str | None,
    typer.Option(
        "--past-covariates",
        help="Columns known only up to now, comma-separated; read in the lookback only.",
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
Config = Annotated[
    Path | None,
    typer.Option(
        "--config",
        is_eager=True,
        callback=_config_option,
        help="TOML file with defaults per command (default: ./lstmcast.toml if present).",
    ),
]
NoConfig = Annotated[
    bool,
    typer.Option(
        "--no-config", is_eager=True, callback=_config_option, help="Ignore ./lstmcast.toml."
    ),
]
LogFile = Annotated[
    Path | None,
    typer.Option(
        "--log-file",
        help="Append one line per run: time, command, exit code, duration, series, output.",
    ),
]
LockTimeout = Annotated[
    float,
    typer.Option(
        "--lock-timeout",
        min=0.0,
        help="Seconds to wait for another run on the same model, then exit 75.",
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
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
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
) -> Iterator[dict]:
    """The one place where core errors become a message on stderr and an exit code.

    Yields a dict the command may fill (series, output); with `log_file`, one line with the
    command, exit code, duration and those fields is appended whatever the outcome.
    """
    from lstmcast.report import print_error

    previous = signal.getsignal(signal.SIGTERM)

    def on_term(signum, frame):
        raise Interrupted("terminated", "nothing was written", signum=signum)

    signal.signal(signal.SIGTERM, on_term)
    started, code, info = time.monotonic(), 0, {}
    try:
        yield info
    except KeyboardInterrupt:
        code = 130
        print_error("interrupted", code, "interrupted", "nothing was written", as_json)
        raise typer.Exit(code) from None
    except LstmcastError as exc:
        code = exc.exit_code
        if debug:
            import traceback

            traceback.print_exc()
        print_error(exc.kind, code, exc.message, exc.hint, as_json)
        raise typer.Exit(code) from None
    except typer.Exit as exc:
        code = exc.exit_code
        raise
    except Exception as exc:
        code = 1
        if debug:
            raise
        print_error(
            "internal",
            code,
            f"unexpected {type(exc).__name__}: {exc}",
            "re-run with --debug for the traceback and report it",
            as_json,
        )
        raise typer.Exit(code) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
        if log_file is not None:
            from lstmcast.ops import append_log

            append_log(
                log_file,
                {
                    "command": command,
                    "exit": code,
                    "duration": f"{time.monotonic() - started:.1f}s",
                    **info,
                },
            )


def _spec(time_col, target, id_col, freq, max_gap, covariates=None, past=None) -> DataSpec:
    return DataSpec(
        time_col=time_col, target=target, id_col=id_col, freq=freq, max_gap=max_gap,
        covariates=_names(covariates), past_covariates=_names(past),
    )  # fmt: skip


def _names(text: str | None) -> tuple[str, ...]:
    return tuple(n.strip() for n in (text or "").split(",") if n.strip())


@app.command()
def inspect(
    data: DataArg,
    time_col: TimeCol = None,
    target: Target = None,
    id_col: IdCol = None,
    freq: Freq = None,
    max_gap: MaxGap = None,
    covariates: Covariates = None,
    past_covariates: PastCovariates = None,
    json_out: Json = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Show what lstmcast detects in a data file: layout, columns, frequency, series, gaps.

    Example: lstmcast inspect sample_data/prices.csv
    """
    with errors_handled(json_out, debug):
        from lstmcast.api import load_panel
        from lstmcast.report import inspect_table, out, print_json

        spec = _spec(time_col, target, id_col, freq, max_gap, covariates, past_covariates)
        panel = load_panel(data, spec)
        summary = panel.summary()
        if json_out:
            print_json({"file": str(data), **summary})
        elif not quiet:
            out.print(inspect_table(summary, str(data)))


ModelPath = Annotated[Path, typer.Option("--model", "-m", help="Model file to write or read.")]
Device = Annotated[
    str, typer.Option("--device", help="auto (CUDA when present), cpu, cuda or mps.")
]
Threads = Annotated[
    int | None,
    typer.Option(
        "--threads",
        min=1,
        help="CPU threads for training (default: 1 for small models, else all cores).",
    ),
]


def _parse_quantiles(text: str) -> tuple[float, ...]:
    from lstmcast.errors import UsageError

    try:
        return tuple(float(q) for q in text.split(",") if q.strip())
    except ValueError:
        raise UsageError(f"--quantiles {text}: expected numbers such as 0.1,0.5,0.9") from None


@app.command()
def train(
    data: DataArg,
    model: ModelPath = Path("model.lstmcast"),
    horizon: Annotated[
        int | None,
        typer.Option(
            min=1, help="Steps to forecast (default: one season: 24 hourly, 7 daily, 12 monthly)."
        ),
    ] = None,
    lookback: Annotated[
        int | None,
        typer.Option(min=1, help="Past steps the model reads (default: 7 seasons or 3 horizons)."),
    ] = None,
    season: Annotated[
        int | None,
        typer.Option(min=1, help="Seasonal period in steps (default: from the frequency)."),
    ] = None,
    hidden_size: Annotated[int, typer.Option(min=1, help="LSTM hidden units.")] = 128,
    layers: Annotated[int, typer.Option(min=1, help="Stacked LSTM layers.")] = 2,
    dropout: Annotated[
        float, typer.Option(min=0.0, max=0.9, help="Dropout between layers and in the head.")
    ] = 0.1,
    quantiles: Annotated[
        str, typer.Option(help="Quantiles to forecast; lowest and highest bound the interval.")
    ] = "0.1,0.5,0.9",
    scaling: Annotated[
        str,
        typer.Option(
            help="Per-window normalisation: auto (log when every value is > 0, else std), std (z-score), meanabs (divide by mean |y|), log."
        ),
    ] = "auto",
    calendar: Annotated[
        bool,
        typer.Option(
            help="Feed calendar cycles of the frequency (hour of day, day of week, month, ...)."
        ),
    ] = True,
    ensemble: Annotated[
        int,
        typer.Option(
            min=1, help="Train N models with seeds seed..seed+N-1 and forecast their median."
        ),
    ] = 1,
    epochs: Annotated[
        int,
        typer.Option(
            min=1, help="Maximum epochs (an epoch is up to --windows-per-epoch sampled windows)."
        ),
    ] = 30,
    max_steps: Annotated[
        int | None, typer.Option(min=1, help="Stop after this many optimiser steps.")
    ] = None,
    time_budget: Annotated[
        float | None,
        typer.Option(min=0.0, help="Stop after this many seconds, keeping the best weights."),
    ] = None,
    windows_per_epoch: Annotated[
        int, typer.Option(min=1, help="Windows sampled per epoch.")
    ] = 25_600,
    batch_size: Annotated[
        int, typer.Option(min=1, help="Windows per optimiser step (per process under torchrun).")
    ] = 256,
    lr: Annotated[
        float, typer.Option(min=0.0, help="Peak learning rate (AdamW, warm-up then cosine decay).")
    ] = 2e-3,
    loss: Annotated[
        str, typer.Option(help="Training loss: pinball, or huber (pinball smoothed near zero).")
    ] = "pinball",
    calibrate: Annotated[
        bool,
        typer.Option(
            help="Widen or narrow the intervals so they cover as stated on the validation windows."
        ),
    ] = True,
    patience: Annotated[
        int, typer.Option(min=1, help="Epochs without validation improvement before stopping.")
    ] = 6,
    val_size: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Steps held out at the end of each series (default: 1-4 horizons, about 64 windows in all).",
        ),
    ] = None,
    seed: Annotated[
        int,
        typer.Option(help="Random seed: same seed and data give the same model on one machine."),
    ] = 0,
    device: Device = "auto",
    threads: Threads = None,
    time_col: TimeCol = None,
    target: Target = None,
    id_col: IdCol = None,
    freq: Freq = None,
    max_gap: MaxGap = None,
    covariates: Covariates = None,
    past_covariates: PastCovariates = None,
    warm_start: Annotated[
        bool,
        typer.Option(
            "--warm-start",
            help="Continue from the existing --model file's weights and settings (same data schema).",
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
    """Train one global LSTM on every series in DATA and save it to --model.

    Ends with the validation error of the model beside naive, seasonal naive and drift on
    the same held-out windows, the verdict against the best of them, and how many series
    each method will forecast (the one that won on each series). Data too short for the
    LSTM is forecast by the baselines.

    Example: lstmcast train sample_data/stores.csv --model stores.lstmcast
    """
    from lstmcast import distributed

    if not distributed.is_main():  # under torchrun rank 0 reports and logs; errors still show
        json_out, quiet, log_file = False, True, None
    with errors_handled(json_out, debug, log_file, "train") as run:
        from lstmcast import api
        from lstmcast.config import ModelConfig, TrainConfig
        from lstmcast.report import TrainProgress, out, print_json, train_tables

        model_cfg = ModelConfig(
            lookback=lookback, horizon=horizon, season=season, hidden_size=hidden_size, layers=layers,
            dropout=dropout, quantiles=_parse_quantiles(quantiles), scaling=scaling, calendar=calendar,
            ensemble=ensemble,
        )  # fmt: skip
        train_cfg = TrainConfig(
            epochs=epochs, max_steps=max_steps, time_budget=time_budget, windows_per_epoch=windows_per_epoch,
            batch_size=batch_size, lr=lr, patience=patience, val_size=val_size, seed=seed, device=device,
            loss=loss, calibrate=calibrate,
            threads=threads,
        )  # fmt: skip
        spec = _spec(time_col, target, id_col, freq, max_gap, covariates, past_covariates)
        with TrainProgress(enabled=not (quiet or json_out)) as progress:
            summary = api.train(
                data, model, spec, model_cfg, train_cfg, progress, warm_start, lock_timeout
            )
        run.update(series=summary.series, output=model)
        if json_out:
            print_json(summary.to_dict())
        elif not quiet:
            for table in train_tables(summary.to_dict()):
                out.print(table)


@app.command()
def predict(
    data: Annotated[
        Path | None,
        typer.Argument(
            help="Data file (default: the file the model was trained on).", show_default=False
        ),
    ] = None,
    model: ModelPath = Path("model.lstmcast"),
    horizon: Annotated[
        int | None,
        typer.Option(
            min=1, help="Steps to forecast (default: the trained horizon; longer is recursive)."
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write forecasts to a .csv, .parquet or .json file (atomically)."
        ),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="Without --output: table, csv or json on stdout.")
    ] = "table",
    max_gap: MaxGap = None,
    device: Annotated[str, typer.Option("--device", help="cpu, auto, cuda or mps.")] = "cpu",
    max_age: Annotated[
        str | None,
        typer.Option(
            "--max-age", help="Refuse (exit 4) a model older than this: 90s, 30m, 12h, 7d, 2w."
        ),
    ] = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Exit 3 instead of warning when the data is stale, its columns changed, or a level shifted.",
        ),
    ] = False,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Take this time (ISO 8601, UTC if no zone) as 'now' for --max-age and staleness.",
        ),
    ] = None,
    fallback: Annotated[
        str,
        typer.Option(
            "--fallback",
            help="auto: each series by the method that won on it at validation (LSTM, naive, seasonal naive or drift; column model); none: the LSTM everywhere.",
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

    Forecasts start one step after each series' last timestamp, so a nightly run on a grown
    file forecasts from the new rows without retraining.

    Example: lstmcast predict --model stores.lstmcast --horizon 24 --output forecast.csv
    """
    with errors_handled(json_out, debug, log_file, "predict") as run:
        from lstmcast import api
        from lstmcast.errors import UsageError
        from lstmcast.ops import parse_age, parse_time
        from lstmcast.report import err, forecast_table, out, print_json

        if fmt not in ("table", "csv", "json"):
            raise UsageError(f"--format {fmt}: expected table, csv or json")
        result = api.predict(
            model, data, horizon, device, max_gap,
            max_age=parse_age(max_age) if max_age else None,
            as_of=parse_time(as_of) if as_of else None,
            strict=strict, lock_timeout=lock_timeout, output=output, fallback=fallback,
        )  # fmt: skip
        run.update(series=result.series, output=output)
        if not quiet:
            for w in result.warnings:
                err.print(f"warning: {w}", markup=False)
        if json_out:
            print_json(
                {"data": result.data_path, "horizon": result.horizon, "series": result.series, "output": str(output) if output else None,
                 "warnings": result.warnings, "forecast": None if output else _records(result.forecast)}
            )  # fmt: skip
        elif output is not None:
            if not quiet:
                err.print(
                    f"wrote {len(result.forecast):,} rows ({result.series:,} series × {result.horizon} steps) to {output}",
                    markup=False,
                )
        elif fmt == "csv":
            sys.stdout.write(result.forecast.to_csv(index=False, lineterminator="\n"))
        elif fmt == "json":
            print_json(_records(result.forecast))
        elif not quiet:
            out.print(forecast_table(result.forecast))


def _records(frame) -> list[dict]:
    import json

    return json.loads(frame.to_json(orient="records", date_format="iso"))


@app.command()
def info(
    model: Annotated[Path, typer.Argument(help="Model file.", show_default=False)] = Path(
        "model.lstmcast"
    ),
    json_out: Json = False,
    debug: Debug = False,
) -> None:
    """Show what a model file holds: configuration, data schema, training metrics.

    Example: lstmcast info model.lstmcast
    """
    with errors_handled(json_out, debug):
        from lstmcast import api
        from lstmcast.report import info_tables, out, print_json

        header = api.model_info(model)
        if json_out:
            print_json(header)
        else:
            for table in info_tables(header):
                out.print(table)


@app.command()
def evaluate(
    data: Annotated[
        Path | None,
        typer.Argument(
            help="Data file (default: the file the model was trained on).", show_default=False
        ),
    ] = None,
    model: ModelPath = Path("model.lstmcast"),
    folds: Annotated[
        int,
        typer.Option(
            min=1, help="Rolling origins per series; the last ends at the last observation."
        ),
    ] = 3,
    horizon: Annotated[
        int | None, typer.Option(min=1, help="Steps per fold (default: the trained horizon).")
    ] = None,
    step: Annotated[
        int | None, typer.Option(min=1, help="Steps between origins (default: the horizon).")
    ] = None,
    season: Annotated[
        int | None,
        typer.Option(
            min=1, help="Seasonal period for MASE and seasonal naive (default: the model's)."
        ),
    ] = None,
    refit: Annotated[
        bool,
        typer.Option(
            "--refit",
            help="Retrain the model on each fold's past (slow, but never sees the future).",
        ),
    ] = False,
    show: Annotated[
        int, typer.Option(min=0, help="Show the N series with the worst model MASE.")
    ] = 10,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write the per-series table to .csv, .parquet or .json."
        ),
    ] = None,
    plot_file: Annotated[
        Path | None,
        typer.Option("--plot", help="Draw the worst and best series of the backtest to this PNG."),
    ] = None,
    device: Annotated[str, typer.Option("--device", help="cpu, auto, cuda or mps.")] = "cpu",
    log_file: LogFile = None,
    config: Config = None,
    no_config: NoConfig = False,
    json_out: Json = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Backtest the model on rolling origins against naive, seasonal naive and drift.

    Every method is scored on exactly the same windows, and so is the forecast predict makes
    by default (each series by the method chosen for it at training: "chosen per series").
    Skill is 1 - MASE(LSTM) / MASE(seasonal naive): above 0 the model beats seasonal naive.

    Example: lstmcast evaluate sample_data/stores.csv --model stores.lstmcast --folds 3
    """
    with errors_handled(json_out, debug, log_file, "evaluate") as run:
        from lstmcast import api
        from lstmcast.io import check_writable, write_table
        from lstmcast.report import FoldProgress, err, evaluate_tables, out, print_json

        for path in (output, plot_file):
            if path is not None:
                check_writable(path)
        with FoldProgress(enabled=not (quiet or json_out)) as progress:
            result = api.evaluate(
                model, data, folds, horizon, step, season, refit, device, callback=progress
            )
        run.update(series=result.summary["series"], output=output)
        if output is not None:
            write_table(result.per_series, output)
        if plot_file is not None:
            api.plot_backtest(result, plot_file)
        if json_out:
            print_json({**result.summary, "per_series": _records(result.per_series)})
        elif not quiet:
            for table in evaluate_tables(result.summary, result.per_series, show):
                out.print(table)
            if result.summary["overlaps_training"]:
                err.print("note: these windows lie inside the model's training data, so the LSTM's scores are optimistic; "
                          "use --refit, or evaluate on data newer than the training file", markup=False)  # fmt: skip


@app.command()
def plot(
    data: Annotated[
        Path | None,
        typer.Argument(
            help="Data file (default: the file the model was trained on).", show_default=False
        ),
    ] = None,
    model: ModelPath = Path("model.lstmcast"),
    output: Annotated[Path, typer.Option("--output", "-o", help="PNG file to write.")] = Path(
        "forecast.png"
    ),
    series: Annotated[
        list[str] | None,
        typer.Option(
            "--series", "-s", help="Series id to draw; repeat for several (default: the first 6)."
        ),
    ] = None,
    last: Annotated[
        int | None, typer.Option(min=1, help="History steps to show (default: 5 horizons).")
    ] = None,
    holdout: Annotated[
        int | None,
        typer.Option(min=1, help="Forecast from N steps before the end and draw those actuals."),
    ] = None,
    horizon: Annotated[
        int | None, typer.Option(min=1, help="Steps to forecast (default: the trained horizon).")
    ] = None,
    device: Annotated[str, typer.Option("--device", help="cpu, auto, cuda or mps.")] = "cpu",
    json_out: Json = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Draw history, forecast and interval band of some series to a PNG.

    Example: lstmcast plot sample_data/stores.csv --model stores.lstmcast --holdout 24 -o stores.png
    """
    with errors_handled(json_out, debug):
        from lstmcast import api
        from lstmcast.io import check_writable
        from lstmcast.report import err, print_json

        check_writable(output)
        drawn = api.plot(model, output, data, series, last, holdout, horizon, device)
        if json_out:
            print_json({"output": str(output), "series": drawn})
        elif not quiet:
            err.print(
                f"wrote {output} ({len(drawn)} series: {', '.join(drawn[:6])}{' …' if len(drawn) > 6 else ''})",
                markup=False,
            )
