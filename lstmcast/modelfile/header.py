"""What lstmcast reads from a model file's header, checked before anything is built from it.

A model file comes from outside, so every field the loader, `predict`, `evaluate` and `info`
read is checked for its type and range here, and the tensor table is checked against the
shapes the recorded configuration builds (computed by arithmetic: no torch, no allocation).
Only then are weights read. Every failure is a ModelFileError (exit 4) naming the field.

The model and training sections are checked by the declarations of ModelConfig's and
TrainConfig's fields (their type and `file` bounds, lstmcast.options); a field that holds a
list has its checker in LIST_FIELDS. To add another header field: give it a checker in the
table of its section (DATA_FIELDS, TOP_FIELDS, METRICS_FIELDS), or a name in EXTRA_TENSORS for
a tensor.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
import typing
from collections.abc import Callable

from lstmcast import methods
from lstmcast.config import MAX_MODEL_QUANTILES, MAX_PERIOD, MAX_STEPS, ModelConfig, TrainConfig
from lstmcast.errors import ModelFileError, UsageError
from lstmcast.modelfile.container import MAX_HEADER
from lstmcast.options import Stored, stored_of

__all__ = [
    "check_model_header",
    "check_offsets_room",
    "weight_shapes",
    "MODEL_FIELDS",
    "TRAIN_FIELDS",
]

MAX_LIST = 10_000_000  # series ids, columns: one per series, bounded by the header size anyway

Check = Callable[[object], str | None]  # None when the value is fine, else what it should be


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def integer(lo: int = 0, hi: int | None = None) -> Check:
    def check(v):
        if not _is_int(v) or v < lo or (hi is not None and v > hi):
            return f"an integer from {lo}" + (f" to {hi:,}" if hi is not None else " up")

    return check


def number(lo: float | None = None, hi: float | None = None) -> Check:
    def check(v):
        if not _is_number(v) or (lo is not None and v < lo) or (hi is not None and v > hi):
            span = f" from {lo:g}" if lo is not None else ""
            return "a finite number" + span + (f" to {hi:g}" if hi is not None else "")

    return check


def text(v) -> str | None:
    return None if isinstance(v, str) else "a string"


def flag(v) -> str | None:
    return None if isinstance(v, bool) else "true or false"


def one_of(*choices: str) -> Check:
    def check(v):
        if not isinstance(v, str) or v not in choices:
            return "one of " + ", ".join(choices)

    return check


def optional(inner: Check) -> Check:
    def check(v):
        return None if v is None else inner(v)

    return check


def list_of(inner: Check, lo: int = 0, hi: int = MAX_LIST) -> Check:
    def check(v):
        if not isinstance(v, list) or not lo <= len(v) <= hi:
            return f"a list of {lo} to {hi:,} items"
        for item in v:
            why = inner(item)
            if why:
                return f"a list of {lo} to {hi:,} items, each {why}"

    return check


def table_of(key: Check, value: Check, hi: int = MAX_LIST) -> Check:
    """A JSON object whose keys and values pass their checks."""

    def check(v):
        if not isinstance(v, dict) or len(v) > hi:
            return f"a table of up to {hi:,} entries"
        for k, item in v.items():
            why = key(k) or value(item)
            if why:
                return f"a table whose entries are each {why}"

    return check


def real(v) -> str | None:
    """Any float the file holds (NaN marks a score with no window)."""
    return None if isinstance(v, float) or _is_int(v) else "a number"


def timestamp(aware: bool) -> Check:
    def check(v):
        try:
            t = dt.datetime.fromisoformat(v)
        except (TypeError, ValueError):
            return "an ISO 8601 time"
        if aware and t.tzinfo is None:
            return "an ISO 8601 time with its zone"

    return check


def quantiles(v) -> str | None:
    why = list_of(number(), 1, MAX_MODEL_QUANTILES)(v)
    if why or any(not 0 < q < 1 for q in v) or 0.5 not in v or sorted(set(v)) != v:
        return "a sorted list of distinct numbers between 0 and 1, including 0.5"


METHODS = methods.names()  # the registry's: the LSTM first, then the per-series methods
# The config fields that hold lists; the others are checked by their declaration.
LIST_FIELDS: dict[str, Check] = {
    "quantiles": quantiles,
    "periods": optional(list_of(number(1e-9, float(MAX_PERIOD)), 1, 64)),
    "covariates": optional(list_of(text, 0, 1_024)),
    "past_covariates": optional(list_of(text, 0, 1_024)),
}
# The fields every model file has (ModelConfig.from_dict cannot default them).
MODEL_REQUIRED = ("lookback", "horizon", "hidden_size", "layers", "quantiles", "season", "patch")


def declared_checks(cls, required: tuple[str, ...] = ()) -> dict[str, Check]:
    """One checker per field of a config class: its type, inside its declared `file` bounds.

    A field that may be None may be None in a file too, unless every file holds it: the
    lookback a file records was resolved from the data.
    """
    hints = typing.get_type_hints(cls)
    checks = {}
    for field in dataclasses.fields(cls):
        kinds = typing.get_args(hints[field.name]) or (hints[field.name],)
        check = LIST_FIELDS.get(field.name) or _check(kinds[0], stored_of(field), field.name)
        if type(None) in kinds and field.name not in required and field.name not in LIST_FIELDS:
            check = optional(check)
        checks[field.name] = check
    return checks


def _check(kind: type, bounds: Stored, name: str) -> Check:
    """A value of `kind` (bool, int, float or str) inside the bounds a model file may hold."""
    if kind is bool:
        return flag
    if kind is int:
        assert bounds.lo is not None, f"{name}: declare the bounds of a model file, file=(lo, hi)"
        return integer(int(bounds.lo), bounds.hi)
    if kind is float:
        return number(bounds.lo, bounds.hi)
    assert kind is str, f"{name}: a model file holds no {kind}; give it a checker in LIST_FIELDS"
    return one_of(*bounds.choices) if bounds.choices else text


MODEL_FIELDS = declared_checks(ModelConfig, MODEL_REQUIRED)
TRAIN_FIELDS = declared_checks(TrainConfig)

DATA_FIELDS: dict[str, Check] = {
    "path": text,
    "layout": text,
    "time_col": text,
    "targets": list_of(text, 1),
    "id_col": optional(text),
    "freq": text,
    "max_gap": optional(integer(0)),
    "series": integer(0),
    "rows": integer(0),
    "last_timestamp": timestamp(aware=False),
    "source_columns": optional(list_of(text)),
    "ids": optional(list_of(text)),
    "date_format": optional(text),
}
DATA_REQUIRED = ("path", "layout", "time_col", "targets", "id_col", "freq", "series", "rows",
                 "last_timestamp")  # fmt: skip

OFFSETS = list_of(list_of(real, 1, MAX_MODEL_QUANTILES), 1, MAX_STEPS)  # (H, Q)
TOP_FIELDS: dict[str, Check] = {
    "format_version": integer(1),
    "lstmcast_version": text,
    "created_at": timestamp(aware=True),
    "scaling": text,
    "intervals": text,
    # the method that forecasts each series, and each baseline's (H, Q) interval offsets
    "lstm_trained": flag,
    "methods": table_of(text, one_of(*METHODS)),
    "method_widths": table_of(one_of(*methods.local_names()), OFFSETS),
    # a mix's own offsets (from its own errors); files from before them have none
    "mix_widths": table_of(one_of(*map(methods.mix, methods.local_names())), OFFSETS),
    "band_scale": text,
}
TOP_REQUIRED = ("format_version", "lstmcast_version", "created_at")

METRICS_FIELDS: dict[str, Check] = {
    "epochs": integer(0),
    "steps": integer(0),
    "seconds": number(0.0),
    "device": text,
}

# Tensors beside the weights: name -> dtype; each holds one value per series id.
EXTRA_TENSORS = {
    "data.min": "float32",
    "data.max": "float32",
    "data.worse_than_seasonal_naive": "int32",
    "data.last": "int64",  # each series' last timestamp, ns since 1970
}


OFFSET_BYTES = 25  # the most one interval offset takes in the header: '-1.2345678901234567e-30,'
OFFSETS_SHARE = 0.75  # of MAX_HEADER: the rest holds the series ids, the choice and the metrics


def check_offsets_room(horizon: int, quantiles: int) -> None:
    """Refuse (UsageError, exit 2) before training a horizon and quantiles whose interval
    offsets, (horizon x quantiles) for each per-series method, would make a header that no
    command reads back (over OFFSETS_SHARE of MAX_HEADER)."""
    count = len(methods.local_names())
    fits = int(MAX_HEADER * OFFSETS_SHARE) // (OFFSET_BYTES * count * quantiles)
    if quantiles > MAX_MODEL_QUANTILES or horizon > fits:
        raise UsageError(
            f"--horizon {horizon:,} with {quantiles} quantiles: the model file would hold "
            f"{horizon * quantiles * count:,} interval offsets ({count} methods), more than "
            "its header can",
            hint=f"pass --horizon {fits:,} or less, or fewer --quantiles"
            if fits
            else f"pass at most {MAX_MODEL_QUANTILES - 1} --quantiles",
        )


def check_model_header(header: dict, path: str | os.PathLike, sections=("model", "data")):
    """Check every field lstmcast reads and the tensor table; return the ModelConfig.

    `header` has passed container.read_header (framing, tensor table, byte ranges). Raises
    ModelFileError (exit 4) for a missing section, a field of the wrong type or range, or
    a tensor that the recorded configuration would not build.
    """
    for name in sections:
        if not isinstance(header.get(name), dict):
            raise ModelFileError(
                f"{path}: the model file does not match this lstmcast version's model (no '{name}' section)",
                hint="retrain with lstmcast train",
            )
    # A full header (as `lstmcast train` writes it) says when and by what it was written.
    _fields(header, TOP_FIELDS, TOP_REQUIRED if "data" in sections else (), "", path)
    model = header.get("model")
    if isinstance(model, dict):
        unknown = sorted(set(model) - set(MODEL_FIELDS))
        if unknown:
            raise _unknown(path, f"model.{unknown[0]}")
        _fields(model, MODEL_FIELDS, MODEL_REQUIRED, "model.", path)
    if isinstance(header.get("data"), dict):
        _fields(header["data"], DATA_FIELDS, DATA_REQUIRED, "data.", path)
    _check_train(header.get("train"), path)
    _check_metrics(header.get("metrics"), path)
    if not isinstance(model, dict):
        return None
    cfg = ModelConfig.from_dict(model)
    if cfg.lookback % cfg.patch:
        raise _bad(path, "model.patch", f"a divisor of the lookback {cfg.lookback}")
    _check_tensors(header, cfg, path)
    _check_choice(header, cfg, path)
    return cfg


def _check_choice(header: dict, cfg: ModelConfig, path) -> None:
    """The per-series choice agrees with itself: every baseline it names has its (H, Q)
    interval offsets, and a file without an LSTM forecasts no series by the LSTM."""
    chosen, widths = header.get("methods") or {}, header.get("method_widths") or {}
    if header.get("lstm_trained") is False and any(map(methods.uses_lstm, chosen.values())):
        raise _bad(path, "methods", "baselines only (the file holds no LSTM)")
    shape = (cfg.horizon, len(cfg.quantiles))
    for field in ("method_widths", "mix_widths"):
        for name, offsets in (header.get(field) or {}).items():
            if (len(offsets), len(offsets[0])) != shape or any(len(r) != shape[1] for r in offsets):
                raise _bad(path, f"{field}.{name}", f"{shape[0]} rows of {shape[1]} numbers")
    own = {methods.partner(m) or m for m in chosen.values()}  # a mix's: its partner's
    missing = sorted(own - {"lstm"} - set(widths))
    if missing:
        raise _bad(path, "method_widths", f"a table with the offsets of {missing[0]}")


def _fields(section: dict, checks: dict[str, Check], required, where: str, path) -> None:
    for name in required:
        if name not in section:
            raise ModelFileError(
                f"{path}: the model file's header has no field '{where}{name}'",
                hint="retrain with lstmcast train, or restore the file from a backup",
            )
    for name, check in checks.items():
        if name in section:
            why = check(section[name])
            if why:
                raise _bad(path, where + name, why, section[name])


def _check_train(train, path) -> None:
    """The training settings `evaluate --refit` rebuilds a TrainConfig from."""
    if train is None:
        return
    if not isinstance(train, dict):
        raise _bad(path, "train", "a table of training settings", train)
    unknown = sorted(set(train) - set(TRAIN_FIELDS))
    if unknown:
        raise _unknown(path, f"train.{unknown[0]}")
    _fields(train, TRAIN_FIELDS, (), "train.", path)


def _check_metrics(metrics, path) -> None:
    """The training record `info` prints."""
    if metrics is None:
        return
    if not isinstance(metrics, dict):
        raise _bad(path, "metrics", "a table of training metrics", metrics)
    if metrics:
        _fields(metrics, METRICS_FIELDS, tuple(METRICS_FIELDS), "metrics.", path)
        checks = {"lstm_trained": flag, "forecast_by": table_of(one_of(*METHODS), integer(0))}
        _fields(metrics, checks, (), "metrics.", path)
    validation = metrics.get("validation")
    if not validation:
        return
    if not isinstance(validation, dict) or not isinstance(validation.get("methods"), dict):
        raise _bad(path, "metrics.validation", "a table with 'methods'")
    every = validation.get("all_windows", {})
    if not isinstance(every, dict):
        raise _bad(path, "metrics.validation.all_windows", "a table of methods")
    tables = [("methods", validation["methods"]), ("all_windows", every)]
    for key, table in tables:
        for method, scores in table.items():
            # NaN is a real score (no window to score), so any float passes here.
            ok = isinstance(scores, dict) and all(
                v is None or isinstance(v, float) or _is_int(v) for v in scores.values()
            )
            if not ok:
                raise _bad(path, f"metrics.validation.{key}.{method}", "a table of numbers")
    counts = optional(integer(0))
    checks = {
        "interval": optional(list_of(number(), 2, 2)),
        "skill_vs_seasonal_naive": optional(number()),
        "best_baseline": optional(one_of(*methods.local_names())),
        "skill_vs_best_baseline": optional(real),
        "beats_best_baseline": optional(flag),
        "series_validated": counts,
        "series_lstm_beats_best_baseline": counts,
        "baseline_windows": counts,
        "series_without_windows": counts,
        "chosen": optional(table_of(one_of(*METHODS), integer(0))),
        "verdict": optional(one_of("beats", "ties", "loses")),
        "skill_interval": optional(list_of(real, 2, 2)),
        "default_method": optional(one_of(*METHODS)),
        "local_method": optional(one_of(*methods.local_names())),
        "untested": optional(list_of(text, 0, MAX_LIST)),
    }
    _fields(validation, checks, (), "metrics.validation.", path)
    calibration = validation.get("calibration")
    if calibration is not None and not isinstance(calibration, dict):
        raise _bad(path, "metrics.validation.calibration", "a table")
    if calibration:
        checks = {"cross_fitted_coverage": number()}
        _fields(calibration, checks, (), "metrics.validation.calibration.", path)


def weight_shapes(cfg: ModelConfig) -> dict[str, tuple[int, ...]]:
    """The state-dict shapes model.build_model(cfg) has, by arithmetic (tests keep them in step)."""
    hidden, n_q = cfg.hidden_size, len(cfg.quantiles)
    cycles = cfg.periods or (float(cfg.season),)
    n_future = len(cfg.covariates)
    n_cov = n_future + len(cfg.past_covariates)
    inputs = cfg.patch + 2 * len(cycles) + cfg.patch * n_cov
    one: dict[str, tuple[int, ...]] = {}
    for k in range(cfg.layers):
        one[f"lstm.weight_ih_l{k}"] = (4 * hidden, inputs if k == 0 else hidden)
        one[f"lstm.weight_hh_l{k}"] = (4 * hidden, hidden)
        one[f"lstm.bias_ih_l{k}"] = (4 * hidden,)
        one[f"lstm.bias_hh_l{k}"] = (4 * hidden,)
    one["head.0.weight"] = (hidden, hidden + cfg.horizon * n_future)
    one["head.0.bias"] = (hidden,)
    one["head.3.weight"] = (cfg.horizon * n_q, hidden)
    one["head.3.bias"] = (cfg.horizon * n_q,)
    one["calibration"] = (cfg.horizon, n_q)  # (n_q,) in files from before per-step offsets
    if cfg.skip and cfg.gate:
        one["gate.weight"] = (cfg.horizon, hidden)
        one["gate.bias"] = (cfg.horizon,)
    mixed = cfg.mixed_cycles
    if mixed > 1:
        one["cycle_mix.weight"] = (cfg.horizon * mixed, hidden)
        one["cycle_mix.bias"] = (cfg.horizon * mixed,)
    if n_future:
        one["future_step.weight"] = (n_q, n_future * (2 if cfg.skip else 1))
        one["future_step.bias"] = (n_q,)
    if cfg.ensemble == 1:
        return one
    shapes = {f"members.{i}.{k}": s for i in range(cfg.ensemble) for k, s in one.items()}
    shapes["calibration"] = (cfg.horizon, n_q)
    return shapes


def _check_tensors(header: dict, cfg: ModelConfig, path) -> None:
    table = header["tensors"]
    expected = {f"weights.{k}": s for k, s in weight_shapes(cfg).items()}
    if header.get("lstm_trained") is False:  # too little data: every series has a baseline
        expected = {}
    # Files from before calibration lack it; the loader puts zeros there.
    optional_names = {k for k in expected if k.endswith("calibration")}
    for name in expected:
        if name not in table and name not in optional_names:
            raise ModelFileError(
                f"{path}: the model file has no tensor '{name}', which its configuration needs",
                hint="retrain with lstmcast train, or restore the file from a backup",
            )
    ids = header["data"].get("ids") if isinstance(header.get("data"), dict) else None
    for name, entry in table.items():
        if name in expected:
            want, dtype = expected[name], "float32"
        elif name in EXTRA_TENSORS:
            # One value per series: as many as the recorded ids (any count without ids).
            count = len(ids) if ids is not None else (entry["shape"] or [-1])[0]
            want, dtype = (count,), EXTRA_TENSORS[name]
        else:
            raise ModelFileError(
                f"{path}: the model file holds tensor '{_short(name)}', which its configuration does not build",
                hint="retrain with lstmcast train, or restore the file from a backup",
            )
        shape = tuple(entry["shape"])
        if name.endswith("calibration") and shape == want[-1:]:
            want = shape  # one offset per quantile, as files from before per-step offsets hold
        if entry["dtype"] != dtype or shape != want:
            raise ModelFileError(
                f"{path}: tensor '{name}' is {entry['dtype']} {list(shape)}, but the recorded "
                f"configuration needs {dtype} {list(want)}",
                hint="retrain with lstmcast train, or restore the file from a backup",
            )


def _bad(path, field: str, expected: str, value=None) -> ModelFileError:
    got = "" if value is None else f", got {_short(repr(value))}"
    return ModelFileError(
        f"{path}: model file header field '{_short(field)}' must be {expected}{got}",
        hint="retrain with lstmcast train, or restore the file from a backup",
    )


def _unknown(path, field: str) -> ModelFileError:
    # The loader rebuilds ModelConfig and TrainConfig from these sections: a field they do
    # not have cannot be ignored safely.
    return ModelFileError(
        f"{path}: model file header field '{_short(field)}' is unknown to this lstmcast",
        hint="upgrade lstmcast (pip install -U lstmcast), or retrain the model",
    )


def _short(text: str, limit: int = 60) -> str:
    """At most `limit` printable characters of a value from the file, for one message line."""
    text = "".join(c if c.isprintable() else "?" for c in str(text))
    return text if len(text) <= limit else text[: limit - 1] + "…"
