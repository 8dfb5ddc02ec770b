"""Forecasting with a trained model: direct up to the trained horizon, recursive beyond it;
and the conformal calibration of its intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from lstmcast.batches import PanelBatches
from lstmcast.choice import chosen_methods
from lstmcast.data.covariates import check_future
from lstmcast.data.freq import fixed_step_ns, future_dates, steps_left
from lstmcast.data.panel import Panel
from lstmcast.errors import ModelFileError, UsageError
from lstmcast.methods.lstm import TARGET_CLIP, LSTMForecaster
from lstmcast.text import timestamp

__all__ = [
    "check_horizon",
    "forecast_at",
    "forecast_panel",
    "forecast_frame",
    "quantile_columns",
    "baseline_quantiles",
    "band_offsets",
    "chosen_forecasts",
    "apply_choice",
    "mix_quantiles",
    "band_tables",
    "calibrate_intervals",
    "MIN_STEP_WINDOWS",
    "horizon_warning",
    "forecast_by_choice",
    "forecast_by_method",
    "check_finite",
    "follows_level",
]

CHUNK = 8192  # series per forward pass: large batches, bounded memory
# Values (rows x quantiles) one forecast may hold: 400 MB of float32, and a table of a
# few GB around it. A bigger forecast is refused before any work, never half-built.
MAX_FORECAST_VALUES = 100_000_000
MIN_STEP_WINDOWS = 20  # windows needed for one conformal offset per horizon step


def check_horizon(panel: Panel, horizon: int, n_quantiles: int, series: int | None = None) -> None:
    """Refuse (UsageError, exit 2) a --horizon whose forecast of `series` (default: all) would
    not fit in memory, or would run past pandas' last timestamp (2262-04-11)."""
    series = panel.n_series if series is None else series
    values = series * horizon * n_quantiles
    if values > MAX_FORECAST_VALUES:
        fits = MAX_FORECAST_VALUES // max(series * n_quantiles, 1)
        raise UsageError(
            f"--horizon {horizon}: {series:,} series x {horizon:,} steps x {n_quantiles} "
            f"quantiles is {values:,} values, more than the {MAX_FORECAST_VALUES:,} one forecast may hold",
            hint=f"pass --horizon {fits} or less, or forecast fewer series at a time"
            if fits
            else "forecast fewer series at a time",
        )
    latest = pd.Timestamp(panel.last.max())
    room = steps_left(latest, panel.freq)
    if horizon > room:
        raise UsageError(
            f"--horizon {horizon}: {horizon:,} steps after {timestamp(latest)} run past "
            f"{pd.Timestamp.max:%Y-%m-%d}, the last date pandas can represent",
            hint=f"pass --horizon {room} or less" if room else "no forecast fits after this date",
        )


@torch.inference_mode()
def forecast_at(
    model: LSTMForecaster, panel: Panel, series: np.ndarray, origin: np.ndarray, horizon: int
) -> np.ndarray:
    """Quantile forecasts (B, horizon, Q) for windows starting at `origin` of `series`.

    Uses only values before each origin. Beyond the model's horizon the median forecast is
    fed back as if observed (recursive), which widens no interval: a warning is due.
    Future-known covariates must be known for the whole `horizon` (DataError otherwise).
    """
    cfg = model.cfg
    device = next(model.parameters()).device
    batches = PanelBatches(panel, cfg, device)
    mid = cfg.median_index
    if cfg.covariates:
        check_future(panel, series, origin, horizon)
    out = np.empty((len(series), horizon, len(cfg.quantiles)), dtype=np.float32)
    for i in range(0, len(series), CHUNK):
        s, o = batches.upload(series[i : i + CHUNK], origin[i : i + CHUNK])
        x, phase = batches.lookback(s, o), batches.phase(s, o)  # (B, L), (B, K)
        done, parts = 0, []
        while done < horizon:
            pred, loc, scale = model(x, phase, batches.covariates_at(s, o + done))
            pred = model.from_normal(pred.float().sort(dim=-1).values, loc, scale)  # (B, H, Q)
            # Calibration may narrow a band: quantiles never cross the median nor each other.
            median = pred[:, :, mid : mid + 1]
            pred = (
                torch.cat(
                    [
                        pred[:, :, :mid].minimum(median),
                        median,
                        pred[:, :, mid + 1 :].maximum(median),
                    ],
                    dim=-1,
                )
                .sort(dim=-1)
                .values
            )
            take = min(cfg.horizon, horizon - done)
            parts.append(pred[:, :take])
            x = torch.cat([x, pred[:, :, mid]], dim=1)[:, -cfg.lookback :]
            phase = model.phase_at(phase, torch.full_like(o, cfg.horizon))
            done += take
        out[i : i + CHUNK] = torch.cat(parts, dim=1).cpu().numpy()
    return out


def forecast_panel(model: LSTMForecaster, panel: Panel, horizon: int) -> np.ndarray:
    """Forecast every series from one step after its last observation: (S, horizon, Q)."""
    series = np.arange(panel.n_series, dtype=np.int64)
    return forecast_at(model, panel, series, panel.lengths.astype(np.int64), horizon)


@torch.no_grad()
def calibrate_intervals(model, panel: Panel, series: np.ndarray, origin: np.ndarray) -> dict:
    """Conformal widening of the interval quantiles from held-out windows; sets
    `model.calibration` (H, Q), in normalised units, and returns what it did.

    For each pair of quantiles (q, 1 - q) the conformity score of a window step is how far
    the actual falls outside the band (negative inside); the band is then widened (or
    narrowed) by the (1 - 2q)(1 + 1/n) empirical quantile of the scores, so that the
    stated share of held-out actuals falls inside (split conformal quantile regression).
    Each horizon step gets its own offset when there are at least MIN_STEP_WINDOWS windows,
    so a band widens where errors grow with the horizon (a random walk's do); with fewer,
    one offset pooled over the steps. Scores are in each window's normalised units, so one
    offset serves every series.

    Coverage measured on the calibration windows themselves is right by construction, so
    the returned `cross_fitted_coverage` of the outermost band is honest instead: offsets
    from the even windows applied to the odd ones and vice versa.
    """
    cfg = model.cfg
    device = model.calibration.device
    model.calibration.zero_()
    report = {"windows": int(len(series)), "offsets": [0.0] * len(cfg.quantiles)}
    if len(series) < 2:
        return report
    batches = PanelBatches(panel, cfg, device)
    s, o = batches.upload(series, origin)
    preds, targets = [], []
    for i in range(0, len(s), 4096):
        batch = batches.gather(s[i : i + 4096], o[i : i + 4096])
        pred, loc, scale = model(batch.x, batch.phase, batch.cov)
        preds.append(pred.float().sort(dim=-1).values)
        targets.append(model.to_normal(batch.y, loc, scale).clamp(-TARGET_CLIP, TARGET_CLIP))
    pred, target = torch.cat(preds), torch.cat(targets)
    per_step = len(pred) >= MIN_STEP_WINDOWS
    offsets = torch.zeros(cfg.horizon, len(cfg.quantiles), device=device)
    even = torch.arange(len(pred), device=device) % 2 == 0
    for lo, q in enumerate(cfg.quantiles):
        pair = [k for k, p in enumerate(cfg.quantiles) if abs(p - (1 - q)) < 1e-9]
        if q >= 0.5 or not pair:
            continue
        hi = pair[0]
        scores = torch.maximum(pred[..., lo] - target, target - pred[..., hi])  # (V, H)
        widen = _step_offsets(scores, 1 - 2 * q, per_step)  # (H,)
        offsets[:, lo], offsets[:, hi] = -widen, widen
        if lo == 0:  # the interval forecast_frame reports: yhat_lower .. yhat_upper
            a, b = scores[even], scores[~even]
            inside = (a <= _step_offsets(b, 1 - 2 * q, per_step)).sum() + (
                b <= _step_offsets(a, 1 - 2 * q, per_step)
            ).sum()
            report["stated_coverage"] = round(1 - 2 * q, 6)
            report["cross_fitted_coverage"] = float(inside) / scores.numel()
    model.calibration.copy_(offsets)
    # The first and last horizon step's offsets: how much the band widens along the horizon.
    report["offsets"] = [round(float(v), 6) for v in offsets[0].cpu()]
    report["offsets_last_step"] = [round(float(v), 6) for v in offsets[-1].cpu()]
    report["per_step"] = per_step
    return report


def _step_offsets(scores: torch.Tensor, level: float, per_step: bool) -> torch.Tensor:
    """Conformal offset of each horizon step (H,) from scores (V, H); pooled unless per_step."""
    if not per_step or len(scores) < 2:
        return _conformal_offset(scores, level).expand(scores.shape[1])
    return torch.stack([_conformal_offset(scores[:, h], level) for h in range(scores.shape[1])])


def _conformal_offset(scores: torch.Tensor, level: float) -> torch.Tensor:
    flat = scores.flatten().double()
    return torch.quantile(flat, min(1.0, level * (1 + 1 / len(flat)))).float()


def baseline_quantiles(
    history: np.ndarray,
    method: str,
    horizon: int,
    season: int,
    widths: np.ndarray,
    follow_level: bool = True,
) -> np.ndarray:
    """A per-series method's quantile forecast (horizon, Q) from one series' history.

    The method's point forecast (naive, seasonal naive, drift, Theta, ETS: the registry)
    plus its band (band_offsets).
    """
    from lstmcast import methods

    x = history.astype(np.float64)
    point = methods.get(method).forecast(x, horizon, season)
    return point[:, None] + band_offsets(x, horizon, season, widths, follow_level)


def band_offsets(
    history: np.ndarray, horizon: int, season: int, widths: np.ndarray, follow_level: bool = True
) -> np.ndarray:
    """A per-series method's quantile offsets (horizon, Q) around its point forecast: its
    validation offsets (H, Q) times the history's band scale (metrics.band_scale: the MASE
    scale, grown with the recent level of positive data unless not `follow_level`); steps
    beyond H take the last offset grown like a random walk's, by sqrt(h / H)."""
    from lstmcast import metrics

    x = np.asarray(history, dtype=np.float64)
    widths = np.asarray(widths, dtype=np.float64)
    trained = len(widths)
    if horizon > trained:
        grow = np.sqrt(np.arange(trained + 1, horizon + 1) / trained)[:, None]
        widths = np.concatenate([widths, widths[-1:] * grow])
    scale = metrics.band_scale(x, season, trained, follow_level) if len(x) > 1 else 0.0
    scale = scale if np.isfinite(scale) else 0.0
    return widths[:horizon] * scale


def chosen_forecasts(
    panel: Panel,
    series: np.ndarray,
    origin: np.ndarray,
    preds: np.ndarray,
    used: np.ndarray,
    points: dict[str, np.ndarray],
    season: int,
    widths: dict | None,
    follow_level: bool = True,
    median: int = 1,
) -> np.ndarray:
    """Each window (B, H, Q) by its method `used` (B,), as `predict` forecasts it: the LSTM's
    `preds`, or the per-series method's point forecast (`points[method]`, (B, H), from the
    backtest) with the band the model file recorded for it (band_offsets, at the model's
    `season`, following the level as the file says); a mix, the mean of the LSTM's median
    (quantile `median` of `preds`: 1 for the default 0.1, 0.5, 0.9) and the method's point,
    with the mix's own band where `widths` has one (else the two quantile forecasts
    averaged). A method without recorded offsets gets no band (NaN)."""
    from lstmcast import methods as registry

    out, widths = preds.astype(np.float64, copy=True), widths or {}
    for k in np.flatnonzero(used != "lstm"):
        method = str(used[k])
        own = registry.partner(method) or method
        history = panel.series(int(series[k]))[: int(origin[k])]
        offsets = widths.get(method, widths.get(own))
        band = (
            band_offsets(history, preds.shape[1], season, offsets, follow_level)
            if offsets is not None
            else np.full(preds.shape[1:], np.nan)
        )
        point = points[own][k]
        out[k] = (
            point[:, None] + band
            if own == method
            else mix_quantiles(out[k], point, band, median, method in widths)
        )
    floor_at_zero(out, panel, series, origin)
    return out


def mix_quantiles(
    lstm: np.ndarray, point: np.ndarray, band: np.ndarray, median: int, own_band: bool
) -> np.ndarray:
    """A mix's quantile forecast (H, Q) from the LSTM's (H, Q) and the per-series method's
    point (H,): with `own_band`, the mean of the LSTM's median and the point plus `band`, the
    mix's own offsets; without (a mix validated on few windows, or an older file), the LSTM's
    quantiles and the method's (point plus `band`, the method's offsets) averaged."""
    if own_band:
        return ((lstm[:, median] + point) / 2)[:, None] + band
    return (lstm + point[:, None] + band) / 2


def floor_at_zero(preds: np.ndarray, panel: Panel, series: np.ndarray, origin: np.ndarray) -> None:
    """Clip, in place, the forecasts (B, H, Q) of windows whose history is strictly positive
    at 0: a band of positive data does not reach below zero."""
    for k in range(len(series)):
        history = panel.series(int(series[k]))[: int(origin[k])]
        if len(history) and float(history.min()) > 0:
            np.maximum(preds[k], 0, out=preds[k])


def apply_choice(
    preds: np.ndarray,
    panel: Panel,
    methods: np.ndarray,
    season: int,
    widths: dict[str, list[list[float]]],
    series: np.ndarray | None = None,
    origin: np.ndarray | None = None,
    follow_level: bool = True,
    median: int = 1,
) -> None:
    """Replace, in place, the forecasts (B, H, Q) of windows whose method is a per-series
    one. A mix (`lstm+theta`, `preds` holding the LSTM's) forecasts the mean of the LSTM's
    median (quantile `median`: 1 for the default 0.1, 0.5, 0.9) and the per-series method's
    point, with the mix's own band (`widths[mix]`); a mix without one (validated on fewer
    than MIN_STEP_WINDOWS windows, or in an older file) averages the two quantile forecasts.

    Window k is series `series[k]` forecast from `origin[k]` (default: every series from
    its end), by `methods[k]` from the history before the origin; its band follows the
    level unless not `follow_level` (band_offsets).
    """
    from lstmcast import methods as registry

    series = np.arange(panel.n_series) if series is None else series
    origin = panel.lengths[series] if origin is None else origin
    horizon = preds.shape[1]
    for k in np.flatnonzero(methods != "lstm"):
        method, i = str(methods[k]), int(series[k])
        own = registry.partner(method) or method
        if own not in widths:  # only a damaged file lacks them (modelfile.header checks)
            raise ModelFileError(
                f"the model file has no interval offsets for {own}, which forecasts "
                f"series '{panel.ids[i]}'",
                hint="retrain with lstmcast train, or restore the file from a backup",
            )
        history = panel.series(i)[: int(origin[k])]
        if own == method:
            offsets = np.asarray(widths[own], dtype=np.float64)
            preds[k] = baseline_quantiles(history, own, horizon, season, offsets, follow_level)
            continue
        offsets = np.asarray(widths.get(method, widths[own]), dtype=np.float64)
        point = registry.get(own).forecast(history.astype(np.float64), horizon, season)
        band = band_offsets(history, horizon, season, offsets, follow_level)
        preds[k] = mix_quantiles(preds[k], point, band, median, method in widths)


def quantile_columns(quantiles: tuple[float, ...]) -> dict[float, str]:
    """Output column of each quantile: the lowest is yhat_lower, the median yhat, the highest yhat_upper."""
    names = {q: f"yhat_q{q:g}" for q in quantiles}
    names[0.5] = "yhat"
    below, above = [q for q in quantiles if q < 0.5], [q for q in quantiles if q > 0.5]
    if below:
        names[min(below)] = "yhat_lower"
    if above:
        names[max(above)] = "yhat_upper"
    return names


def forecast_frame(panel: Panel, preds: np.ndarray, quantiles: tuple[float, ...]) -> pd.DataFrame:
    """Long table `unique_id, ds, yhat, yhat_lower, yhat_upper` (+ extra quantiles)."""
    n_series, horizon, _ = preds.shape
    names = quantile_columns(quantiles)
    frame = {
        "unique_id": np.repeat(panel.ids.astype(str), horizon),
        "ds": _future_grid(panel, horizon),
    }
    order = ["yhat", "yhat_lower", "yhat_upper"] + [
        names[q] for q in quantiles if names[q].startswith("yhat_q")
    ]
    by_name = {names[q]: preds[:, :, k].reshape(-1) for k, q in enumerate(quantiles)}
    for name in order:
        if name in by_name:
            frame[name] = by_name[name].astype(np.float32)  # the model's precision; short CSV
    if "yhat_lower" not in frame:  # only the median was asked for
        frame["yhat_lower"] = frame["yhat_upper"] = frame["yhat"]
    return pd.DataFrame(frame)


def _future_grid(panel: Panel, horizon: int) -> np.ndarray:
    """The next `horizon` timestamps after each series' last one, flattened (S * horizon,)."""
    step = fixed_step_ns(panel.freq)
    if step:
        k = np.arange(1, horizon + 1, dtype=np.int64) * step
        return (
            (panel.last.astype("datetime64[ns]").view("int64")[:, None] + k[None, :])
            .reshape(-1)
            .view("datetime64[ns]")
        )
    cache: dict = {}
    parts = []
    for last in panel.last:  # calendar grids: many series share an end date, compute each once
        if last not in cache:
            cache[last] = future_dates(pd.Timestamp(last), panel.freq, horizon).to_numpy()
        parts.append(cache[last])
    return np.concatenate(parts)


def horizon_warning(horizon: int, trained: int) -> str | None:
    """The warning `predict` and `plot` give for steps beyond the trained horizon."""
    if horizon <= trained:
        return None
    return (
        f"horizon {horizon} is longer than the trained {trained}: steps beyond it are forecast "
        "recursively and their intervals are too narrow"
    )


def forecast_by_choice(
    model: LSTMForecaster,
    header: dict,
    panel: Panel,
    horizon: int,
    fallback: str,
    model_path,
    warnings: list[str],
) -> tuple[np.ndarray, np.ndarray]:
    """Forecast every series by its method (see chosen_methods): (preds (S, H, Q), methods (S,)).

    The network runs only when some series needs it. Appends to `warnings` what concerns
    the series the LSTM forecasts: a horizon beyond the trained one, a history shorter than
    the lookback.
    """
    cfg = model.cfg
    methods = chosen_methods(header, panel, fallback, model_path, warnings)
    network = np.char.startswith(methods.astype(str), "lstm")  # the LSTM or a mix with it
    if horizon > cfg.horizon and network.any():
        warnings.append(horizon_warning(horizon, cfg.horizon))
    short = np.flatnonzero((panel.lengths < cfg.lookback) & network)
    if len(short):
        short = short[np.argsort(panel.lengths[short], kind="stable")]  # the shortest first
        named = ", ".join(f"'{panel.ids[i]}' ({panel.lengths[i]} points)" for i in short[:5])
        more = f", and {len(short) - 5} more" if len(short) > 5 else ""
        warnings.append(
            f"{len(short)} series shorter than the lookback {cfg.lookback}, forecast by the "
            f"LSTM from a lookback padded with the first value: {named}{more}"
        )
    series = np.arange(panel.n_series, dtype=np.int64)
    preds = forecast_by_method(
        model, header, panel, series, panel.lengths.astype(np.int64), horizon, methods
    )
    check_finite(preds, panel, horizon, cfg.horizon, model_path)
    return preds, methods


def forecast_by_method(
    model: LSTMForecaster,
    header: dict,
    panel: Panel,
    series: np.ndarray,
    origin: np.ndarray,
    horizon: int,
    methods: np.ndarray,
) -> np.ndarray:
    """forecast_at, each window by its series' method: (B, horizon, Q). The network runs
    only for the windows the LSTM or a mix with it forecasts."""
    from lstmcast import methods as registry

    lstm = np.array([registry.uses_lstm(m) for m in methods], dtype=bool)
    preds = np.zeros((len(series), horizon, len(model.cfg.quantiles)), dtype=np.float32)
    if lstm.any():
        preds[lstm] = forecast_at(model, panel, series[lstm], origin[lstm], horizon)
    widths, follow = band_tables(header), follows_level(header)
    apply_choice(
        preds, panel, methods, model.cfg.season, widths, series, origin, follow,
        model.cfg.median_index,
    )  # fmt: skip
    floor_at_zero(preds, panel, series, origin)
    return preds


def band_tables(header: dict) -> dict[str, list[list[float]]]:
    """The model file's (H, Q) band offsets by method: each per-series method's and, in
    files that have them, each mix's own."""
    return {**(header.get("method_widths") or {}), **(header.get("mix_widths") or {})}


def follows_level(header: dict) -> bool:
    """Whether the model file's per-series method bands follow the series' level
    (metrics.band_scale): files from before it say nothing and were calibrated without."""
    from lstmcast.metrics import BAND_SCALE

    return header.get("band_scale") == BAND_SCALE


def check_finite(preds: np.ndarray, panel: Panel, horizon: int, trained: int, model_path) -> None:
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
