"""The library behind each command: everything the CLI does is callable from Python here."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lstmcast import __version__, metrics
from lstmcast.artifact import (
    FORMAT_VERSION,
    check_model_path,
    check_model_target,
    load_artifact,
    read_header,
    save_artifact,
)
from lstmcast.config import ID_ALIASES, DataSpec, ModelConfig, TrainConfig
from lstmcast.covariates import build_covariate_panel
from lstmcast.errors import DataError, ModelFileError, UsageError
from lstmcast.evaluate import BacktestResult
from lstmcast.header import check_model_header
from lstmcast.io import check_paths, check_writable, read_table, write_table
from lstmcast.panel import Panel
from lstmcast.schema import build_panel

__all__ = [
    "load_panel",
    "train",
    "predict",
    "load_model",
    "model_info",
    "TrainSummary",
    "PredictResult",
]


def load_panel(path: str | os.PathLike, spec: DataSpec = DataSpec()) -> Panel:
    """Read a data file (`-`: standard input) and validate it into a Panel."""
    return _build_panel(_read(path, spec), spec)


def _build_panel(df: pd.DataFrame, spec: DataSpec) -> Panel:
    """The target's panel, with the covariate columns added when the spec names any."""
    if spec.covariates or spec.past_covariates:
        return build_covariate_panel(df, spec)
    return build_panel(df, spec)


def _read(path: str | os.PathLike, spec: DataSpec) -> pd.DataFrame:
    ids = ID_ALIASES + ((spec.id_col,) if spec.id_col else ())
    return read_table(path, text_columns=ids, compact=True)


def _data_path(data) -> str:
    """The data file as recorded in a model: absolute, or `-` for standard input."""
    return "-" if str(data) == "-" else str(Path(data).resolve())


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
) -> TrainSummary:
    """Train on `data` and write the model file atomically; the old file survives any failure.

    Holds the model's lock for the whole run. With `warm_start`, training continues from the
    weights and settings of the existing model file, which must have the same data schema.
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
        return _train_locked(data, model_path, spec, model_cfg, train_cfg, callback, warm_start)


def _train_locked(
    data, model_path, spec, model_cfg, train_cfg, callback, warm_start
) -> TrainSummary:
    import time

    from lstmcast import distributed
    from lstmcast.evaluate import validate_methods
    from lstmcast.train import fit_model, resolve_model_config
    from lstmcast.windows import build_index, default_val_size, verdict_windows

    started = time.perf_counter()
    init_state = None
    if warm_start:
        old, header = load_model(model_path)
        asked = spec
        spec = _spec_from_header(
            _check_sections(header, model_path),
            DataSpec(max_gap=spec.max_gap, date_format=spec.date_format),
            model_path,
        )
        _check_warm_covariates(asked, spec)
        model_cfg = _warm_config(old.cfg, model_cfg)
        init_state = old.state_dict() if header.get("lstm_trained", True) else None
        panel = _load_for_model(data, spec)
    else:
        panel = load_panel(data, spec)
    cfg = resolve_model_config(model_cfg, panel, train_cfg.val_size)
    warnings = list(panel.warnings)
    val_size = train_cfg.val_size or default_val_size(panel, cfg.horizon)
    index = build_index(panel, cfg.lookback, cfg.horizon, val_size)
    result = None
    if index.n_train and len(index.val_series):
        result = fit_model(
            panel,
            cfg,
            train_cfg,
            callback,
            init_state,
            explicit_lookback=model_cfg.lookback is not None,
        )
        index = result.index
        short = index.too_short()
        if len(short):
            warnings.append(
                f"{len(short)} series too short for a training window (e.g. '{panel.ids[short[0]]}')"
            )
    else:
        need = index.min_context + cfg.horizon + index.val_size
        source = (
            f"--lookback {cfg.lookback}" if model_cfg.lookback else f"the lookback {cfg.lookback}"
        )
        warnings.append(
            f"little data: the longest series has {int(panel.lengths.max())} points, but training "
            f"the LSTM needs {need} (lookback {index.min_context}, half of {source}, + horizon "
            f"{cfg.horizon} + validation {index.val_size}); every series is forecast by a simple "
            "baseline (pass a smaller --horizon or --lookback, or collect more data, for an LSTM)"
        )
    series, origin = (
        verdict_windows(panel, index) if result else (np.empty(0, np.int64), np.empty(0, np.int64))
    )
    verdict = validate_methods(
        result.model if result else None,
        panel,
        cfg.horizon,
        cfg.quantiles,
        cfg.season,
        series,
        origin,
    )
    validation = verdict.doc
    if result is not None and result.calibration is not None:
        validation["calibration"] = result.calibration
    if validation["series_without_windows"]:
        warnings.append(
            f"{validation['series_without_windows']} series too short to validate any method "
            f"(the shortest has {int(panel.lengths.min())} points, horizon {cfg.horizon}): "
            "forecast by seasonal naive or naive, untested"
        )
    forecast_by = {m: n for m, n in validation["chosen"].items() if n}
    summary = TrainSummary(
        model_path=str(model_path),
        data_path=_data_path(data),
        series=panel.n_series,
        rows=int(panel.lengths.sum()),
        epochs=result.epochs if result else 0,
        steps=result.steps if result else 0,
        seconds=round(result.seconds if result else time.perf_counter() - started, 3),
        device=result.device if result else "none",
        stop_reason=result.stop_reason if result else "too_little_data",
        best_val_loss=result.best_val_loss if result else None,
        parameters=sum(p.numel() for p in result.model.parameters()) if result else 0,
        model=dataclasses.asdict(cfg),
        validation=validation,
        warnings=warnings,
        lstm_trained=result is not None,
        forecast_by=forecast_by,
    )
    if distributed.is_main():  # every rank holds the same weights; one writes them
        model = result.model if result else None
        _save_model(model_path, model, panel, cfg, train_cfg, summary, spec, verdict)
    return summary


def _check_warm_covariates(asked: DataSpec, model: DataSpec) -> None:
    """--warm-start reads the model's covariates; naming others is a usage error."""
    for flag, name in (("--covariates", "covariates"), ("--past-covariates", "past_covariates")):
        given, kept = getattr(asked, name), getattr(model, name)
        if given and [c.lower() for c in given] != [c.lower() for c in kept]:
            raise UsageError(
                f"--warm-start keeps the model's {name.replace('_', ' ')} ({', '.join(kept) or 'none'}), "
                f"but {flag} {','.join(given)} was given",
                hint="drop the option, or train a new model without --warm-start",
            )


def _warm_config(old: ModelConfig, asked: ModelConfig) -> ModelConfig:
    """The existing model's settings; an explicit different shape is a usage error.

    A setting counts as explicit when it differs from ModelConfig's default.
    """
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


SCALING_TEXT = {
    "std": "per window: mean and standard deviation of the lookback, undone on output",
    "meanabs": "per window: divided by the mean absolute value of the lookback, undone on output",
    "log": "per window: log values, then their mean and standard deviation, undone on output",
}


def _save_model(
    path,
    model,
    panel: Panel,
    cfg: ModelConfig,
    train_cfg: TrainConfig,
    summary: TrainSummary,
    spec: DataSpec,
    verdict,
) -> None:
    cols = panel.columns
    header = {
        "format_version": FORMAT_VERSION,
        "lstmcast_version": __version__,
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "model": dataclasses.asdict(cfg),
        "train": dataclasses.asdict(train_cfg),
        "data": {
            "path": summary.data_path,
            "layout": cols.layout,
            "time_col": cols.time_col,
            "targets": list(cols.targets),
            "id_col": cols.id_col,
            "freq": panel.freq,
            "max_gap": spec.max_gap,
            "date_format": panel.date_format,
            "series": panel.n_series,
            "rows": summary.rows,
            "last_timestamp": str(pd.Timestamp(panel.last.max())),
            "source_columns": list(panel.source_columns),
            "ids": [str(i) for i in panel.ids],
        },
        "scaling": SCALING_TEXT[cfg.scaling],
        "intervals": (
            "conformal: quantile offsets calibrated on the validation windows"
            if train_cfg.calibrate
            else "as trained (pinball loss), not calibrated"
        ),
        "metrics": {
            k: v
            for k, v in summary.to_dict().items()
            if k not in ("model", "model_path", "data_path")
        },
        # The method each series is forecast by, and each baseline's interval offsets
        # (horizon x quantiles, in units of the series' mean absolute seasonal difference).
        "lstm_trained": model is not None,
        "methods": {str(i): str(m) for i, m in zip(panel.ids, verdict.methods, strict=True)},
        "method_widths": verdict.widths,
    }
    tensors = {}
    if model is not None:
        tensors = {
            f"weights.{k}": v.detach().cpu().float().numpy() for k, v in model.state_dict().items()
        }
    # Each series' training range, for the level-shift guard of predict.
    tensors["data.min"] = np.minimum.reduceat(panel.values, panel.offsets[:-1])
    tensors["data.max"] = np.maximum.reduceat(panel.values, panel.offsets[:-1])
    save_artifact(path, header, tensors)


def _check_sections(header: dict, path, sections: tuple[str, ...] = ("model", "data")) -> dict:
    """The header, once every field lstmcast reads has been checked (ModelFileError if not)."""
    check_model_header(header, path, sections)
    return header


def load_model(path: str | os.PathLike, device: str = "cpu"):
    """Rebuild the trained LSTMForecaster from a model file: (model, header)."""
    import torch

    from lstmcast.distributed import resolve_device
    from lstmcast.model import build_model

    header, tensors = load_artifact(path, check=lambda h: _check_sections(h, path, ("model",)))
    try:
        cfg = ModelConfig.from_dict(header["model"])
        model = build_model(cfg)
        state = {
            k.removeprefix("weights."): torch.from_numpy(v)
            for k, v in tensors.items()
            if k.startswith("weights.")
        }
        for key, buffer in model.state_dict().items():
            if key.endswith("calibration") and key not in state:  # files from before calibration
                state[key] = torch.zeros_like(buffer)
            elif key.endswith("calibration") and state[key].shape != buffer.shape:
                state[key] = state[key].expand_as(buffer).clone()  # one offset for every step
        if header.get("lstm_trained", True):  # else the data was too short: no weights at all
            model.load_state_dict(state)
    except (KeyError, TypeError, RuntimeError, AssertionError) as exc:
        raise ModelFileError(
            f"{path}: the model file does not match this lstmcast version's model ({exc})".splitlines()[
                0
            ]
        ) from exc
    model.eval()
    header["extra_tensors"] = {k: v for k, v in tensors.items() if not k.startswith("weights.")}
    return model.to(resolve_device(device)), header


def model_info(path: str | os.PathLike) -> dict:
    """The model file's header (config, data schema, training metrics) without loading weights."""
    header, _ = read_header(path)
    header = dict(_check_sections(header, path))  # every field info prints, checked
    _spec_from_header(header, path=path)  # and the frequency
    tensors = header.pop("tensors")
    header.pop("payload_sha256", None)
    header["file"] = {"path": str(path), "bytes": os.path.getsize(path), "tensors": len(tensors)}
    return header


def _model_and_data(
    model_path, data, device: str, given: DataSpec = DataSpec(), command: str = "predict"
):
    """Load a model and the panel it should read: DATA, or the file it was trained on.

    `given` holds the data options of the command line: they name the file's columns where
    they differ from the model's (see _spec_from_header).
    """
    model, header = load_model(model_path, device)
    recorded = Path(_check_sections(header, model_path)["data"]["path"])
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
    spec = _spec_from_header(header, given, model_path)
    panel = _load_for_model(data, spec, given)
    return model, header, _as_model_columns(panel, header), data


def _as_model_columns(panel: Panel, header: dict) -> Panel:
    """A panel read through renamed columns, with the model's names for them.

    Series of single and wide files are named after their target column, and the guards of
    predict compare column names with training: both then see the model's names.
    """
    meta, cols = header["data"], panel.columns
    names = {
        cols.time_col: meta["time_col"],
        **dict(zip(cols.targets, meta["targets"], strict=False)),
    }
    if cols.id_col and meta.get("id_col"):
        names[cols.id_col] = meta["id_col"]
    if all(k == v for k, v in names.items()):
        return panel
    ids = panel.ids
    if cols.layout in ("single", "wide"):
        ids = np.array([names.get(str(i), i) for i in panel.ids], dtype=object)
    source = tuple(names.get(c, c) for c in panel.source_columns)
    return dataclasses.replace(panel, ids=ids, source_columns=source)


def _load_for_model(data, spec: DataSpec, given: DataSpec = DataSpec()) -> Panel:
    """Load data with a model's columns and frequency; say plainly what the model expects.

    The file is read once (standard input can only be read once), then validated.
    """
    df = _read(data, spec)
    try:
        return _build_panel(df, spec)
    except DataError as exc:
        if getattr(exc, "covariate", None):
            ahead = exc.covariate.lower() in [c.lower() for c in spec.covariates]
            raise DataError(
                f"{data}: the model reads covariate '{exc.covariate}', but the data has no such "
                f"column (columns: {', '.join(exc.columns)})",
                hint="add the column"
                + (
                    ", with its values for the horizon in rows with an empty target"
                    if ahead
                    else ""
                ),
            ) from None
        flag = getattr(exc, "flag", None)
        if flag in FLAG_FIELDS and getattr(given, FLAG_FIELDS[flag]) is None:
            what = {"--time-col": "time column", "--target": "target", "--id-col": "id column"}
            raise DataError(
                f"{data}: the model reads {what[flag]} '{exc.column}'; this file has columns "
                f"{', '.join(exc.columns)}",
                hint=f"pass {flag} COLUMN to name the file's {what[flag]}",
            ) from None
        # Say so plainly when the data simply has another frequency than the model.
        try:
            other = _build_panel(df, dataclasses.replace(spec, freq=None)).freq
        except DataError:
            other = None
        if other and other != spec.freq:
            raise DataError(
                f"{data}: the data's frequency is {other}, but the model was trained on {spec.freq} data",
                hint="resample the data to the model's frequency, or train a model for this data",
            ) from None
        raise


FLAG_FIELDS = {"--time-col": "time_col", "--target": "target", "--id-col": "id_col"}


@dataclass
class PredictResult:
    forecast: pd.DataFrame
    horizon: int
    trained_horizon: int
    series: int
    data_path: str
    warnings: list[str]


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

    check_model_path(model_path)  # a FIFO or folder is refused before the lock is taken
    if output is not None:
        check_outputs({"--output": output}, model_path, data)
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


def _check_finite(preds: np.ndarray, panel: Panel, horizon: int, trained: int, model_path) -> None:
    """Never write a forecast that is not a number: a long recursive roll-out can diverge."""
    bad = ~np.isfinite(preds).all(axis=2)  # (N, H)
    if not bad.any():
        return
    series = panel.ids[np.flatnonzero(bad.any(axis=1))[0]]
    step = int(np.flatnonzero(bad.any(axis=0))[0]) + 1
    if step > trained:  # beyond the trained horizon: the recursion diverged
        raise UsageError(
            f"--horizon {horizon}: the recursive forecast of series '{series}' is no longer a "
            f"number from step {step} (the model was trained for {trained})",
            hint=f"pass --horizon {step - 1} or less, or train with a longer --horizon",
        )
    raise ModelFileError(
        f"{model_path}: the model forecasts values that are not numbers for series '{series}'",
        hint="retrain with lstmcast train",
    )


def check_outputs(outputs: dict, model_path, data=None) -> None:
    """Refuse (exit 2) outputs that would overwrite the data, the model or each other.

    Without `data`, the data file is the one recorded in the model, read from its header.
    """
    if data is None:
        try:
            data = read_header(model_path)[0]["data"]["path"]
        except (ModelFileError, KeyError, TypeError):
            data = None  # loading the model says what is wrong with it
        data = data if isinstance(data, str) else None
    check_paths(outputs, {"DATA": data, "--model": model_path})


def _predict_locked(
    model_path, data, horizon, device, spec, max_age, as_of, strict, fallback=None
) -> PredictResult:
    from lstmcast.forecast import apply_choice, check_horizon, forecast_frame, forecast_panel
    from lstmcast.ops import check_age, drift_warnings

    as_of = as_of or dt.datetime.now(dt.timezone.utc)
    model, header, panel, data = _model_and_data(model_path, data, device, spec)
    check_age(header, model_path, max_age, as_of)
    cfg = model.cfg
    horizon = horizon or cfg.horizon
    check_horizon(panel, horizon, len(cfg.quantiles))
    guards = drift_warnings(header, panel, as_of)
    if strict and guards:
        more = f" (+{len(guards) - 1} more)" if len(guards) > 1 else ""
        raise DataError(
            f"refusing to forecast (--strict): {guards[0]}{more}",
            hint="check the data, or retrain the model",
        )
    warnings = list(panel.warnings) + guards
    methods = _chosen_methods(header, panel, fallback or "auto", model_path, warnings)
    if horizon > cfg.horizon and (methods == "lstm").any():
        warnings.append(_horizon_warning(horizon, cfg.horizon))
    short = int(((panel.lengths < cfg.lookback) & (methods == "lstm")).sum())
    if short:
        warnings.append(
            f"{short} series shorter than the lookback {cfg.lookback}: their first value was repeated to fill it"
        )
    if (methods == "lstm").any():
        preds = forecast_panel(model, panel, horizon)
    else:  # no series needs the network
        preds = np.zeros((panel.n_series, horizon, len(cfg.quantiles)), dtype=np.float32)
    apply_choice(preds, panel, methods, cfg.season, header.get("method_widths") or {})
    _check_finite(preds, panel, horizon, cfg.horizon, model_path)
    # Not a warning: the choice is the normal course, named in the model column per row.
    frame = forecast_frame(panel, preds, cfg.quantiles)
    frame["model"] = np.repeat(methods, horizon)
    return PredictResult(frame, horizon, cfg.horizon, panel.n_series, str(data), warnings)


FALLBACKS = ("auto", "none", "naive")  # naive: the name of auto before it chose among baselines


def _chosen_methods(
    header: dict, panel: Panel, fallback: str, model_path, warnings: list[str]
) -> np.ndarray:
    """Per panel series: the method it is forecast by (lstm, naive, seasonal_naive, drift).

    auto: the model file's choice; series it does not know are forecast by the LSTM, or, in
    a file without one, by seasonal naive (naive when shorter than a season). none: the LSTM.
    """
    if fallback not in FALLBACKS:
        raise UsageError(
            f"--fallback {fallback}: expected auto (each series by the method that won at "
            "validation) or none (the LSTM everywhere)"
        )
    trained = header.get("lstm_trained", True)
    if fallback == "none":
        if not trained:
            raise UsageError(
                f"--fallback none: {model_path} holds no LSTM (its training data was too short)",
                hint="drop --fallback none, or train on longer series",
            )
        return np.full(panel.n_series, "lstm", dtype=object).astype(str)
    recorded = header.get("methods")
    if recorded is None:
        warnings.append(
            f"{model_path} records no per-series choice of method (an older model file): "
            "every series forecast by the LSTM; retrain to choose per series"
        )
        recorded = {}
    season = header["model"]["season"]
    ids = panel.ids.astype(str)
    default = np.where(
        trained,
        "lstm",
        np.where((season > 1) & (panel.lengths >= season), "seasonal_naive", "naive"),
    )
    return np.array([recorded.get(i, d) for i, d in zip(ids, default, strict=True)], dtype=str)


@dataclass
class EvaluateResult:
    per_series: pd.DataFrame  # one row per series: each method's mean metrics and skill
    summary: dict  # aggregate table, skill, settings: the body of `evaluate --json`
    backtest: BacktestResult  # every window's forecasts and scores, for plots
    panel: Panel
    methods: np.ndarray | None = None  # the method predict uses for each series by default
    warnings: list[str] = dataclasses.field(default_factory=list)

    @property
    def series(self) -> int:
        """Number of series backtested."""
        return self.summary["series"]

    def forecasts(self) -> pd.DataFrame:
        """Every backtest window in long format (`unique_id, ds, cutoff, y, yhat, ...`).

        `yhat` and its band are the LSTM's; `model` names the method predict uses for the
        series by default, whose column holds that forecast."""
        from lstmcast.evaluate import backtest_frame

        return backtest_frame(self.panel, self.backtest, self.methods)


def _spec_from_header(header: dict, given: DataSpec = DataSpec(), path="model file") -> DataSpec:
    """The model's data schema; options in `given` name the file's own columns instead.

    `--target Price` on a model trained on `Close` reads `Price` as the target. Covariates
    keep the model's names.
    """
    meta = header["data"]
    try:  # a header's frequency is checked here, where pandas is at hand (header.py has none)
        step = pd.tseries.frequencies.to_offset(meta["freq"])
    except ValueError:
        step = None
    if step is None or step.n <= 0:
        raise ModelFileError(
            f"{path}: model file header field 'data.freq' must be a positive pandas frequency, got {meta['freq'][:40]!r}",
            hint="retrain with lstmcast train, or restore the file from a backup",
        )
    target = given.target or ",".join(meta["targets"])
    if given.target and len(given.target.split(",")) != len(meta["targets"]):
        raise UsageError(
            f"--target {given.target}: the model reads {len(meta['targets'])} target column(s) "
            f"({', '.join(meta['targets'])})",
            hint="name as many columns as the model was trained on, in the same order",
        )
    if given.freq and not _same_freq(given.freq, meta["freq"]):
        raise UsageError(
            f"--freq {given.freq}: the model was trained on {meta['freq']} data",
            hint=f"drop --freq (the model reads {meta['freq']}), or train a model for this frequency",
        )
    return DataSpec(
        time_col=given.time_col or meta["time_col"],
        target=target,
        id_col=given.id_col or meta["id_col"],
        freq=given.freq or meta["freq"],
        max_gap=given.max_gap if given.max_gap is not None else meta.get("max_gap"),
        date_format=given.date_format or meta.get("date_format"),
        covariates=tuple(header.get("model", {}).get("covariates") or ()),
        past_covariates=tuple(header.get("model", {}).get("past_covariates") or ()),
    )


def _same_freq(asked: str, trained: str) -> bool:
    to_offset = pd.tseries.frequencies.to_offset
    try:
        return to_offset(asked) == to_offset(trained)
    except ValueError:
        raise UsageError(
            f"--freq {asked}: not a pandas frequency",
            hint="examples: h, 15min, D, B, W-SUN, MS, ME, QS, YS",
        ) from None


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
) -> EvaluateResult:
    """Rolling-origin backtest of a trained model (or of its recipe, retrained per fold).

    Writes what it is asked for: the per-series table to `output`, every backtest window
    to `forecasts` (both .csv, .tsv, .parquet or .json) and the worst and best series to
    the PNG `plot`. Each is refused before the backtest runs when it would overwrite the
    data, the model or another output, or cannot be written. `scored(result)`, when given,
    is called once the backtest is scored and before anything is written, so a caller can
    report its warnings even when writing fails.
    """
    outputs = {"--output": output, "--forecasts": forecasts, "--plot": plot}
    _check_evaluate_outputs(outputs, model_path, data)
    result = _backtest_model(
        model_path, data, folds, horizon, step, season, refit, device, callback,
        train_callback, spec,
    )  # fmt: skip
    if scored is not None:
        scored(result)
    if output is not None:
        write_table(result.per_series, output)
    if forecasts is not None:
        write_table(result.forecasts(), forecasts)
    if plot is not None:
        plot_backtest(result, plot)
    return result


def _check_evaluate_outputs(outputs: dict, model_path, data) -> None:
    """Refuse outputs that collide or cannot be written, and unknown table types, up front."""
    from lstmcast.io import output_format

    check_outputs(outputs, model_path, data)
    for flag in ("--output", "--forecasts"):
        if outputs[flag] is not None:
            output_format(outputs[flag], flag)
    for path in outputs.values():
        if path is not None:
            check_writable(path)


def _backtest_model(
    model_path, data, folds, horizon, step, season, refit, device, callback, train_callback, spec
) -> EvaluateResult:
    from lstmcast.evaluate import aggregate, backtest, per_series_table

    model, header, panel, data = _model_and_data(model_path, data, device, spec, "evaluate")
    refit_fn = None
    if refit:
        from lstmcast.train import fit_model

        m = header["model"]
        cfg = ModelConfig.from_dict(m)
        tcfg = TrainConfig(**{**header.get("train", {}), "device": device})

        def refit_fn(past: Panel):
            return fit_model(past, cfg, tcfg, train_callback).model

    if not header.get("lstm_trained", True):
        raise UsageError(
            f"{model_path} holds no LSTM (its training data was too short), so there is none to backtest",
            hint="train on longer series; lstmcast train reports the baselines' validation errors",
        )
    methods = _chosen_methods(header, panel, "auto", model_path, [])
    result = backtest(model, panel, folds, horizon, step, season, refit_fn, callback, methods)
    per_series = per_series_table(panel, result)
    summary = aggregate(per_series)
    trained_until = pd.Timestamp(header["data"]["last_timestamp"])
    overlap = not refit and _origins_before(panel, result, trained_until)
    summary.update(
        {
            "data": str(data),
            "folds": folds,
            "horizon": result.horizon,
            "step": result.step,
            "season": result.season,
            "refit": refit,
            "series": int(per_series.shape[0]),
            "windows": int(len(result.series)),
            "mape_zero_actuals_skipped": int(np.sum(metrics.count_zero_actuals(result.actual))),
            "folds_per_series": {
                "min": int(per_series["folds"].min()),
                "max": int(per_series["folds"].max()),
            },
            "overlaps_training": overlap,
        }
    )
    warnings = list(panel.warnings)
    if overlap:
        warnings.append(OVERLAP_WARNING)
    return EvaluateResult(per_series, summary, result, panel, methods, warnings)


OVERLAP_WARNING = (
    "these windows lie inside the model's training data, so the LSTM's scores are optimistic; "
    "use --refit, or evaluate on data newer than the training file"
)


def _origins_before(panel: Panel, result: BacktestResult, trained_until: pd.Timestamp) -> bool:
    """True when some backtest window starts inside the data the model was trained on."""
    from lstmcast.freq import grid_ordinals

    first, _ = grid_ordinals(panel.first, panel.freq)
    until, _ = grid_ordinals(
        np.array([trained_until.to_datetime64()], dtype="datetime64[ns]"), panel.freq
    )
    return bool(((first[result.series] + result.origin) <= until[0]).any())


def _horizon_warning(horizon: int, trained: int) -> str | None:
    """The warning `predict` and `plot` give for steps beyond the trained horizon."""
    if horizon <= trained:
        return None
    return (
        f"horizon {horizon} is longer than the trained {trained}: steps beyond it are forecast "
        "recursively and their intervals are too narrow"
    )


def _target_name(panel: Panel, i: int) -> str:
    """What series i measures: the target column (each column is a series in a wide file)."""
    cols = panel.columns
    return str(panel.ids[i]) if cols.layout == "wide" else cols.targets[0]


def default_history(horizon: int, season: int) -> int:
    """Steps of history a plot shows by default: three horizons or two seasons, the longer."""
    return max(3 * horizon, 2 * season)


@dataclass
class PlotResult:
    series: list[str]  # the series drawn, in order
    warnings: list[str]


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

    Each panel is titled with its series and forecast origin (the last value the forecast
    saw); the y axis carries the target's name.
    """
    from lstmcast.forecast import check_horizon, forecast_at
    from lstmcast.freq import describe_freq, future_dates
    from lstmcast.plot import Forecast, SeriesPlot, history_slice, plot_series, stamp

    model, header, panel, data = _model_and_data(model_path, data, device, spec, "plot")
    if not header.get("lstm_trained", True):
        raise UsageError(
            f"{model_path} holds no LSTM (its training data was too short): plot draws the LSTM's forecast",
            hint="lstmcast predict forecasts these series by their baselines",
        )
    ids = list(panel.ids.astype(str))
    if series:
        missing = [s for s in series if s not in ids]
        if missing:
            raise DataError(
                f"--series {missing[0]}: no such series in {data} (e.g. {', '.join(ids[:5])})"
            )
        chosen = [ids.index(s) for s in series]
    else:
        chosen = list(range(min(6, len(ids))))
    cfg = model.cfg
    horizon = holdout or horizon or cfg.horizon
    warnings = [w for w in [_horizon_warning(horizon, cfg.horizon)] if w]
    last = last or default_history(horizon, cfg.season)
    n = panel.lengths
    if not holdout:
        check_horizon(panel, horizon, len(model.cfg.quantiles), series=len(chosen))
    origin = np.array([n[i] - (holdout or 0) for i in chosen], dtype=np.int64)
    if (origin < 2).any():
        raise DataError(
            f"--holdout {holdout} leaves no history for series '{ids[chosen[int(np.argmin(origin))]]}'"
        )
    preds = forecast_at(model, panel, np.array(chosen, dtype=np.int64), origin, horizon)
    q, mid = cfg.quantiles, cfg.median_index
    plots = []
    for k, i in enumerate(chosen):
        hist_ds, hist_y = history_slice(panel, i, int(origin[k]), last)
        fc_ds = future_dates(pd.Timestamp(hist_ds[-1]), panel.freq, horizon).to_numpy()
        actual = panel.series(i)[origin[k] : origin[k] + horizon] if holdout else None
        fc = Forecast(
            hist_ds[-1], hist_y[-1], fc_ds, preds[k, :, mid], preds[k, :, 0], preds[k, :, -1]
        )
        plots.append(
            SeriesPlot(
                f"{ids[i]} — forecast origin {stamp(hist_ds[-1], panel.freq)}",
                hist_ds, hist_y, [fc],
                np.r_[hist_ds[-1:], fc_ds] if holdout else None,
                np.r_[hist_y[-1:], actual] if holdout else None,
                ylabel=_target_name(panel, i), series=ids[i],
            )
        )  # fmt: skip
    title = f"Forecast{_of_target(plots)}: {horizon} steps ({describe_freq(panel.freq)})" + (
        f" against the last {holdout} values, held out" if holdout else ""
    )
    plot_series(plots, output, panel.freq, title, interval=f"{q[0]:g}–{q[-1]:g} quantile band")
    return PlotResult([ids[i] for i in chosen], warnings)


def _of_target(plots: list) -> str:
    """' of y' when every panel shows the same target, for a figure's title."""
    targets = {p.ylabel for p in plots}
    return f" of {targets.pop()}" if len(targets) == 1 else ""


def backtest_plots(result: EvaluateResult, count: int = 3) -> list:
    """Panels of the `count` worst and `count` best series by skill against their best
    baseline, each with every fold it was scored on and the figures of exactly those folds."""
    from lstmcast.evaluate import ranked_by_skill
    from lstmcast.freq import future_dates
    from lstmcast.plot import Forecast, SeriesPlot, history_slice, stamp

    bt, panel, table = result.backtest, result.panel, result.per_series
    ranked = ranked_by_skill(table)
    if ranked.empty:
        raise DataError(
            "no series has a MASE to rank by for --plot (every history is constant)",
            hint="drop --plot, or plot single series with lstmcast plot --holdout N",
        )
    worst = list(ranked["unique_id"].head(count))
    best = [u for u in ranked["unique_id"].tail(count)[::-1] if u not in worst]
    ids = panel.ids.astype(str)
    horizon, mid = bt.horizon, bt.median
    plots = []
    for uid in worst + best:
        i = int(np.flatnonzero(ids == uid)[0])
        rows = np.flatnonzero(bt.series == i)
        rows = rows[np.argsort(bt.origin[rows])]
        first, end = int(bt.origin[rows[0]]), int(bt.origin[rows[-1]]) + horizon
        hist_ds, hist_y = history_slice(panel, i, first, default_history(horizon, bt.season))
        # The observed values from the first cutoff to the end of the last window.
        span_ds, span_y = history_slice(panel, i, end, end - first + 1)
        forecasts = []
        for w in rows:
            o = int(bt.origin[w])
            cutoff_ds, cutoff_y = span_ds[o - first], span_y[o - first]
            fc_ds = future_dates(pd.Timestamp(cutoff_ds), panel.freq, horizon).to_numpy()
            p = bt.preds[w]
            forecasts.append(Forecast(cutoff_ds, cutoff_y, fc_ds, p[:, mid], p[:, 0], p[:, -1]))
        row = table.loc[table["unique_id"] == uid].iloc[0]
        base = row["best_baseline"]
        folds = len(rows)
        origins = stamp(forecasts[0].cutoff, panel.freq) + (
            f" … {stamp(forecasts[-1].cutoff, panel.freq)}" if folds > 1 else ""
        )
        rank = "" if len(ranked) == 1 else "worst: " if uid in worst else "best: "
        note = (
            f"{rank}skill {row['skill_vs_best_baseline']:+.3f} "
            f"vs {base.replace('_', ' ')}; MASE {row['lstm_mase']:.3f} vs {row[f'{base}_mase']:.3f}"
            f" (mean of {folds} fold{'s' * (folds > 1)})"
        )
        plots.append(
            SeriesPlot(
                f"{uid} — forecast origin{'s' * (folds > 1)} {origins}",
                hist_ds, hist_y, forecasts, span_ds, span_y, note=note,
                ylabel=_target_name(panel, i), series=uid,
            )
        )  # fmt: skip
    return plots


def plot_backtest(result: EvaluateResult, output: str | os.PathLike, count: int = 3) -> list[str]:
    """Draw `backtest_plots` to a PNG; returns the series drawn."""
    from lstmcast.plot import plot_series

    bt = result.backtest
    plots = backtest_plots(result, count)
    title = (
        f"Backtest{_of_target(plots)}: {bt.folds} folds of {bt.horizon} steps"
        + (", refit per fold" if result.summary["refit"] else "")
        + ("; worst and best series by skill against the best baseline" if len(plots) > 1 else "")
    )
    q = bt.quantiles
    plot_series(
        plots, output, result.panel.freq, title, interval=f"{q[0]:g}–{q[-1]:g} quantile band"
    )
    return [p.series for p in plots]
