"""What a model file holds for lstmcast: the header it writes, the model and schema it reads back.

container.py frames the file (header, tensors, checksum) and header.py checks every field;
this module gives them meaning: which header and tensors `train` writes, how `predict`,
`evaluate` and `plot` rebuild the network and the data schema from them, what `info` shows.
torch is imported only where weights are rebuilt, so `info` reads a model without it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path

import numpy as np
import pandas as pd

from lstmcast import __version__
from lstmcast.config import DataSpec, ModelConfig, TrainConfig
from lstmcast.data.panel import Panel
from lstmcast.errors import ModelFileError, UsageError
from lstmcast.files import check_paths, check_writable
from lstmcast.methods import uses_lstm
from lstmcast.metrics import BAND_SCALE
from lstmcast.modelfile.container import FORMAT_VERSION, load_artifact, read_header, save_artifact
from lstmcast.modelfile.header import check_model_header
from lstmcast.text import plural, timestamp

__all__ = [
    "SCALING_TEXT",
    "save_model",
    "check_sections",
    "load_model",
    "model_info",
    "spec_from_header",
    "check_outputs",
    "check_evaluate_outputs",
    "recorded_path",
]

SCALING_TEXT = {
    "std": "per window: mean and standard deviation of the lookback, undone on output",
    "meanabs": "per window: divided by the mean absolute value of the lookback, undone on output",
    "log": "per window: log values, then their mean and standard deviation, undone on output",
}


def save_model(
    path,
    model,
    panel: Panel,
    cfg: ModelConfig,
    train_cfg: TrainConfig,
    summary,
    spec: DataSpec,
    verdict,
) -> None:
    """Write the model file of a training run atomically: settings, data schema, metrics, the
    per-series choice of method, the weights (none when `model` is None) and each series'
    training range. `summary` is the run's api.TrainSummary, `verdict` its validation verdict."""
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
            "last_timestamp": timestamp(panel.last.max()),
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
        # (horizon x quantiles, in units of each series' band scale: metrics.band_scale);
        # a mix's apart, so a reader from before mixes had their own bands takes the file.
        "lstm_trained": model is not None,
        "methods": {str(i): str(m) for i, m in zip(panel.ids, verdict.methods, strict=True)},
        "method_widths": {k: v for k, v in verdict.widths.items() if not uses_lstm(k)},
        "mix_widths": {k: v for k, v in verdict.widths.items() if uses_lstm(k)},
        "band_scale": BAND_SCALE,  # the unit of those offsets: metrics.band_scale
    }
    tensors = {}
    if model is not None:
        tensors = {
            f"weights.{k}": v.detach().cpu().float().numpy() for k, v in model.state_dict().items()
        }
    # Each series' training range, for the level-shift guard of predict.
    tensors["data.min"] = np.minimum.reduceat(panel.values, panel.offsets[:-1])
    tensors["data.max"] = np.maximum.reduceat(panel.values, panel.offsets[:-1])
    # Each series' last timestamp (ns), for predict's guard against a feed that stopped.
    tensors["data.last"] = panel.last.astype("datetime64[ns]").view(np.int64)
    save_artifact(path, header, tensors)


def check_sections(header: dict, path, sections: tuple[str, ...] = ("model", "data")) -> dict:
    """The header, once every field lstmcast reads has been checked (ModelFileError if not)."""
    check_model_header(header, path, sections)
    return header


def load_model(path: str | os.PathLike, device: str = "cpu"):
    """Rebuild the trained LSTMForecaster from a model file: (model, header)."""
    import torch

    from lstmcast.distributed import resolve_device
    from lstmcast.methods.lstm import build_model

    header, tensors = load_artifact(path, check=lambda h: check_sections(h, path, ("model",)))
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
    header = dict(check_sections(header, path))  # every field info prints, checked
    spec_from_header(header, path=path)  # and the frequency
    scored = ((header.get("metrics") or {}).get("validation") or {}).get("methods") or {}
    if "combined" in scored:  # the name of "chosen" in files written before it was renamed
        scored["chosen"] = scored.pop("combined")
    tensors = header.pop("tensors")
    header.pop("payload_sha256", None)
    header["file"] = {"path": str(path), "bytes": os.path.getsize(path), "tensors": len(tensors)}
    return header


def spec_from_header(header: dict, given: DataSpec = DataSpec(), path="model file") -> DataSpec:
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
            f"--target {given.target}: the model reads {plural(len(meta['targets']), 'target column')} "
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


def check_evaluate_outputs(outputs: dict, model_path, data) -> None:
    """Refuse outputs that collide or cannot be written, and unknown table types, up front."""
    from lstmcast.data.io import output_format

    check_outputs(outputs, model_path, data)
    for flag in ("--output", "--forecasts"):
        if outputs[flag] is not None:
            output_format(outputs[flag], flag)
    for path in outputs.values():
        if path is not None:
            check_writable(path)


def recorded_path(data) -> str:
    """The data file as a model records it: absolute, or `-` for standard input."""
    return "-" if str(data) == "-" else str(Path(data).resolve())
