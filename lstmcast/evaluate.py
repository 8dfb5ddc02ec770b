"""Honest scoring: the model against every other method on exactly the same held-out windows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lstmcast import methods, metrics
from lstmcast.data.freq import grid_times
from lstmcast.data.panel import Panel
from lstmcast.errors import DataError
from lstmcast.methods import fitted_names
from lstmcast.text import plural
from lstmcast.windows import backtest_origins

__all__ = [
    "window_actuals",
    "local_forecasts",
    "score_windows",
    "backtest",
    "BacktestResult",
    "backtest_frame",
    "backtest_summary",
    "ranked_by_skill",
]


def window_actuals(
    panel: Panel, series: np.ndarray, origin: np.ndarray, horizon: int
) -> np.ndarray:
    """Observed values (B, horizon) from each origin on."""
    idx = panel.offsets[series][:, None] + origin[:, None] + np.arange(horizon)[None, :]
    return panel.values[idx].astype(np.float64)


def local_forecasts(
    panel: Panel,
    series: np.ndarray,
    origin: np.ndarray,
    horizon: int,
    season: int,
    names: tuple[str, ...] | None = None,
    fitted_rows: np.ndarray | None = None,
    workers: int | None = None,
) -> dict[str, np.ndarray]:
    """Each per-series method's point forecasts (B, horizon) from the history before each
    origin (every local method of the registry unless `names`). A fitted method (ETS,
    Theta) forecasts only the windows in `fitted_rows` (B,) when given, NaN elsewhere, in
    `workers` processes when enough windows repay them (methods.forecast_many)."""
    out = {}
    for name in names or methods.local_names():
        method = methods.get(name)
        rows = np.arange(len(series))
        if method.fitted and fitted_rows is not None:
            rows = np.flatnonzero(fitted_rows)
        if method.members and all(m in out for m in method.members):
            out[name] = np.mean([out[m] for m in method.members], axis=0)  # no fit again
            continue
        histories = [panel.series(int(series[b]))[: int(origin[b])] for b in rows]
        out[name] = np.full((len(series), horizon), np.nan)
        if len(rows):
            point = methods.forecast_many(name, histories, horizon, season, workers)
            positive = np.array([h.min() > 0 for h in histories])
            point[positive] = np.maximum(point[positive], 0)  # as predict floors them
            out[name][rows] = point
    return out


FITTED_FOLDS = 3  # a fitted method (ETS, Theta) is scored on each series' latest windows,
FITTED_WINDOWS = 150  # and on about this many in all: each window costs a fit (0.05-0.5 s)


def fitted_sample(
    panel: Panel,
    series: np.ndarray,
    origin: np.ndarray,
    horizon: int,
    keep: np.ndarray | None = None,
    also: np.ndarray | None = None,
) -> np.ndarray:
    """(B,) the windows a fitted method is scored on: each series' latest FITTED_FOLDS (more
    with few series) and those in `also` (B,), of series spread evenly over the panel when
    that makes more than FITTED_WINDOWS; and those in `keep` (B,) in any case."""
    folds = max(FITTED_FOLDS, FITTED_WINDOWS // max(panel.n_series, 1))  # few series: more
    rows = (panel.lengths[series] - origin) <= folds * horizon
    if also is not None:
        rows |= also
    count = int(rows.sum())
    if count > FITTED_WINDOWS:
        n = max(1, int(FITTED_WINDOWS * panel.n_series / count))
        spread = np.unique(np.linspace(0, panel.n_series - 1, n).round().astype(np.int64))
        rows &= np.isin(series, spread)
    return rows if keep is None else rows | keep


def mase_scales(panel: Panel, series, origin, season: int, scale=metrics.mase_scale) -> np.ndarray:
    """MASE denominators (or another `scale(history, season)`) of the history before each origin."""
    return np.array(
        [
            scale(panel.series(int(s))[: int(o)].astype(np.float64), season)
            for s, o in zip(series, origin, strict=True)
        ]
    )


def score_windows(
    actual: np.ndarray,
    point: np.ndarray,
    scale: np.ndarray,
    quantile_preds: np.ndarray | None = None,
    quantiles: tuple[float, ...] = (),
) -> dict[str, np.ndarray]:
    """Per-window metrics (each (B,)) of one method's forecasts.

    With quantile forecasts (B, H, Q): coverage and width of the band between the lowest
    and highest quantile, and the pinball loss averaged over the quantiles. A window
    without a forecast (NaN: the method was not run there) scores NaN in every metric.
    """
    unscored = ~np.isfinite(point).all(axis=-1)
    scores = {
        "mae": metrics.mae(actual, point),
        "rmse": metrics.rmse(actual, point),
        "smape": metrics.smape(actual, point),
        "mape": metrics.mape(actual, point),
        "mase": metrics.mase(actual, point, scale),
    }
    if quantile_preds is not None:
        lower, upper = quantile_preds[:, :, 0], quantile_preds[:, :, -1]
        scores["coverage"] = metrics.coverage(actual, lower, upper)
        scores["width"] = metrics.interval_width(lower, upper)
        scores["pinball"] = np.mean(
            [metrics.pinball(actual, quantile_preds[:, :, k], q) for k, q in enumerate(quantiles)],
            axis=0,
        )
    if unscored.any():
        scores = {k: np.where(unscored, np.nan, v) for k, v in scores.items()}
    return scores


def compare(
    panel: Panel,
    series: np.ndarray,
    origin: np.ndarray,
    preds: np.ndarray,
    quantiles: tuple[float, ...],
    median: int,
    season: int,
    fitted_rows: np.ndarray | None = None,
) -> dict:
    """Score quantile forecasts (B, H, Q) and every per-series method on the same windows
    (a fitted method on `fitted_rows` alone, when given: see fitted_sample).

    The LSTM's point forecast is the quantile at `median` (ModelConfig.median_index).

    Returns {"scores": {method: {metric: (B,)}}, "actual": (B, H), "baselines": {name: (B, H)}}.
    """
    horizon = preds.shape[1]
    actual = window_actuals(panel, series, origin, horizon)
    scale = mase_scales(panel, series, origin, season)
    base = local_forecasts(panel, series, origin, horizon, season, fitted_rows=fitted_rows)
    scores = {}
    if np.isfinite(preds).any():  # a model without an LSTM (too little data) has no row
        scores["lstm"] = score_windows(actual, preds[:, :, median], scale, preds, quantiles)
    for name, point in base.items():
        scores[name] = score_windows(actual, point, scale)
    return {"scores": scores, "actual": actual, "baselines": base}


@dataclass
class BacktestResult:
    """Every backtest window (B of them) with its forecasts and scores.

    Window b is series `series[b]` forecast from grid position `origin[b]` (the first step
    it forecasts) in fold `fold[b]`. `scores` holds, per method (`lstm`, each baseline and,
    with a per-series choice, `chosen`), each metric per window (B,). `chosen` (B, H, Q) is
    the forecast that ships, each window by its series' method with its band, as `predict`
    makes it (the LSTM's `preds` where there is no choice).
    """

    series: np.ndarray  # (B,) index of the window's series in the panel
    origin: np.ndarray  # (B,) position of the window's first step in its series
    fold: np.ndarray  # (B,) 0 .. folds - 1
    scores: dict[str, dict[str, np.ndarray]]  # method -> metric -> (B,)
    actual: np.ndarray  # (B, H) the observed values
    baselines: dict[str, np.ndarray]  # baseline -> (B, H) its forecasts
    preds: np.ndarray  # (B, H, Q) the LSTM's quantile forecasts
    horizon: int
    step: int  # steps between the origins of consecutive folds
    folds: int
    season: int  # the season of MASE and seasonal naive
    quantiles: tuple[float, ...]
    median: int  # position of the 0.5 quantile in `quantiles`
    methods: np.ndarray | None = None  # (B,) the method that forecast each window, if known
    chosen: np.ndarray | None = None  # (B, H, Q) each window by that method, as predict makes it


def backtest(
    model,
    panel: Panel,
    folds: int = 3,
    horizon: int | None = None,
    step: int | None = None,
    season: int | None = None,
    refit=None,
    callback=None,
    methods: np.ndarray | None = None,
    lstm: bool = True,
    widths: dict | None = None,
    follow_level: bool = True,
) -> BacktestResult:
    """Rolling-origin backtest of `model` against every per-series method (naive, seasonal
    naive, drift, Theta, ETS: the registry).

    With `methods` (S,), each series' method, and `widths` (and `follow_level`), the model
    file's per-series bands, also scores the forecast that ships ("chosen") as `predict`
    makes it: the LSTM's, the per-series method's with its band, or their mean for a mix.
    Without `lstm` (the file holds none) only the per-series methods and that choice are.

    With `refit` (panel -> (model or None, Verdict), as `train` trains and validates), each
    fold's past gets a fresh model, methods and bands, so no fold ever sees its own future;
    a fold without an LSTM scores it nowhere. Returns every window's forecasts and scores.
    """
    from lstmcast.forecast import chosen_forecasts, floor_at_zero, forecast_at

    emit = callback or (lambda event, info: None)
    horizon = horizon or model.cfg.horizon
    step = step or horizon
    season = season or model.cfg.season
    series, origin, fold = backtest_origins(
        panel, folds, horizon, step, min_history=max(2, season + 1)
    )
    if len(series) == 0:
        raise DataError(
            f"no series is long enough for {plural(folds, 'fold')} of {plural(horizon, 'step')} "
            f"(step {step}) after season {season} + 1 steps of history (the longest has "
            f"{panel.lengths.max()})",
            hint="pass fewer --folds, a smaller --horizon, --step or --season",
        )
    quantiles, median = model.cfg.quantiles, model.cfg.median_index
    preds = np.full((len(series), horizon, len(quantiles)), np.nan)  # NaN: no LSTM forecast
    used = np.full(len(series), "lstm", dtype=object)
    if methods is not None:
        used[:] = methods[series]
    bands = [(widths, follow_level)] * folds  # each fold's per-series bands and their unit
    emit("start", {"total": folds})
    for k in range(folds):
        sel = np.flatnonzero(fold == k)
        if len(sel):
            fold_model = model if lstm else None
            if refit is not None:
                # Every series is cut at its own fold-k origin, also those too short to be
                # scored in this fold, so no series leaks its future into the refit model,
                # nor into the choice of method and the bands, made anew on that past.
                cut = panel.lengths - horizon - (folds - 1 - k) * step
                fold_model, verdict = refit(panel.head(np.maximum(cut, 1)))
                used[sel] = verdict.methods[series[sel]]
                bands[k] = (verdict.widths, True)
            if fold_model is not None:
                fold_preds = forecast_at(fold_model, panel, series[sel], origin[sel], horizon)
                floor_at_zero(fold_preds, panel, series[sel], origin[sel])  # as predict does
                preds[sel] = fold_preds
        emit("fold", {"fold": k + 1, "total": folds})
    keep = np.isin(used.astype(str), fitted_names())
    compared = compare(
        panel, series, origin, preds, quantiles, median, season,
        fitted_sample(panel, series, origin, horizon, keep),
    )  # fmt: skip
    chosen = None
    if methods is not None or not (used == "lstm").all():
        chosen = np.full_like(preds, np.nan)
        for k in range(folds):  # each fold by its own methods and bands, as predict makes it
            sel = np.flatnonzero(fold == k)
            points = {m: v[sel] for m, v in compared["baselines"].items()}
            chosen[sel] = chosen_forecasts(
                panel, series[sel], origin[sel], preds[sel], used[sel], points,
                model.cfg.season, *bands[k], median,
            )  # fmt: skip
        scale = mase_scales(panel, series, origin, season)
        compared["scores"]["chosen"] = score_windows(
            compared["actual"], chosen[:, :, median], scale, chosen, quantiles
        )
    return BacktestResult(
        series, origin, fold, compared["scores"], compared["actual"], compared["baselines"],
        preds, horizon, step, folds, season, quantiles, median, used.astype(str), chosen,
    )  # fmt: skip


def backtest_warnings(panel: Panel, result: BacktestResult, summary: dict) -> list[str]:
    """What a user should know about a backtest's scores: windows inside the training
    data, and series scored in fewer than every fold, or in none."""
    warnings = [OVERLAP_WARNING] if summary["overlaps_training"] and "lstm" in result.scores else []
    counts = np.bincount(result.series, minlength=len(panel.ids))
    none = np.flatnonzero(counts == 0)
    fewer = np.flatnonzero((counts > 0) & (counts < result.folds))
    parts = []
    if len(none):
        parts.append(
            f"{len(none)} series too short to backtest, left out of the scores "
            f"(e.g. '{panel.ids[none[0]]}')"
        )
    if len(fewer):
        parts.append(
            f"{len(fewer)} series scored on fewer than {plural(result.folds, 'fold')} "
            f"(e.g. '{panel.ids[fewer[0]]}')"
        )
    return warnings + (["; ".join(parts)] if parts else [])


def backtest_frame(panel: Panel, result: BacktestResult, methods: np.ndarray | None = None):
    """Every backtest window in long format, one row per (series, cutoff, step).

    Columns: `unique_id, ds, cutoff, y`, the forecast that ships `yhat, yhat_lower,
    yhat_upper` (and `yhat_q<q>` for other quantiles: the result's `chosen` forecasts where
    there are, else the LSTM's), `model`, the method behind `yhat`, and one column per
    method's point forecast on the same window (`lstm`, then the per-series methods).
    `cutoff` is the last timestamp the forecast saw (the step before the window), so
    `cutoff < ds` on every row. `methods` gives the method per panel series; without it every
    row is "lstm".
    """
    from lstmcast.forecast import quantile_columns

    series, origin = result.series, result.origin
    horizon, quantiles = result.horizon, result.quantiles
    steps = origin[:, None] + np.arange(-1, horizon)[None, :]  # (B, 1 + H): cutoff, then window
    times = grid_times(panel.first, panel.freq, series, steps)
    frame = {
        "unique_id": np.repeat(panel.ids[series].astype(str), horizon),
        "ds": times[:, 1:].reshape(-1),
        "cutoff": np.repeat(times[:, 0], horizon),
        "y": result.actual.reshape(-1).astype(np.float32),  # exactly the data's values
    }
    names = quantile_columns(quantiles)
    shipped = result.preds if result.chosen is None or methods is None else result.chosen
    by_name = {names[q]: shipped[:, :, k].reshape(-1) for k, q in enumerate(quantiles)}
    extra = [names[q] for q in quantiles if names[q].startswith("yhat_q")]
    for name in ("yhat", "yhat_lower", "yhat_upper", *extra):
        frame[name] = by_name.get(name, by_name["yhat"]).astype(np.float32)
    # The method that forecast each window: the one place a per-series choice enters.
    used = np.full(panel.n_series, "lstm", dtype=object) if methods is None else methods
    used = np.asarray(used, dtype=object)[series] if result.methods is None else result.methods
    frame["model"] = np.repeat(np.asarray(used, dtype=object), horizon)
    frame["lstm"] = result.preds[:, :, result.median].reshape(-1).astype(np.float32)
    for name, point in result.baselines.items():
        frame[name] = point.reshape(-1).astype(np.float32)
    return pd.DataFrame(frame)


def per_series_table(panel: Panel, result: BacktestResult):
    """One row per series: mean over its folds of each method's metrics, plus skill."""
    rows = {"unique_id": panel.ids[result.series].astype(str)}
    for method, scores in result.scores.items():
        for metric, values in scores.items():
            rows[f"{method}_{metric}"] = values
    frame = pd.DataFrame(rows).groupby("unique_id", sort=False).mean().reset_index()
    frame.insert(
        1,
        "folds",
        pd.Series(panel.ids[result.series].astype(str))
        .value_counts(sort=False)
        .reindex(frame["unique_id"])
        .to_numpy(),
    )
    # No LSTM (a model file trained on too little data): no skill to measure.
    lstm = frame["lstm_mase"] if "lstm_mase" in frame else pd.Series(np.nan, frame.index)
    frame["skill"] = metrics.skill(lstm, frame["seasonal_naive_mase"])
    # The baseline to beat on each series is the one with the lowest MASE there.
    others = [m for m in methods.local_names() if f"{m}_mase" in frame]
    mase = frame[[f"{b}_mase" for b in others]].to_numpy(dtype=np.float64)
    lowest = np.where(np.isfinite(mase), mase, np.inf)
    best = lowest.argmin(axis=1)
    best_mase = lowest[np.arange(len(frame)), best]
    known = np.isfinite(best_mase)
    frame["best_baseline"] = np.where(known, np.asarray(others, dtype=object)[best], None)
    frame["skill_vs_best_baseline"] = np.where(
        known, metrics.skill(lstm.to_numpy(dtype=np.float64), best_mase), np.nan
    )
    return frame


def ranked_by_skill(per_series):
    """Series with a defined skill against their best baseline, worst (lowest skill) first.

    Raw MASE would rank a series that is simply easy as "best" even where seasonal naive
    does better on it; skill says whether the LSTM is worth using there.
    """
    ranked = per_series.dropna(subset=["skill_vs_best_baseline"])
    return ranked.sort_values("skill_vs_best_baseline", kind="stable")


def aggregate(frame) -> dict:
    """Mean and median across series of each method's metrics, and the model's skill."""
    names = [m for m in methods.names() if f"{m}_mae" in frame]
    names += ["chosen"] if "chosen_mae" in frame else []
    metrics_ = ["mae", "rmse", "smape", "mape", "mase", "pinball", "coverage", "width"]
    table = {}
    for method in names:
        for how in ("mean", "median"):
            row = {}
            for metric in metrics_:
                col = f"{method}_{metric}"
                if col in frame:
                    values = frame[col].to_numpy(dtype=float)
                    values = values[np.isfinite(values)]
                    row[metric] = (
                        (float(values.mean()) if how == "mean" else float(np.median(values)))
                        if len(values)
                        else None
                    )
            table.setdefault(method, {})[how] = row
    lstm = table.get("lstm", {}).get("mean", {}).get("mase")
    snaive = table["seasonal_naive"]["mean"]["mase"]
    skill = metrics.skill(lstm, snaive)
    others = [m for m in names if m not in ("lstm", "chosen")]
    return {
        "methods": table,
        **_verdict(frame, others),
        "skill_vs_seasonal_naive": skill,
        "beats_seasonal_naive": skill is not None and skill > 0,
    }


def _verdict(frame, others: list[str]) -> dict:
    """The LSTM against the other method of lowest mean MASE over the series both are scored
    on: its skill there, the skill's bootstrap interval over series, and the verdict."""
    lstm = frame["lstm_mase"].to_numpy(dtype=float) if "lstm_mase" in frame else np.nan
    best, best_mase = None, np.inf
    for m in others:
        values = frame[f"{m}_mase"].to_numpy(dtype=float)
        both = np.isfinite(values) & np.isfinite(lstm)
        if both.any() and values[both].mean() < best_mase:
            best, best_mase = m, values[both].mean()
    if best is None:
        return {"best_baseline": None, "skill_vs_best_baseline": None, "skill_interval": None,
                "verdict": None, "beats_best_baseline": False}  # fmt: skip
    other = frame[f"{best}_mase"].to_numpy(dtype=float)
    both = np.isfinite(other) & np.isfinite(lstm)
    point, low, high = metrics.skill_interval(lstm[both], other[both])
    said = metrics.verdict(low, high)
    return {
        "best_baseline": best,
        "skill_vs_best_baseline": point,
        "skill_interval": None if low is None else [low, high],
        "verdict": said,
        "beats_best_baseline": said == "beats",
    }


OVERLAP_WARNING = (
    "these windows lie inside the model's training data, so the LSTM's scores are optimistic; "
    "use --refit, or evaluate on data newer than the training file"
)


def backtest_summary(
    per_series: pd.DataFrame,
    result: BacktestResult,
    panel: Panel,
    data: str,
    folds: int,
    trained_until: pd.Timestamp | None,
) -> dict:
    """The body of `evaluate --json`: the aggregate table and the backtest's settings.

    `trained_until`: the last time the model was trained on, None when it was refit per fold
    (then no window can overlap its training data).
    """
    summary = aggregate(per_series)
    summary.update(
        {
            "data": data,
            "folds": folds,
            "horizon": result.horizon,
            "step": result.step,
            "season": result.season,
            "refit": trained_until is None,
            "series": int(per_series.shape[0]),
            "windows": int(len(result.series)),
            "mape_zero_actuals_skipped": int(np.sum(metrics.count_zero_actuals(result.actual))),
            "folds_per_series": {
                "min": int(per_series["folds"].min()),
                "max": int(per_series["folds"].max()),
            },
            "overlaps_training": trained_until is not None
            and _origins_before(panel, result, trained_until),
        }
    )
    return summary


def _origins_before(panel: Panel, result: BacktestResult, trained_until: pd.Timestamp) -> bool:
    """True when some backtest window starts inside the data the model was trained on."""
    from lstmcast.data.freq import grid_ordinals

    first, _ = grid_ordinals(panel.first, panel.freq)
    until, _ = grid_ordinals(
        np.array([trained_until.to_datetime64()], dtype="datetime64[ns]"), panel.freq
    )
    return bool(((first[result.series] + result.origin) <= until[0]).any())
