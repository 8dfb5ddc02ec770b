"""Which method forecasts each series: the model file's per-series choice, and the default
for a series it does not know (new since training)."""

from __future__ import annotations

import numpy as np

from lstmcast.data.panel import Panel
from lstmcast.errors import UsageError

__all__ = ["FALLBACKS", "chosen_methods", "new_series", "default_method"]

FALLBACKS = ("auto", "none", "naive")  # naive: the name of auto before it chose among baselines


def chosen_methods(
    header: dict, panel: Panel, fallback: str, model_path, warnings: list[str]
) -> np.ndarray:
    """Per panel series: the method it is forecast by (a name of the methods registry).

    auto: the model file's choice; series it does not know by default_method. none: the LSTM.
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
    ids, lookback = panel.ids.astype(str), header["model"]["lookback"]
    default = [default_method(header, int(n), lookback) for n in panel.lengths]
    return np.array([recorded.get(i, d) for i, d in zip(ids, default, strict=True)], dtype=str)


def new_series(header: dict, panel: Panel) -> np.ndarray:
    """(S,) bool: the series the model file has no choice of method for (new since training)."""
    known = header.get("methods")
    if known is None:
        known = header["data"].get("ids") or ()
    known = set(known)
    return np.array([i not in known for i in panel.ids.astype(str)], dtype=bool)


def default_method(header: dict, length: int, lookback: int | None = None) -> str:
    """The method of a series the model file has no choice for (a new series): the one that
    won over all series at validation; in an older file the LSTM, or without one seasonal
    naive (naive when shorter than a season).

    A series shorter than `lookback` has no history the LSTM was validated on (its lookback
    would be padded): it gets the per-series method chosen over all series instead, whose
    band comes from that method's errors scaled to the series' own history."""
    from lstmcast import methods

    validation = (header.get("metrics") or {}).get("validation") or {}
    season = header["model"]["season"]
    simplest = "seasonal_naive" if season > 1 and length >= season else "naive"
    chosen = validation.get("default_method") or (
        "lstm" if header.get("lstm_trained", True) else simplest
    )
    if lookback is None or length >= lookback or not methods.uses_lstm(chosen):
        return chosen
    local = validation.get("local_method") or methods.partner(chosen) or simplest
    return local if local in (header.get("method_widths") or {}) else chosen  # older files
