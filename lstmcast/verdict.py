"""The verdict against the best other method and the per-series choice of method.

Every method is scored out of sample on rolling origins spaced a horizon apart, so no two
windows of a series overlap and each is one independent piece of evidence. The LSTM is
scored on the windows it was held out from (its validation steps); the per-series methods
(naive, seasonal naive, drift, Theta, ETS: the registry) refit on the history before each
origin, across the whole of each series.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from lstmcast import methods, metrics
from lstmcast.data.panel import Panel
from lstmcast.evaluate import (
    fitted_sample,
    local_forecasts,
    mase_scales,
    score_windows,
    window_actuals,
)
from lstmcast.text import plural
from lstmcast.windows import spaced_windows

__all__ = [
    "SWITCH_MARGIN",
    "MIN_FOLDS",
    "Verdict",
    "validate_methods",
    "Evidence",
    "gather_evidence",
    "train_beside_evidence",
    "verdict_evidence_warning",
    "band_evidence_warning",
    "refit_recipe",
]

# A series leaves the method best over all series only for one whose validation MAE there is
# this much lower, on at least MIN_FOLDS windows of its own. Chosen on M4 Hourly's training
# data alone (see BENCHMARKS.md): 0, the plain per-series winner, was worse everywhere.
SWITCH_MARGIN = 0.4
MIN_FOLDS = 3  # independent windows below which a choice is a guess, and is said to be
MAX_FOLDS = 10  # windows per series: older ones say little about the next horizon
# Windows a band's quantile rests on, in all, where the series are long enough: the 80 %
# quantile of 20 errors (2 series, 10 folds) swings with one calm or stormy fortnight, so
# with few series the per-series methods' errors reach further back for their bands (the
# choice of method still rests on the latest MAX_FOLDS windows of each series).
BAND_WINDOWS = 40
SIMPLEST = ("naive", "seasonal_naive")  # what a fitted method must beat beyond the noise


def _mean(x: np.ndarray) -> float | None:
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    return float(x.mean()) if len(x) else None


@dataclass
class Verdict:
    """The validation verdict and the per-series choice of method.

    doc: the summary's `validation` section; methods: (S,) the method each series is
    forecast by; widths: per-series method and mix with the LSTM (`lstm+theta`), (H, Q)
    interval offsets in units of each series' band scale (metrics.band_scale: its MASE
    scale, grown with the recent level of positive data), from its out-of-sample errors.
    """

    doc: dict
    methods: np.ndarray
    widths: dict[str, list[list[float]]]


@dataclass
class Evidence:
    """The per-series methods' forecasts on every validation window (the LSTM's among them):
    all of validate_methods' work that does not need the LSTM, so it can run while the LSTM
    trains (train_beside_evidence). Rows are windows: (series, origin), `lstm_rows` those
    the LSTM is judged on; `preds` each per-series method's (V, horizon) point forecasts."""

    names: tuple[str, ...]
    series: np.ndarray
    origin: np.ndarray
    lstm_rows: np.ndarray
    actual: np.ndarray
    scale: np.ndarray
    preds: dict[str, np.ndarray]

    def lstm_windows(self) -> tuple[np.ndarray, np.ndarray]:
        """(series, origin) of the windows the LSTM is judged on."""
        return self.series[self.lstm_rows], self.origin[self.lstm_rows]


def gather_evidence(
    panel: Panel,
    horizon: int,
    season: int,
    series: np.ndarray,
    origin: np.ndarray,
    workers: int | None = None,
) -> Evidence:
    """Every per-series method forecast on its windows, which reach back over each whole
    series, and on the LSTM's `series, origin` (its held-out windows; none without it);
    ETS and Theta in `workers` processes (methods.forecast_many)."""
    names = methods.candidates(season)
    least = np.clip(np.minimum(2 * max(season, 1), (panel.lengths - horizon) // 2), 2, None)
    folds = max(MAX_FOLDS, -(-BAND_WINDOWS // max(panel.n_series, 1)))
    l_series, l_origin = spaced_windows(panel.lengths, horizon, least, folds)
    w_series, w_origin, lstm_rows = _union(l_series, l_origin, series, origin)
    actual = window_actuals(panel, w_series, w_origin, horizon)
    scale = mase_scales(panel, w_series, w_origin, season)
    fitted_rows = fitted_sample(panel, w_series, w_origin, horizon, also=lstm_rows)
    preds = local_forecasts(panel, w_series, w_origin, horizon, season, names, fitted_rows, workers)
    return Evidence(names, w_series, w_origin, lstm_rows, actual, scale, preds)


class _Background:
    """`fn(*args)` in a daemon thread; result() waits for it and returns its value or raises
    its error. A daemon, so a run stopped by a signal exits without waiting for it."""

    def __init__(self, fn, *args):
        self._out: tuple[bool, object] = (False, RuntimeError("the background work never ran"))
        self._thread = threading.Thread(target=self._run, args=(fn, args), daemon=True)
        self._thread.start()

    def _run(self, fn, args) -> None:
        try:
            self._out = (True, fn(*args))
        except BaseException as exc:  # handed to the caller by result()
            self._out = (False, exc)

    def result(self):
        self._thread.join()
        ok, value = self._out
        if not ok:
            raise value
        return value

    def abandon(self, wait: float = 5.0) -> None:
        """Stop waiting for it: kill the worker processes its fits run in, so the thread
        ends at once rather than when its fits would have, and no half-run pool is left for
        the interpreter's exit to trip over."""
        methods.stop_workers()
        self._thread.join(wait)


def train_beside_evidence(panel: Panel, cfg, train_cfg, callback=None, init_state=None,
                          explicit_lookback: bool = False):  # fmt: skip
    """(train.fit_model's TrainResult, gather_evidence's Evidence on its held-out windows).
    Where training leaves cores idle (a small LSTM trains on one thread; an accelerator's
    loop takes one core), the evidence is gathered in a background thread while the LSTM
    trains, its fits (ETS, Theta) in as many worker processes as there are idle cores;
    else after training, as extra processes would only slow torch's threads. Neither reads
    the other: each is what it would be alone."""
    from lstmcast.threads import spare_cores
    from lstmcast.train import fit_model, held_out_windows

    series, origin = held_out_windows(panel, cfg, train_cfg, explicit_lookback)
    free = spare_cores(cfg, train_cfg)
    if free < 1:
        result = fit_model(panel, cfg, train_cfg, callback, init_state, explicit_lookback)
        return result, gather_evidence(panel, cfg.horizon, cfg.season, series, origin)
    evidence = (panel, cfg.horizon, cfg.season, series, origin, free)
    pending = _Background(gather_evidence, *evidence)
    try:
        result = fit_model(panel, cfg, train_cfg, callback, init_state, explicit_lookback)
    except BaseException:  # a signal, a diverged loss: nothing waits for the evidence now
        pending.abandon()
        raise
    return result, pending.result()


def validate_methods(
    model,
    panel: Panel,
    horizon: int,
    quantiles: tuple[float, ...],
    season: int,
    series: np.ndarray,
    origin: np.ndarray,
    evidence: Evidence | None = None,
) -> Verdict:
    """Score every method on the same non-overlapping windows; choose per series.

    `series, origin` are the windows the LSTM was held out from (none when `model` is None);
    they are among the per-series methods' windows, which reach back over each whole series
    (the latest MAX_FOLDS of each for the choice; more, up to BAND_WINDOWS in all, for the
    per-series methods' bands). The per-series method of lowest mean MASE over every window where
    all of them are scored is the pooled winner. The LSTM replaces it only when it beats it:
    its skill (1 - its mean MASE / the winner's, on the LSTM's windows) has a bootstrap
    interval (series resampled) above 0. A series leaves the pooled choice only for a method
    whose mean MAE over that series' own windows (MIN_FOLDS at least) is SWITCH_MARGIN lower.
    `evidence`, when given, is gather_evidence's for the same panel and windows.
    """
    from lstmcast.forecast import MIN_STEP_WINDOWS

    if evidence is None:
        evidence = gather_evidence(panel, horizon, season, series, origin)
    names, w_series, w_origin, lstm_rows = (
        evidence.names, evidence.series, evidence.origin, evidence.lstm_rows
    )  # fmt: skip
    scores, preds, actual = _score_all(model, panel, evidence)
    unit = mase_scales(  # the bands' unit: metrics.band_scale of each window's history
        panel, w_series, w_origin, season, lambda x, m: metrics.band_scale(x, m, horizon)
    )
    with np.errstate(divide="ignore", invalid="ignore"):  # unit 0: a constant history
        errors = {m: np.abs(actual - preds[m]) / unit[:, None] for m in preds}
    # Each band from its own forecast's errors: a mix's too (on the LSTM's windows), as the
    # average of two forecasts errs less than either, and so needs a narrower band; but only
    # on MIN_STEP_WINDOWS windows or more: on fewer (a few series), a mix keeps its parts'
    # bands averaged, its method's resting on up to BAND_WINDOWS windows.
    band_windows = {m: int(np.isfinite(err).all(axis=1).sum()) for m, err in errors.items()}
    widths = {
        m: _widths(err, horizon, quantiles)
        for m, err in errors.items()
        if m in names or band_windows[m] >= MIN_STEP_WINDOWS
    }
    band_windows = {m: n for m, n in band_windows.items() if m in widths}
    recent = (panel.lengths[w_series] - w_origin <= MAX_FOLDS * horizon) | lstm_rows
    w_series, lstm_rows = w_series[recent], lstm_rows[recent]
    scores = {m: {k: v[recent] for k, v in own.items()} for m, own in scores.items()}
    doc = {
        "horizon": horizon,
        "season": season,
        "interval": [quantiles[0], quantiles[-1]],
        "windows": int(len(w_series)),  # the table's: the LSTM's windows when it was judged
    }
    choice, pooled, strongest = _choose_local(panel.n_series, w_series, names, scores)
    doc.update(_folds(panel.n_series, w_series, scores[pooled]["mase"], "folds"))
    doc["series_without_windows"] = int(panel.n_series - len(np.unique(w_series)))
    untested = np.setdiff1d(np.arange(panel.n_series), w_series)
    doc["untested"] = [str(panel.ids[i]) for i in untested]  # predict names them
    doc["local_method"] = pooled  # a new series shorter than the lookback gets it
    if model is not None and lstm_rows.any():
        choice, verdict = _judge_lstm(panel.n_series, w_series, scores, strongest, choice)
        doc.update(_folds(panel.n_series, w_series, scores["lstm"]["mase"], "lstm_folds"))
        doc.update(verdict)
    else:
        doc.update(best_baseline=pooled, verdict=None, skill_vs_best_baseline=None)
        doc.update(skill_interval=None, beats_best_baseline=False)
    doc["default_method"] = {"beats": "lstm", "ties": methods.mix(pooled)}.get(
        doc.get("verdict"), pooled
    )
    chosen = np.array(choice, dtype=object)
    # The table compares every method on the same windows: the LSTM's where it was judged,
    # with the per-series methods' evidence over all their windows beside it.
    rows = lstm_rows if "lstm" in scores else np.ones(len(w_series), dtype=bool)
    shown = ("lstm", *names, methods.mix(pooled)) if "lstm" in scores else names
    doc["methods"] = _table(scores, shown, rows)
    doc["methods"]["chosen"] = _chosen(scores, chosen[w_series], rows)
    doc["windows"] = int(rows.sum())
    if "lstm" in scores:
        doc["all_windows"] = _table(scores, names, np.ones(len(w_series), dtype=bool))
    doc["chosen"] = {m: int((chosen == m).sum()) for m in methods.names()}
    doc["band_windows"] = band_windows
    return Verdict(doc, chosen.astype(str), widths)


def _union(l_series, l_origin, series, origin):
    """The per-series methods' windows and the LSTM's, each once: (series, origin, is_lstm)."""
    key = lambda s, o: s.astype(np.int64) << 32 | o.astype(np.int64)  # noqa: E731
    keys = np.union1d(key(l_series, l_origin), key(series, origin))
    w_series, w_origin = keys >> 32, keys & 0xFFFFFFFF
    return w_series, w_origin, np.isin(keys, key(series, origin))


def _score_all(model, panel: Panel, evidence: Evidence):
    """Each method's scores on every window, NaN where it is not scored: the LSTM outside
    its windows, a fitted method (ETS, Theta) outside the series it is scored on."""
    names, w_series, w_origin, lstm_rows = (
        evidence.names, evidence.series, evidence.origin, evidence.lstm_rows
    )  # fmt: skip
    actual, scale, horizon = evidence.actual, evidence.scale, evidence.actual.shape[1]
    preds = dict(evidence.preds)  # the mixes join it; the evidence stays as it came
    scores = {m: score_windows(actual, preds[m], scale) for m in names}
    if model is not None and lstm_rows.any():
        from lstmcast.forecast import floor_at_zero, forecast_at

        q = forecast_at(model, panel, w_series[lstm_rows], w_origin[lstm_rows], horizon)
        q = q.astype(np.float64)
        floor_at_zero(q, panel, w_series[lstm_rows], w_origin[lstm_rows])  # as predict does
        # Its band too (coverage, width, pinball): the held-out check of the intervals.
        mid, rows = model.cfg.median_index, lstm_rows
        own = score_windows(actual[rows], q[:, :, mid], scale[rows], q, model.cfg.quantiles)
        scores["lstm"] = {k: np.full(len(w_series), np.nan) for k in own}
        for k, v in own.items():
            scores["lstm"][k][rows] = v
        lstm_point = np.full((len(w_series), horizon), np.nan)
        lstm_point[rows] = q[:, :, mid]
        for m in names:  # each mix: the LSTM's and the method's forecast, averaged
            preds[methods.mix(m)] = (lstm_point + preds[m]) / 2
            scores[methods.mix(m)] = score_windows(actual, preds[methods.mix(m)], scale)
    return scores, preds, actual


def _choose_local(n_series, w_series, names, scores):
    """Each series' method, the pooled choice among the per-series methods, and the
    strongest of them (lowest mean MASE), which the LSTM must beat.

    The simplest forecast, naive or seasonal naive (whichever has the lower mean MASE), is
    kept unless the method of lowest mean MASE beats it beyond the noise of the windows
    (its skill's bootstrap interval above 0): on a random walk a fitted method wins
    validation about half the time by chance, and then loses to naive where it counts.
    """
    mase = np.stack([scores[m]["mase"] for m in names])  # (M, V)
    mae = np.stack([scores[m]["mae"] for m in names])
    shared = np.isfinite(mase).all(axis=0)
    if not shared.any():
        return np.array([names[0]] * n_series, dtype=object), names[0], names[0]
    means = mase[:, shared].mean(axis=1)
    simple = [k for k, m in enumerate(names) if m in SIMPLEST]
    pooled = reference = min(simple, key=lambda k: means[k]) if simple else 0
    best = int(np.argmin(means))
    _, low, high = metrics.skill_interval(
        mase[best, shared], mase[reference, shared], w_series[shared]
    )
    if metrics.verdict(low, high) == "beats":
        pooled = best
    pick = _switch(n_series, w_series, mae, pooled)
    return np.array(names, dtype=object)[pick], names[pooled], names[best]


def _switch(n_series: int, w_series: np.ndarray, mae: np.ndarray, pooled: int) -> np.ndarray:
    """Per series, the row of `mae` (M, V) it is forecast by: `pooled`, unless another row's
    mean over the series' own windows where both are scored (MIN_FOLDS at least) is
    SWITCH_MARGIN lower than `pooled`'s on the same windows; the lowest ratio wins."""
    ratio = np.full((len(mae), n_series), np.inf)
    for m in range(len(mae)):
        both = np.isfinite(mae[m]) & np.isfinite(mae[pooled])
        own = np.bincount(w_series[both], weights=mae[m, both], minlength=n_series)
        base = np.bincount(w_series[both], weights=mae[pooled, both], minlength=n_series)
        count = np.bincount(w_series[both], minlength=n_series)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(base > 0, own / base, np.inf)
        ratio[m] = np.where(count >= MIN_FOLDS, r, np.inf)
    best = np.argmin(ratio, axis=0)
    clear = ratio[best, np.arange(n_series)] < 1 - SWITCH_MARGIN
    return np.where(clear, best, pooled)


def _judge_lstm(n_series, w_series, scores, strongest, choice):
    """The verdict of the LSTM against the strongest per-series method on the LSTM's
    windows; where it beats, the LSTM forecasts every series but those clearly better
    served."""
    lstm, best = scores["lstm"]["mase"], scores[strongest]["mase"]
    both = np.isfinite(lstm) & np.isfinite(best)
    skill, low, high = metrics.skill_interval(lstm[both], best[both], w_series[both])
    verdict = metrics.verdict(low, high)
    out = {
        "best_baseline": strongest,
        "verdict": verdict,
        "skill_vs_best_baseline": skill,
        "skill_interval": None if low is None else [low, high],
        "beats_best_baseline": verdict == "beats",
        "series_validated": int(len(np.unique(w_series[np.isfinite(lstm)]))),
    }
    if verdict == "ties":  # neither is better beyond the noise: half of each
        return np.array([methods.mix(m) for m in choice], dtype=object), out
    if verdict != "beats":
        return choice, out
    names = ["lstm", *[m for m in scores if not methods.uses_lstm(m)]]
    mae = np.stack([scores[m]["mae"] for m in names])
    pick = _switch(n_series, w_series, mae, 0)
    return np.array(names, dtype=object)[pick], out


def _folds(n_series: int, w_series: np.ndarray, scored: np.ndarray, key: str) -> dict:
    """How many independent windows each series' evidence holds: min, median and max."""
    counts = np.bincount(w_series[np.isfinite(scored)], minlength=n_series)
    counts = counts[counts > 0]
    if not len(counts):
        return {key: {"min": 0, "median": 0, "max": 0}}
    return {
        key: {
            "min": int(counts.min()),
            "median": float(np.median(counts)),
            "max": int(counts.max()),
        }
    }


def _table(scores: dict, names, rows: np.ndarray) -> dict:
    """method -> metric -> mean over the windows `rows` where it is scored, and their count."""
    out = {}
    for m in names:
        out[m] = {k: _mean(v[rows]) for k, v in scores[m].items()}
        out[m]["windows"] = int(np.isfinite(scores[m]["mae"][rows]).sum())
    return out


def _chosen(scores: dict, chosen: np.ndarray, rows: np.ndarray) -> dict:
    """The forecast that ships: each window of `rows` scored by its series' method."""
    out = {}
    for k in ("mae", "rmse", "smape", "mape", "mase"):
        values = np.full(len(chosen), np.nan)
        for m in np.unique(chosen):
            pick = chosen == m
            values[pick] = scores[m][k][pick]
        out[k] = _mean(values[rows])
    out["windows"] = int(np.isfinite(values[rows]).sum())
    return out


def _widths(err: np.ndarray, horizon: int, quantiles: tuple[float, ...]) -> list[list[float]]:
    """(H, Q) conformal offsets from scaled absolute errors (V, H): for the pair (q, 1 - q),
    the (1 - 2q)(1 + 1/n) quantile of |error| / scale at each horizon step, below and above
    the point forecast, never narrower than at an earlier step. With fewer than
    MIN_STEP_WINDOWS windows one quantile of |error| / sqrt(h), pooled over the steps, grown
    like a random walk's by sqrt(h); without any window a normal random walk's, 1.25 z
    sqrt(h) (its mean absolute step is 0.8 sigma)."""
    from statistics import NormalDist

    from lstmcast.forecast import MIN_STEP_WINDOWS

    err = err[np.isfinite(err).all(axis=1)]
    out = np.zeros((horizon, len(quantiles)))
    root = np.sqrt(np.arange(1, horizon + 1))
    for k, q in enumerate(quantiles):
        if q == 0.5:
            continue
        level = abs(1 - 2 * q)
        if len(err) >= MIN_STEP_WINDOWS:
            w = np.quantile(err, min(1.0, level * (1 + 1 / len(err))), axis=0)
        elif len(err):
            pooled = (err / root).ravel()
            w = np.quantile(pooled, min(1.0, level * (1 + 1 / len(pooled)))) * root
        else:
            w = 1.25 * NormalDist().inv_cdf(0.5 + level / 2) * root
        w = np.maximum.accumulate(w)  # uncertainty does not shrink further ahead
        out[:, k] = -w if q < 0.5 else w
    return np.round(out, 6).tolist()


def verdict_evidence_warning(doc: dict) -> str | None:
    """The warning of a choice that rests on fewer than MIN_FOLDS windows per series."""
    folds = doc.get("lstm_folds") or doc.get("folds") or {}
    median = folds.get("median", 0)
    if not median or median >= MIN_FOLDS:
        return None
    what = "the LSTM's verdict rests" if doc.get("lstm_folds") else "the choice of method rests"
    windows = "window" if median == 1 else "windows"
    return (
        f"{what} on {median:g} independent {windows} per series (fewer than {MIN_FOLDS}): "
        "treat it as a guess (collect more data, or pass a smaller --horizon)"
    )


def band_evidence_warning(doc: dict) -> str | None:
    """The warning of a band that rests on fewer than MIN_FOLDS held-out windows: the
    fewest of the methods that forecast a series (the band windows of a per-series method
    or a mix, the LSTM's calibration windows for the LSTM; a mix without a band of its own,
    on few windows or in an older file, has its partner's and the LSTM's)."""
    shipped = [m for m, n in doc.get("chosen", {}).items() if n]
    bands = doc.get("band_windows", {})
    counts, lstm = [], "lstm" in shipped
    for m in shipped:
        own = m if m in bands else methods.partner(m) or m
        lstm |= own != m  # a mix without its own band: its partner's and the LSTM's
        if own in bands:
            counts.append(bands[own])
    if lstm and "calibration" in doc:
        counts.append(doc["calibration"]["windows"])
    if not counts or min(counts) >= MIN_FOLDS:
        return None
    low, high = doc.get("interval", [0.1, 0.9])
    return (
        f"the {round(100 * (high - low))} % band rests on {plural(min(counts), 'held-out window')}: "
        "its coverage is a rough guess (collect more data, or pass a smaller --horizon)"
    )


def refit_recipe(header: dict, device: str, callback, fell_back: list):
    """The model file's recipe, retrained and validated on a fold's past as `train` does it:
    (model, Verdict: each series' method and the per-series methods' bands); where the past
    is too short for an LSTM, (None, the per-series methods' Verdict), with train's reason
    appended to `fell_back`."""
    from lstmcast.config import ModelConfig, TrainConfig
    from lstmcast.train import too_little_data

    cfg = ModelConfig.from_dict(header["model"])
    tcfg = TrainConfig(**{**header.get("train", {}), "device": device})

    def refit(past: Panel):
        model, series = None, np.empty(0, np.int64)
        origin = series
        reason, evidence = too_little_data(past, cfg, tcfg, explicit_lookback=False), None
        if reason is None:
            result, evidence = train_beside_evidence(past, cfg, tcfg, callback)
            model, (series, origin) = result.model, evidence.lstm_windows()
        else:
            fell_back.append(reason)
        h, q, m = cfg.horizon, cfg.quantiles, cfg.season
        return model, validate_methods(model, past, h, q, m, series, origin, evidence)

    return refit
