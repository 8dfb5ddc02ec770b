"""Honest scoring: the model against naive baselines on exactly the same held-out windows."""

from __future__ import annotations

import numpy as np

from lstmcast import metrics
from lstmcast.schema import Panel

__all__ = ["window_actuals", "baseline_forecasts", "score_windows", "holdout_metrics", "BASELINES"]

BASELINES = ("naive", "seasonal_naive", "drift")


def window_actuals(
    panel: Panel, series: np.ndarray, origin: np.ndarray, horizon: int
) -> np.ndarray:
    """Observed values (B, horizon) from each origin on."""
    idx = panel.offsets[series][:, None] + origin[:, None] + np.arange(horizon)[None, :]
    return panel.values[idx].astype(np.float64)


def baseline_forecasts(
    panel: Panel, series: np.ndarray, origin: np.ndarray, horizon: int, season: int
) -> dict[str, np.ndarray]:
    """Naive, seasonal naive and drift forecasts (B, horizon) from the history before each origin."""
    out = {name: np.empty((len(series), horizon)) for name in BASELINES}
    for b, (s, o) in enumerate(zip(series, origin, strict=True)):
        history = panel.series(int(s))[: int(o)].astype(np.float64)
        out["naive"][b] = metrics.naive_forecast(history, horizon)
        out["seasonal_naive"][b] = metrics.seasonal_naive_forecast(history, horizon, season)
        out["drift"][b] = metrics.drift_forecast(history, horizon)
    return out


def mase_scales(panel: Panel, series: np.ndarray, origin: np.ndarray, season: int) -> np.ndarray:
    """MASE denominators: in-sample seasonal-naive MAE of the history before each origin."""
    return np.array(
        [
            metrics.mase_scale(panel.series(int(s))[: int(o)].astype(np.float64), season)
            for s, o in zip(series, origin, strict=True)
        ]
    )


def score_windows(
    actual: np.ndarray,
    point: np.ndarray,
    scale: np.ndarray,
    lower: np.ndarray | None = None,
    upper: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Per-window metrics (each (B,)) of one method's forecasts."""
    scores = {
        "mae": metrics.mae(actual, point),
        "rmse": metrics.rmse(actual, point),
        "smape": metrics.smape(actual, point),
        "mape": metrics.mape(actual, point),
        "mase": metrics.mase(actual, point, scale),
    }
    if lower is not None and upper is not None:
        scores["coverage"] = np.array(
            [metrics.coverage(a, lo, hi) for a, lo, hi in zip(actual, lower, upper, strict=True)]
        )
        scores["width"] = np.array(
            [metrics.interval_width(lo, hi) for lo, hi in zip(lower, upper, strict=True)]
        )
    return scores


def _mean(x: np.ndarray) -> float | None:
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    return float(x.mean()) if len(x) else None


def holdout_metrics(
    model, panel: Panel, series: np.ndarray, origin: np.ndarray, season: int
) -> dict:
    """The model's validation errors beside naive and seasonal naive on the same windows.

    Means over windows; MASE skips windows whose history is constant (scale 0). `skill` is
    1 - MASE(model) / MASE(seasonal naive): above 0 the model beats seasonal naive.
    """
    from lstmcast.forecast import forecast_at

    horizon = model.cfg.horizon
    quantiles = model.cfg.quantiles
    preds = forecast_at(model, panel, series, origin, horizon).astype(np.float64)
    actual = window_actuals(panel, series, origin, horizon)
    scale = mase_scales(panel, series, origin, season)
    base = baseline_forecasts(panel, series, origin, horizon, season)
    lstm = score_windows(
        actual, preds[:, :, quantiles.index(0.5)], scale, preds[:, :, 0], preds[:, :, -1]
    )
    table = {"lstm": {k: _mean(v) for k, v in lstm.items()}}
    for name in ("naive", "seasonal_naive"):
        table[name] = {k: _mean(v) for k, v in score_windows(actual, base[name], scale).items()}
    lstm_mase, snaive_mase = table["lstm"]["mase"], table["seasonal_naive"]["mase"]
    skill = 1 - lstm_mase / snaive_mase if lstm_mase is not None and snaive_mase else None
    return {
        "windows": len(series),
        "horizon": horizon,
        "season": season,
        "interval": [quantiles[0], quantiles[-1]],
        "methods": table,
        "skill_vs_seasonal_naive": skill,
        "beats_seasonal_naive": skill is not None and skill > 0,
    }
