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
from lstmcast.artifact import FORMAT_VERSION, load_artifact, read_header, save_artifact
from lstmcast.config import ID_ALIASES, DataSpec, ModelConfig, TrainConfig
from lstmcast.errors import DataError, ModelFileError, UsageError
from lstmcast.io import check_writable, read_table, write_table
from lstmcast.schema import Panel, build_panel

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
    """Read a data file and validate it into a Panel."""
    ids = ID_ALIASES + ((spec.id_col,) if spec.id_col else ())
    return build_panel(read_table(path, text_columns=ids, compact=True), spec)


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
        spec = _spec_from_header(_check_sections(header, model_path), spec.max_gap)
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
        data_path=str(Path(data).resolve()),
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
    missing = [k for k in sections if not isinstance(header.get(k), dict)]
    if missing:
        raise ModelFileError(
            f"{path}: the model file does not match this lstmcast version's model (no '{missing[0]}' section)",
            hint="retrain with lstmcast train",
        )
    return header


def load_model(path: str | os.PathLike, device: str = "cpu"):
    """Rebuild the trained LSTMForecaster from a model file: (model, header)."""
    import torch

    from lstmcast.model import build_model
    from lstmcast.train import resolve_device

    header, tensors = load_artifact(path)
    _check_sections(header, path, ("model",))
    try:
        m = header["model"]
        cfg = ModelConfig.from_dict(m)
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
    header = dict(_check_sections(header, path))
    tensors = header.pop("tensors")
    header.pop("payload_sha256", None)
    header["file"] = {"path": str(path), "bytes": os.path.getsize(path), "tensors": len(tensors)}
    return header


def _model_and_data(
    model_path, data, device: str, max_gap: int | None = None, command: str = "predict"
):
    """Load a model and the panel it should read: DATA, or the file it was trained on."""
    model, header = load_model(model_path, device)
    recorded = Path(_check_sections(header, model_path)["data"]["path"])
    data = Path(data) if data is not None else recorded
    if data == recorded and not data.exists():
        raise DataError(
            f"{data}: the training data file recorded in the model no longer exists",
            hint=f"pass the data file: lstmcast {command} DATA",
        )
    return model, header, _load_for_model(data, _spec_from_header(header, max_gap)), data


def _load_for_model(data, spec: DataSpec) -> Panel:
    """Load data with a model's columns and frequency; say so plainly when the frequency differs."""
    try:
        return load_panel(data, spec)
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
        # Say so plainly when the data simply has another frequency than the model.
        try:
            other = load_panel(data, dataclasses.replace(spec, freq=None)).freq
        except DataError:
            other = None
        if other and other != spec.freq:
            raise DataError(
                f"{data}: the data's frequency is {other}, but the model was trained on {spec.freq} data",
                hint="resample the data to the model's frequency, or train a model for this data",
            ) from None
        raise


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
    """
    from lstmcast.ops import model_lock

    if output is not None:
        check_writable(output)
    with model_lock(model_path, "predict", lock_timeout):
        result = _predict_locked(
            model_path, data, horizon, device, max_gap, max_age, as_of, strict, fallback
        )
        if output is not None:
            write_table(result.forecast, output)
    return result


def _predict_locked(
    model_path, data, horizon, device, max_gap, max_age, as_of, strict, fallback=None
) -> PredictResult:
    from lstmcast.forecast import apply_choice, forecast_frame, forecast_panel
    from lstmcast.ops import check_age, drift_warnings

    as_of = as_of or dt.datetime.now(dt.timezone.utc)
    model, header, panel, data = _model_and_data(model_path, data, device, max_gap)
    check_age(header, model_path, max_age, as_of)
    cfg = model.cfg
    horizon = horizon or cfg.horizon
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
        warnings.append(
            f"horizon {horizon} is longer than the trained {cfg.horizon}: steps beyond it are forecast "
            "recursively and their intervals are too narrow"
        )
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
    per_series: pd.DataFrame
    summary: dict  # aggregate table, skill, settings
    raw: dict  # per-window forecasts and scores, for plots
    panel: Panel


def _spec_from_header(header: dict, max_gap: int | None = None) -> DataSpec:
    meta = header["data"]
    return DataSpec(
        time_col=meta["time_col"],
        target=",".join(meta["targets"]),
        id_col=meta["id_col"],
        freq=meta["freq"],
        max_gap=max_gap if max_gap is not None else meta.get("max_gap"),
        covariates=tuple(header.get("model", {}).get("covariates") or ()),
        past_covariates=tuple(header.get("model", {}).get("past_covariates") or ()),
    )


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
) -> EvaluateResult:
    """Rolling-origin backtest of a trained model (or of its recipe, retrained per fold)."""
    from lstmcast.evaluate import aggregate, backtest, per_series_table

    model, header, panel, data = _model_and_data(model_path, data, device, command="evaluate")
    refit_fn = None
    if refit:
        from lstmcast.train import fit_model

        m = header["model"]
        cfg = ModelConfig.from_dict(m)
        tcfg = TrainConfig(**{**header["train"], "device": device})

        def refit_fn(past: Panel):
            return fit_model(past, cfg, tcfg, train_callback).model

    if not header.get("lstm_trained", True):
        raise UsageError(
            f"{model_path} holds no LSTM (its training data was too short), so there is none to backtest",
            hint="train on longer series; lstmcast train reports the baselines' validation errors",
        )
    methods = _chosen_methods(header, panel, "auto", model_path, [])
    raw = backtest(model, panel, folds, horizon, step, season, refit_fn, callback, methods)
    per_series = per_series_table(panel, raw)
    summary = aggregate(per_series)
    trained_until = pd.Timestamp(header["data"]["last_timestamp"])
    overlap = not refit and _origins_before(panel, raw, trained_until)
    summary.update(
        {
            "data": str(data),
            "folds": folds,
            "horizon": raw["horizon"],
            "step": raw["step"],
            "season": raw["season"],
            "refit": refit,
            "series": int(per_series.shape[0]),
            "windows": int(len(raw["series"])),
            "mape_zero_actuals_skipped": int(np.sum(metrics.count_zero_actuals(raw["actual"]))),
            "folds_per_series": {
                "min": int(per_series["folds"].min()),
                "max": int(per_series["folds"].max()),
            },
            "overlaps_training": overlap,
        }
    )
    return EvaluateResult(per_series, summary, raw, panel)


def _origins_before(panel: Panel, raw: dict, trained_until: pd.Timestamp) -> bool:
    """True when some backtest window starts inside the data the model was trained on."""
    from lstmcast.freq import grid_ordinals

    first, _ = grid_ordinals(panel.first, panel.freq)
    until, _ = grid_ordinals(
        np.array([trained_until.to_datetime64()], dtype="datetime64[ns]"), panel.freq
    )
    return bool(((first[raw["series"]] + raw["origin"]) <= until[0]).any())


def plot(
    model_path: str | os.PathLike,
    output: str | os.PathLike,
    data: str | os.PathLike | None = None,
    series: list[str] | None = None,
    last: int | None = None,
    holdout: int | None = None,
    horizon: int | None = None,
    device: str = "cpu",
) -> list[str]:
    """Plot history and forecast (and, with `holdout`, the held-out actuals) of some series."""
    from lstmcast.forecast import forecast_at
    from lstmcast.freq import future_dates
    from lstmcast.plot import SeriesPlot, history_slice, plot_series

    model, header, panel, data = _model_and_data(model_path, data, device, command="plot")
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
    horizon = holdout or horizon or model.cfg.horizon
    last = last or 5 * horizon
    n = panel.lengths
    origin = np.array([n[i] - (holdout or 0) for i in chosen], dtype=np.int64)
    if (origin < 2).any():
        raise DataError(
            f"--holdout {holdout} leaves no history for series '{ids[chosen[int(np.argmin(origin))]]}'"
        )
    preds = forecast_at(model, panel, np.array(chosen, dtype=np.int64), origin, horizon)
    plots = []
    for k, i in enumerate(chosen):
        hist_ds, hist_y = history_slice(panel, i, int(origin[k]), last)
        fc_ds = future_dates(pd.Timestamp(hist_ds[-1]), panel.freq, horizon).to_numpy()
        actual = panel.series(i)[origin[k] : origin[k] + horizon] if holdout else None
        q = model.cfg.quantiles
        plots.append(
            SeriesPlot(
                ids[i],
                hist_ds,
                hist_y,
                fc_ds,
                preds[k, :, q.index(0.5)],
                preds[k, :, 0],
                preds[k, :, -1],
                actual,
            )
        )
    q = model.cfg.quantiles
    plot_series(plots, output, interval=f"{q[0]:g}–{q[-1]:g} quantile band")
    return [ids[i] for i in chosen]


def plot_backtest(result: EvaluateResult, output: str | os.PathLike, count: int = 3) -> list[str]:
    """Worst and best series of a backtest (by the model's MASE), last fold of each."""
    from lstmcast.freq import future_dates
    from lstmcast.plot import SeriesPlot, history_slice, plot_series

    raw, panel = result.raw, result.panel
    ranked = result.per_series.dropna(subset=["lstm_mase"]).sort_values("lstm_mase")
    picks = list(ranked["unique_id"].tail(count)[::-1]) + list(ranked["unique_id"].head(count))
    picks = list(dict.fromkeys(picks))
    ids = panel.ids.astype(str)
    plots = []
    for uid in picks:
        i = int(np.flatnonzero(ids == uid)[0])
        rows = np.flatnonzero(raw["series"] == i)
        w = rows[np.argmax(raw["origin"][rows])]
        o = int(raw["origin"][w])
        hist_ds, hist_y = history_slice(panel, i, o, 4 * raw["horizon"])
        fc_ds = future_dates(pd.Timestamp(hist_ds[-1]), panel.freq, raw["horizon"]).to_numpy()
        mase = float(
            result.per_series.loc[result.per_series["unique_id"] == uid, "lstm_mase"].iloc[0]
        )
        rank = "worst" if uid in list(ranked["unique_id"].tail(count)) else "best"
        p = raw["preds"][w]
        mid = raw["quantiles"].index(0.5)
        plots.append(
            SeriesPlot(
                uid,
                hist_ds,
                hist_y,
                fc_ds,
                p[:, mid],
                p[:, 0],
                p[:, -1],
                raw["actual"][w],
                note=f"{rank}, MASE {mase:.2f}",
            )
        )
    q = raw["quantiles"]
    plot_series(
        plots,
        output,
        title="Backtest: worst and best series (last fold)",
        interval=f"{q[0]:g}–{q[-1]:g} quantile band",
    )
    return picks
