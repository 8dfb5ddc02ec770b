"""The --json documents of every command, with their schema version, and the one printer."""

from __future__ import annotations

import json
import sys
from typing import Any

from lstmcast.text import json_float

__all__ = [
    "SCHEMA_VERSION",
    "document",
    "train_document",
    "train_log_fields",
    "predict_log_fields",
    "info_document",
    "predict_document",
    "plot_document",
    "evaluate_document",
    "print_json",
]


SCHEMA_VERSION = 1  # raised when a key of a --json document is renamed or removed


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, float):
        return json_float(obj)  # the shortest text of its float32 value; NaN and inf: null
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "item"):  # numpy scalars
        return _jsonable(obj.item())
    return obj


def print_json(doc: Any) -> None:
    """Exactly one JSON document on stdout."""
    sys.stdout.write(json.dumps(_jsonable(doc), indent=2, default=str) + "\n")
    sys.stdout.flush()


def document(command: str | None, body: dict) -> dict:
    """A --json document: which command wrote it and in which schema (docs/json.md), then its
    keys. Every command names the same things alike: `data`, `model`, `output` for paths,
    `series` for a count of series, `warnings` for the warning texts."""
    return {"command": command, "schema_version": SCHEMA_VERSION, **body}


def train_document(summary: dict) -> dict:
    s = dict(summary)
    paths = {"data": s.pop("data_path"), "model": s.pop("model_path")}
    model_config = s.pop("model")
    return document("train", {**paths, **s, "model_config": model_config})


def train_log_fields(doc: dict) -> dict:
    """What `train` adds to its --log-file line, from its document (train_document): the
    verdict against the best other method (beats, ties, loses; none without an LSTM), its
    skill, and the series each method forecasts (`forecast_by=lstm:12,ets:3`)."""
    v = doc["validation"]
    skill = v.get("skill_vs_best_baseline")
    return {
        "verdict": v.get("verdict") or "none",
        "skill": None if skill is None else f"{skill:+.3f}",
        "best_baseline": v.get("best_baseline"),
        "forecast_by": ",".join(f"{m}:{n}" for m, n in doc["forecast_by"].items()) or None,
    }


def predict_log_fields(result) -> dict:
    """What `predict` adds to its --log-file line: the data's newest timestamp, the first and
    last timestamps forecast (ISO 8601), and how many series lag the others or are new."""
    import pandas as pd

    from lstmcast.text import time_text

    ds = result.forecast["ds"]
    stamps = pd.DatetimeIndex([result.last_timestamp, ds.min(), ds.max()])
    # One form for the three (dates, or date and time); none for a forecast without rows.
    last, first, final = (text or None for text in time_text(stamps))
    return {
        "data_last": last, "forecast_first": first, "forecast_last": final,
        "lagging": len(result.lagging), "new": len(result.new),
    }  # fmt: skip


def info_document(header: dict) -> dict:
    h = dict(header)
    file, data, model, train = h.pop("file"), h.pop("data"), h.pop("model"), h.pop("train", None)
    return document(
        "info",
        {
            "model": file["path"],
            "bytes": file["bytes"],
            "data": data.get("path"),
            "series": data.get("series"),
            **h,
            "train_config": train,
            "model_config": model,
            "data_schema": data,
        },
    )


def predict_document(result, model, output) -> dict:
    """The `predict --json` document: the forecast itself only when it went to no file."""
    from lstmcast.data.io import records

    body = {
        "data": result.data_path, "model": str(model), "output": str(output) if output else None,
        "horizon": result.horizon, "series": result.series,
        "lagging": result.lagging, "new": result.new, "warnings": result.warnings,
        "forecast": None if output else records(result.forecast),
    }  # fmt: skip
    return document("predict", body)


def plot_document(result, data, model, output) -> dict:
    """The `plot --json` document: the series drawn, as a count and by id, and how many the
    data file holds."""
    drawn = result.series
    body = {"data": result.data or (str(data) if data else None), "model": str(model)}
    body.update(output=str(output), series=len(drawn), series_ids=drawn)
    body.update(series_in_data=result.total)
    return document("plot", {**body, "warnings": result.warnings})


def evaluate_document(result, model, output, plot, forecasts) -> dict:
    """The `evaluate --json` document: the backtest's summary, the paths it wrote (null when
    not asked for), its warnings and the per-series table."""
    from lstmcast.data.io import records
    from lstmcast.metrics import as_written

    paths = {"model": str(model), "output": str(output) if output else None}
    paths["plot"] = str(plot) if plot else None
    paths["forecasts"] = str(forecasts) if forecasts else None
    body = {**result.summary, **paths, "warnings": result.warnings}
    return document("evaluate", {**body, "per_series": records(as_written(result.per_series))})
