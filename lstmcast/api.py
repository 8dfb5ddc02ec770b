"""The library behind each command: everything the CLI does is callable from Python here."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lstmcast import methods, metrics
from lstmcast.config import (
    DataSpec,
    ModelConfig,
    TrainConfig,
    check_warm_covariates,
    warm_config,
)
from lstmcast.data.io import output_format, write_table
from lstmcast.data.load import ModelSchema, load
from lstmcast.data.panel import Panel
from lstmcast.errors import DataError, UsageError
from lstmcast.evaluate import BacktestResult
from lstmcast.files import check_paths, check_writable
from lstmcast.modelfile.container import check_model_path, check_model_target
from lstmcast.modelfile.header import check_offsets_room
from lstmcast.modelfile.store import (
    check_evaluate_outputs,
    check_outputs,
    check_sections,
    load_model,
    model_info,
    recorded_path,
    save_model,
    spec_from_header,
)
from lstmcast.text import plural

__all__ = [
    "load",
    "train",
    "predict",
    "evaluate",
    "plot",
    "load_model",
    "model_info",
    "TrainSummary",
    "PredictResult",
    "EvaluateResult",
    "PlotResult",
]


@dataclass
class TrainSummary:
    model_path: str
    data_path: str
    series: int
    rows: int
    epochs: int
    steps: int
    seconds: float
    device: str
    stop_reason: str
    best_val_loss: float | None  # None when no LSTM was trained
    parameters: int
    model: dict
    validation: dict  # method -> metrics on the same held-out windows
    warnings: list[str]
    lstm_trained: bool = True  # False: too little data, every series is forecast by a baseline
    forecast_by: dict = dataclasses.field(default_factory=dict)  # method -> number of series
    notes: list[str] = dataclasses.field(default_factory=list)  # how the data was read

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def train(
    data: str | os.PathLike,
    model_path: str | os.PathLike,
    spec: DataSpec = DataSpec(),
    model_cfg: ModelConfig = ModelConfig(),
    train_cfg: TrainConfig = TrainConfig(),
    callback=None,
    warm_start: bool = False,
    lock_timeout: float = 300.0,
    given: Collection[str] = (),
) -> TrainSummary:
    """Train on `data` and write the model file atomically; the old file survives any failure.

    Holds the model's lock for the whole run. With `warm_start`, training continues from the
    weights and settings of the existing model file, which must have the same data schema;
    a field of `model_cfg` named in `given` (the options the user gave) must agree with them.
    Under torchrun every process trains its share (lstmcast.distributed); rank 0 alone holds
    the lock and writes the model file.
    """
    from lstmcast import distributed
    from lstmcast.ops import model_lock

    check_paths({"--model": model_path}, {"DATA": data})  # before the lock: nothing changes
    check_model_target(model_path)
    if warm_start:
        check_model_path(model_path)  # a FIFO or folder is refused before the lock is taken

    def locked():
        check_writable(model_path)  # fail now, not after minutes of training
        return model_lock(model_path, "train", lock_timeout)

    with distributed.session(train_cfg.device, lock_timeout), distributed.main_only(locked):
        return _train_locked(
            data, model_path, spec, model_cfg, train_cfg, callback, warm_start, given
        )


def _train_locked(
    data, model_path, spec, model_cfg, train_cfg, callback, warm_start, given
) -> TrainSummary:
    import time

    from lstmcast import distributed
    from lstmcast.train import resolve_model_config

    started = time.perf_counter()
    init_state = None
    if warm_start:
        spec, model_cfg, init_state = _warm_start(model_path, spec, model_cfg, given)
        panel = load(data, ModelSchema(spec))
    else:
        panel = load(data, spec)
    cfg = resolve_model_config(model_cfg, panel, train_cfg.val_size)
    check_offsets_room(cfg.horizon, len(cfg.quantiles))  # else no command reads the file
    warnings = list(panel.warnings)
    result, evidence = _fit_or_explain(
        panel, cfg, model_cfg, train_cfg, callback, init_state, warnings
    )
    verdict = _validate(result, evidence, panel, cfg, warnings)
    seconds = result.seconds if result else time.perf_counter() - started
    summary = _summary(data, model_path, panel, cfg, result, verdict.doc, warnings, seconds)
    if callback is not None:  # the last point where a caller may stop the run unharmed
        callback("save", {"path": str(model_path)})
    if distributed.is_main():  # every rank holds the same weights; one writes them
        model = result.model if result else None
        save_model(model_path, model, panel, cfg, train_cfg, summary, spec, verdict)
    return summary


def _warm_start(model_path, asked: DataSpec, model_cfg: ModelConfig, given: Collection[str]):
    """The data schema, settings and weights (None without an LSTM) training continues from."""
    old, header = load_model(model_path)
    spec = spec_from_header(
        check_sections(header, model_path),
        DataSpec(max_gap=asked.max_gap, date_format=asked.date_format),
        model_path,
    )
    check_warm_covariates(asked, spec)
    model_cfg = warm_config(old.cfg, model_cfg, given)
    init_state = old.state_dict() if header.get("lstm_trained", True) else None
    return spec, model_cfg, init_state


def _fit_or_explain(panel, cfg, model_cfg, train_cfg, callback, init_state, warnings: list):
    """Train the LSTM while the per-series methods are forecast on the validation windows:
    (TrainResult, verdict.Evidence), or (None, None) with a warning saying why the data is
    too short for an LSTM."""
    from lstmcast.train import too_little_data
    from lstmcast.verdict import train_beside_evidence

    reason = too_little_data(panel, cfg, train_cfg, model_cfg.lookback is not None)
    if reason:
        warnings.append(reason)
        return None, None
    result, evidence = train_beside_evidence(
        panel, cfg, train_cfg, callback, init_state, model_cfg.lookback is not None
    )
    short = result.index.too_short()
    if len(short):
        warnings.append(
            f"{len(short)} series too short for a training window (e.g. '{panel.ids[short[0]]}')"
        )
    return result, evidence


def _validate(result, evidence, panel: Panel, cfg: ModelConfig, warnings: list):
    """The LSTM (if any) and the baselines scored on the same held-out windows: the verdict
    that chooses each series' method, with the LSTM's interval calibration."""
    from lstmcast.verdict import band_evidence_warning, validate_methods, verdict_evidence_warning

    model, series, origin = None, np.empty(0, np.int64), np.empty(0, np.int64)
    if result is not None:
        model, (series, origin) = result.model, evidence.lstm_windows()
    h, q, m = cfg.horizon, cfg.quantiles, cfg.season
    verdict = validate_methods(model, panel, h, q, m, series, origin, evidence)
    if result is not None and result.calibration is not None:
        verdict.doc["calibration"] = result.calibration
    if verdict.doc["series_without_windows"]:
        warnings.append(
            f"{verdict.doc['series_without_windows']} series too short to validate any method "
            f"(the shortest has {plural(int(panel.lengths.min()), 'point')}, horizon {cfg.horizon}): "
            f"forecast by {methods.label(verdict.doc['default_method'])}, untested"
        )
    warnings.extend(
        w for w in (verdict_evidence_warning(verdict.doc), band_evidence_warning(verdict.doc)) if w
    )
    return verdict


def _summary(data, model_path, panel, cfg, result, validation, warnings, seconds) -> TrainSummary:
    """What `train` reports, and the model file records as its metrics."""
    return TrainSummary(
        model_path=str(model_path),
        data_path=recorded_path(data),
        series=panel.n_series,
        rows=int(panel.lengths.sum()),
        epochs=result.epochs if result else 0,
        steps=result.steps if result else 0,
        seconds=round(seconds, 3),
        device=result.device if result else "none",
        stop_reason=result.stop_reason if result else "too_little_data",
        best_val_loss=result.best_val_loss if result else None,
        parameters=sum(p.numel() for p in result.model.parameters()) if result else 0,
        model=dataclasses.asdict(cfg),
        validation=validation,
        warnings=warnings,
        lstm_trained=result is not None,
        forecast_by={m: n for m, n in validation["chosen"].items() if n},
        notes=list(panel.notes),
    )


def _model_and_data(
    model_path, data, device: str, given: DataSpec = DataSpec(), command: str = "predict"
):
    """Load a model and the panel it should read: DATA, or the file it was trained on.

    `given` holds the data options of the command line: they name the file's columns where
    they differ from the model's (see modelfile.store.spec_from_header).
    """
    model, header = load_model(model_path, device)
    recorded = Path(check_sections(header, model_path)["data"]["path"])
    if data is None and str(recorded) == "-":
        raise DataError(
            "the model was trained on standard input, so there is no data file to default to",
            hint=f"pass the data: lstmcast {command} DATA (or - to read standard input)",
        )
    data = Path(data) if data is not None else recorded
    if data == recorded and not data.exists():
        raise DataError(
            f"{data}: the training data file recorded in the model no longer exists",
            hint=f"pass the data file: lstmcast {command} DATA",
        )
    spec, meta = spec_from_header(header, given, model_path), header["data"]
    names = (meta["time_col"], tuple(meta["targets"]), meta.get("id_col"))
    return model, header, load(data, ModelSchema(spec, given, *names)), data


@dataclass
class PredictResult:
    forecast: pd.DataFrame
    horizon: int
    trained_horizon: int
    series: int
    data_path: str
    warnings: list[str]
    last_timestamp: pd.Timestamp | None = None  # the newest timestamp of the data
    lagging: list[str] = dataclasses.field(default_factory=list)  # fell behind: most first
    new: list[str] = dataclasses.field(default_factory=list)  # series absent from training


def predict(
    model_path: str | os.PathLike,
    data: str | os.PathLike | None = None,
    horizon: int | None = None,
    device: str = "cpu",
    max_gap: int | None = None,
    max_age: dt.timedelta | None = None,
    as_of: dt.datetime | None = None,
    strict: bool = False,
    lock_timeout: float = 300.0,
    output: str | os.PathLike | None = None,
    fallback: str = "auto",
    spec: DataSpec = DataSpec(),
) -> PredictResult:
    """Forecast every series of `data` (default: the file the model was trained on).

    With `fallback="auto"` (the default; "naive" is the same) each series is forecast by
    the method that won on it at validation, the LSTM or a baseline (naive, seasonal naive,
    drift, with intervals from the baseline's own validation errors); with "none" by the
    LSTM everywhere. The `model` column names the method of each row.

    Refuses a model older than `max_age` (ModelFileError). Warns when the data is stale
    relative to `as_of` (default: now, UTC), its columns differ from training, or a series'
    level left its training range; with `strict` those warnings are a DataError instead.
    With `output`, the forecast is written there atomically while the model's lock is held.
    `spec` holds data options naming the file's columns where they differ from the model's.
    """
    from lstmcast.ops import model_lock

    if output is not None:  # the data or the model as --output: say so before anything else
        check_outputs({"--output": output}, model_path, data)
        output_format(output)
    check_model_path(model_path)  # a FIFO or folder is refused before the lock is taken
    if output is not None:
        check_writable(output)
    with model_lock(model_path, "predict", lock_timeout):
        if max_gap is not None:
            spec = dataclasses.replace(spec, max_gap=max_gap)
        result = _predict_locked(
            model_path, data, horizon, device, spec, max_age, as_of, strict, fallback
        )
        if output is not None:
            write_table(result.forecast, output)
    return result


def _predict_locked(
    model_path, data, horizon, device, spec, max_age, as_of, strict, fallback=None
) -> PredictResult:
    from lstmcast import ops
    from lstmcast.choice import new_series
    from lstmcast.forecast import check_horizon, forecast_by_choice, forecast_frame

    as_of = as_of or dt.datetime.now(dt.timezone.utc)
    model, header, panel, data = _model_and_data(model_path, data, device, spec)
    ops.check_age(header, model_path, max_age, as_of)
    cfg = model.cfg
    horizon = horizon or cfg.horizon
    check_horizon(panel, horizon, len(cfg.quantiles))
    lags = ops.lagging_series(panel, ops.trained_ends(header))
    guards = ops.drift_warnings(header, panel, as_of, lags)
    if strict and guards:
        more = f" (+{len(guards) - 1} more)" if len(guards) > 1 else ""
        raise DataError(
            f"refusing to forecast (--strict): {guards[0]}{more}",
            hint="check the data, or retrain the model",
        )
    warnings = list(panel.warnings) + guards
    preds, methods = forecast_by_choice(
        model, header, panel, horizon, fallback or "auto", model_path, warnings
    )
    new = new_series(header, panel)
    untested = ((header.get("metrics") or {}).get("validation") or {}).get("untested") or []
    warnings += ops.unvalidated_warnings(panel, methods, new, untested, cfg.lookback)
    # Not a warning: the choice is the normal course, named in the model column per row.
    frame = forecast_frame(panel, preds, cfg.quantiles)
    frame["model"] = np.repeat(methods, horizon)
    return PredictResult(
        frame, horizon, cfg.horizon, panel.n_series, str(data), warnings,
        pd.Timestamp(panel.last.max()), [lag.id for lag in lags],
        [str(i) for i in panel.ids[new]],
    )  # fmt: skip


@dataclass
class EvaluateResult:
    per_series: pd.DataFrame  # one row per series: each method's mean metrics and skill
    summary: dict  # aggregate table, skill, settings: the body of `evaluate --json`
    backtest: BacktestResult  # every window's forecasts and scores, for plots
    panel: Panel
    methods: np.ndarray | None = None  # the method predict uses for each series by default
    warnings: list[str] = dataclasses.field(default_factory=list)
    plotted: list[str] = dataclasses.field(default_factory=list)  # the series --plot drew

    @property
    def series(self) -> int:
        """Number of series backtested."""
        return self.summary["series"]

    def forecasts(self) -> pd.DataFrame:
        """Every backtest window in long format (`unique_id, ds, cutoff, y, yhat, ...`).

        `yhat` and its band are the forecast predict makes by default, by the method `model`
        names; `lstm` and each per-series method's column hold their point forecasts."""
        from lstmcast.evaluate import backtest_frame

        return backtest_frame(self.panel, self.backtest, self.methods)


def evaluate(
    model_path: str | os.PathLike,
    data: str | os.PathLike | None = None,
    folds: int = 3,
    horizon: int | None = None,
    step: int | None = None,
    season: int | None = None,
    refit: bool = False,
    device: str = "cpu",
    callback=None,
    train_callback=None,
    spec: DataSpec = DataSpec(),
    output: str | os.PathLike | None = None,
    forecasts: str | os.PathLike | None = None,
    plot: str | os.PathLike | None = None,
    scored=None,
    show: int = 3,
) -> EvaluateResult:
    """Rolling-origin backtest of a trained model (or of its recipe, retrained per fold).

    Writes what it is asked for: the per-series table to `output`, every backtest window
    to `forecasts` (both .csv, .tsv, .parquet or .json) and the `show` worst and `show` best
    series to the PNG `plot`. Each is refused before the backtest runs when it would overwrite the
    data, the model or another output, or cannot be written. `scored(result)`, when given,
    is called once the backtest is scored and before anything is written, so a caller can
    report its warnings even when writing fails.
    """
    outputs = {"--output": output, "--forecasts": forecasts, "--plot": plot}
    check_evaluate_outputs(outputs, model_path, data)
    if plot is not None and show < 1:
        raise UsageError(
            f"--show {show} leaves no series for --plot to draw",
            hint="pass --show 1 or more, or drop --plot",
        )
    result = _backtest_model(
        model_path, data, folds, horizon, step, season, refit, device, callback,
        train_callback, spec,
    )  # fmt: skip
    if scored is not None:
        scored(result)
    if output is not None:
        write_table(metrics.as_written(result.per_series), output)
    if forecasts is not None:
        write_table(result.forecasts(), forecasts)
    if plot is not None:
        from lstmcast.plot import plot_backtest

        result.plotted = plot_backtest(result, plot, show)
    return result


def _backtest_model(
    model_path, data, folds, horizon, step, season, refit, device, callback, train_callback, spec
) -> EvaluateResult:
    from lstmcast.choice import chosen_methods as _chosen_methods
    from lstmcast.evaluate import backtest, backtest_summary, backtest_warnings, per_series_table
    from lstmcast.forecast import band_tables, follows_level
    from lstmcast.verdict import refit_recipe

    model, header, panel, data = _model_and_data(model_path, data, device, spec, "evaluate")
    lstm, fell_back = header.get("lstm_trained", True), []
    refit_fn = refit_recipe(header, device, train_callback, fell_back) if refit else None
    methods = _chosen_methods(header, panel, "auto", model_path, [])
    widths = band_tables(header)
    result = backtest(
        model, panel, folds, horizon, step, season, refit_fn, callback, methods, lstm, widths,
        follows_level(header),
    )  # fmt: skip
    per_series = per_series_table(panel, result)
    trained_until = None if refit else pd.Timestamp(header["data"]["last_timestamp"])
    summary = backtest_summary(per_series, result, panel, str(data), folds, trained_until)
    warnings = list(panel.warnings) + backtest_warnings(panel, result, summary)
    if not lstm and not refit:
        warnings.append(
            f"{model_path} holds no LSTM (its training data was too short): the per-series "
            "methods and the choice predict makes are backtested"
        )
    if fell_back:
        warnings.append(
            f"--refit: {len(fell_back)} of {folds} folds too short to train the LSTM, forecast "
            f"by baselines as train does (the LSTM is scored on the other folds); {fell_back[0]}"
        )
    return EvaluateResult(per_series, summary, result, panel, methods, warnings)


@dataclass
class PlotResult:
    series: list[str]  # the series drawn, in order
    warnings: list[str]
    data: str = ""  # the data file drawn from (the model's training data when not given)
    total: int = 0  # the series in that file


def plot(
    model_path: str | os.PathLike,
    output: str | os.PathLike,
    data: str | os.PathLike | None = None,
    series: list[str] | None = None,
    last: int | None = None,
    holdout: int | None = None,
    horizon: int | None = None,
    device: str = "cpu",
    spec: DataSpec = DataSpec(),
) -> PlotResult:
    """Plot history and forecast (and, with `holdout`, the held-out actuals) of some series.

    Each series is forecast as `predict` forecasts it, by the method the model file chose
    for it (the LSTM or a baseline). Each panel is titled with its series, that method and
    the forecast origin (the last value the forecast saw); the y axis names the target.
    """
    from lstmcast.plot import plot_model

    check_outputs({"--output": output}, model_path, data)
    check_writable(output)
    model, header, panel, data = _model_and_data(model_path, data, device, spec, "plot")
    drawn, warnings = plot_model(
        model, header, panel, output, data, model_path, series, last, holdout, horizon
    )
    return PlotResult(drawn, warnings, str(data), panel.n_series)
