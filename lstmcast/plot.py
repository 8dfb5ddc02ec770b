"""PNG plots of history, forecasts, interval bands and the actuals after them (matplotlib, Agg)."""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lstmcast import methods as registry
from lstmcast.config import ModelConfig
from lstmcast.data.freq import describe_freq, fixed_step_ns, future_dates
from lstmcast.data.panel import Panel
from lstmcast.errors import DataError
from lstmcast.files import atomic_write
from lstmcast.text import plural, timestamp

__all__ = [
    "Forecast",
    "SeriesPlot",
    "build_figure",
    "plot_series",
    "history_slice",
    "stamp",
    "tick_labels",
    "default_history",
    "pick_series",
    "plot_model",
    "plot_forecasts",
    "backtest_plots",
    "plot_backtest",
]

HOUR_STEPS = (1, 2, 3, 4, 6, 12)  # hours between labelled ticks, the smallest that fits
MAX_TICKS = 12  # labels that fit under a 6.4-inch panel at font size 8


@dataclass
class Forecast:
    """One forecast on a panel: made at `cutoff` (the last value it saw, `cutoff_y`)."""

    cutoff: np.datetime64
    cutoff_y: float
    ds: np.ndarray  # datetime64 (H,)
    yhat: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


@dataclass
class SeriesPlot:
    """What one panel shows: the history up to the first forecast, the forecasts, and the
    values observed after the first cutoff (held out or backtested), if any."""

    title: str
    hist_ds: np.ndarray
    hist_y: np.ndarray
    forecasts: list[Forecast]
    actual_ds: np.ndarray | None = None
    actual: np.ndarray | None = None
    note: str | None = None
    ylabel: str | None = None
    series: str | None = None  # the series id, for callers


def stamp(ts, freq: str) -> str:
    """A timestamp in a panel's title: ISO 8601 (lstmcast.text.timestamp), without the time
    of day for daily and coarser data."""
    return timestamp(ts, with_time=True) if _subdaily(freq) else timestamp(ts)[:10]


def _subdaily(freq: str) -> bool:
    step = fixed_step_ns(freq)
    return step is not None and step < pd.Timedelta(days=1).value


def tick_labels(ticks) -> list[str]:
    """Labels of date ticks that cannot be misread: month names, never a bare number.

    Each label writes the unit the ticks step by ('15 Dec', 'Jan 2025', '2025', '19:00'),
    and adds the coarser unit on the first tick and wherever it changes ('22 Dec' then
    '5 Jan\n2025'; '23:00' then '00:00\n16 Dec'), so no offset label is needed.
    """
    stamps = [pd.Timestamp(t).tz_localize(None) for t in ticks]
    if not stamps:
        return []
    step = min(
        (b - a for a, b in zip(stamps, stamps[1:], strict=False)), default=pd.Timedelta(days=1)
    )
    labels, before = [], None
    for t in stamps:
        day = f"{t.day} {t:%b}"
        if step >= pd.Timedelta(days=300):
            label = f"{t:%Y}"
        elif step >= pd.Timedelta(days=28):
            label = f"{t:%b}" + (f"\n{t:%Y}" if before is None or t.year != before.year else "")
        elif step >= pd.Timedelta(days=1):
            label = day + (f"\n{t:%Y}" if before is None or t.year != before.year else "")
        else:
            clock = "%H:%M" if step >= pd.Timedelta(minutes=1) else "%H:%M:%S"
            label = t.strftime(clock) + (
                f".{t.microsecond // 1000:03d}" if step < pd.Timedelta(seconds=1) else ""
            )
            if before is None or t.normalize() != before.normalize():
                label += (
                    f"\n{day} {t:%Y}" if before is None or t.year != before.year else f"\n{day}"
                )
        labels.append(label)
        before = t
    return labels


def _time_axis(ax, start, end, freq: str) -> None:
    """Date ticks labelled by tick_labels; for sub-daily data hour ticks where they fit."""
    import matplotlib.dates as mdates
    from matplotlib.ticker import Formatter

    class Labels(Formatter):
        def format_ticks(self, values):
            return tick_labels(mdates.num2date(v) for v in values)

        def __call__(self, x, pos=None):
            return tick_labels([mdates.num2date(x)])[0]

    hours = (pd.Timestamp(end) - pd.Timestamp(start)) / pd.Timedelta(hours=1)
    fits = [k for k in HOUR_STEPS if hours / k <= MAX_TICKS]
    if _subdaily(freq) and hours >= 3 and fits:
        locator = mdates.HourLocator(byhour=range(0, 24, fits[0]))
    elif _subdaily(freq) and hours >= 3:  # too long for labelled hours: days, minor 6-hourly
        locator = mdates.DayLocator(interval=math.ceil(hours / 24 / MAX_TICKS))
        ax.xaxis.set_minor_locator(mdates.HourLocator(byhour=(0, 6, 12, 18)))
    else:
        locator = mdates.AutoDateLocator(minticks=3, maxticks=7)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(Labels())


def build_figure(
    plots: list[SeriesPlot],
    freq: str,
    title: str | None = None,
    interval: str = "80% interval",
):
    """One small chart per series in a grid: a matplotlib Figure (Agg), not yet saved."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(plots)
    cols = 1 if n == 1 else 2 if n <= 4 else 3
    rows = math.ceil(n / cols)
    # A single panel gets the width its title and legend need.
    width = 6.4 * cols if cols > 1 else 9.0
    fig, axes = plt.subplots(
        rows, cols, figsize=(width, 3.8 * rows), squeeze=False, constrained_layout=True
    )
    for ax, p in zip(axes.flat, plots, strict=False):
        ax.plot(p.hist_ds, p.hist_y, color="#333333", lw=1.1, label="history")
        if p.actual is not None:
            ax.plot(
                p.actual_ds, p.actual, color="#d62728", lw=1.1, ls="--", label="actual after origin"
            )
        for k, f in enumerate(p.forecasts):
            first = k == 0  # one legend entry per kind of line
            ax.axvline(
                f.cutoff,
                color="#777777",
                lw=0.8,
                ls=":",
                label="forecast origin" if first else None,
            )
            ax.fill_between(
                f.ds, f.lower, f.upper, color="#1f77b4", alpha=0.22, lw=0,
                label=interval if first else None,
            )  # fmt: skip
            # Start at the value the forecast saw, so history and forecast read as one curve.
            ax.plot(
                np.r_[[f.cutoff], f.ds], np.r_[[f.cutoff_y], f.yhat], color="#1f77b4", lw=1.6,
                label="forecast" if first else None,
            )  # fmt: skip
        ax.set_title(p.title + (f"\n{p.note}" if p.note else ""), fontsize=10, loc="left")
        if p.ylabel:
            ax.set_ylabel(p.ylabel, fontsize=9)
        end = p.forecasts[-1].ds[-1] if p.forecasts else p.hist_ds[-1]
        _time_axis(ax, p.hist_ds[0], end, freq)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(
        handles, labels, loc="outside lower center", ncols=len(labels), frameon=False, fontsize=9
    )
    if title:
        fig.suptitle(title, fontsize=12)
    return fig


def plot_series(
    plots: list[SeriesPlot],
    path: str | os.PathLike,
    freq: str,
    title: str | None = None,
    interval: str = "80% interval",
) -> None:
    """Draw the plots (see `build_figure`) and write the PNG atomically. The PNG's text
    chunks repeat the figure's title and each panel's (`Title`, `Description`), so the
    words of a plot can be read, searched and checked without looking at it."""
    import matplotlib.pyplot as plt

    fig = build_figure(plots, freq, title, interval)
    buf = io.BytesIO()
    panels = "\n".join(
        p.title + (" | " + p.note.replace("\n", "; ") if p.note else "") for p in plots
    )
    fig.savefig(buf, format="png", dpi=110, metadata={"Title": title or "", "Description": panels})
    plt.close(fig)
    atomic_write(path, lambda fh: fh.write(buf.getvalue()))


def history_slice(panel, i: int, end: int, last: int) -> tuple[np.ndarray, np.ndarray]:
    """Timestamps and values of series i's `last` steps before position `end`."""
    start = max(0, end - last)
    ds = pd.date_range(panel.first[i], periods=end, freq=panel.freq)[start:end].to_numpy()
    return ds, panel.series(i)[start:end]


# What `lstmcast plot` and `lstmcast evaluate --plot` draw: panels assembled from forecasts.


def default_history(horizon: int, season: int) -> int:
    """Steps of history a plot shows by default: three horizons or two seasons, the longer."""
    return max(3 * horizon, 2 * season)


def pick_series(panel: Panel, series: list[str] | None, data) -> list[int]:
    """Positions of the series named by --series (DataError for one not in `data`), or of
    the first six."""
    ids = list(panel.ids.astype(str))
    if series:
        missing = [s for s in series if s not in ids]
        if missing:
            raise DataError(
                f"--series {missing[0]}: no such series in {data} (e.g. {', '.join(ids[:5])})"
            )
        return [ids.index(s) for s in series]
    return list(range(min(6, len(ids))))


def plot_model(
    model,
    header: dict,
    panel: Panel,
    output: str | os.PathLike,
    data,
    model_path,
    series: list[str] | None = None,
    last: int | None = None,
    holdout: int | None = None,
    horizon: int | None = None,
) -> tuple[list[str], list[str]]:
    """Forecast some series of `panel` as `predict` would (each by the method the model file
    chose for it) from their end, or `holdout` steps before it, and draw them with
    plot_forecasts; returns the ids drawn and the warnings."""
    from lstmcast.choice import chosen_methods
    from lstmcast.forecast import check_horizon, forecast_by_method, horizon_warning

    ids = list(panel.ids.astype(str))
    chosen = pick_series(panel, series, data)
    cfg = model.cfg
    horizon = holdout or horizon or cfg.horizon
    warnings: list[str] = []
    methods = chosen_methods(header, panel, "auto", model_path, warnings)[chosen]
    if np.char.startswith(methods.astype(str), "lstm").any() and horizon_warning(
        horizon, cfg.horizon
    ):
        warnings.append(horizon_warning(horizon, cfg.horizon))
    n = panel.lengths
    if not holdout:
        check_horizon(panel, horizon, len(model.cfg.quantiles), series=len(chosen))
    origin = np.array([n[i] - (holdout or 0) for i in chosen], dtype=np.int64)
    if (origin < 2).any():
        raise DataError(
            f"--holdout {holdout} leaves no history for series '{ids[chosen[int(np.argmin(origin))]]}'"
        )
    picked = np.array(chosen, dtype=np.int64)
    preds = forecast_by_method(model, header, panel, picked, origin, horizon, methods)
    plot_forecasts(panel, chosen, origin, preds, cfg, output, horizon, last, holdout, methods)
    return [ids[i] for i in chosen], warnings


def plot_forecasts(
    panel: Panel,
    chosen: list[int],
    origin: np.ndarray,
    preds: np.ndarray,
    cfg: ModelConfig,
    output: str | os.PathLike,
    horizon: int,
    last: int | None = None,
    holdout: int | None = None,
    methods: np.ndarray | None = None,
) -> None:
    """Draw each chosen series' forecast `preds[k]` (horizon, Q) from `origin[k]` after its
    `last` steps of history (default: default_history) to a PNG; with `holdout`, the
    held-out actuals too.

    Each panel is titled with its series, the method that forecast it (`methods[k]`, the
    LSTM where not given) and its forecast origin (the last value the forecast saw); the
    y axis carries the target's name.
    """
    ids = list(panel.ids.astype(str))
    last = last or default_history(horizon, cfg.season)
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
                f"{ids[i]} — {registry.label(methods[k] if methods is not None else 'lstm')}"
                f", forecast origin {stamp(hist_ds[-1], panel.freq)}",
                hist_ds, hist_y, [fc],
                np.r_[hist_ds[-1:], fc_ds] if holdout else None,
                np.r_[hist_y[-1:], actual] if holdout else None,
                ylabel=_target_name(panel, i), series=ids[i],
            )
        )  # fmt: skip
    title = f"Forecast{_of_target(plots)}: {plural(horizon, 'step')} ({describe_freq(panel.freq)})"
    title += f" against the last {holdout} values, held out" if holdout else ""
    title += f"; {len(chosen)} of {panel.n_series} series" if len(chosen) < panel.n_series else ""
    plot_series(plots, output, panel.freq, title, interval=f"{q[0]:g}–{q[-1]:g} quantile band")


def _of_target(plots: list) -> str:
    """' of y' when every panel shows the same target, for a figure's title."""
    targets = {p.ylabel for p in plots}
    return f" of {targets.pop()}" if len(targets) == 1 else ""


def backtest_plots(result, count: int = 3) -> list[SeriesPlot]:
    """Panels of the `count` worst and `count` best series by skill against their best
    baseline, each with every fold it was scored on and the figures of exactly those folds.

    Each series is drawn as `predict` forecasts it: by the method the model file chose for
    it (`result.methods`: the LSTM, a per-series method, or a mix), with that method's band;
    the panel names the method and the folds it was scored on, out of the backtest's folds.
    `result` is an api.EvaluateResult: its per-series table, backtest windows and panel.
    """
    from lstmcast.evaluate import ranked_by_skill

    bt, panel, table = result.backtest, result.panel, result.per_series
    ranked = ranked_by_skill(table)
    if "lstm" not in bt.scores:  # a model file trained on too little data
        raise DataError(
            "--plot ranks series by the LSTM's skill, and this backtest has no LSTM",
            hint="drop --plot, or plot single series with lstmcast plot --holdout N",
        )
    if ranked.empty:
        raise DataError(
            "no series has a MASE to rank by for --plot (every history is constant)",
            hint="drop --plot, or plot single series with lstmcast plot --holdout N",
        )
    worst = list(ranked["unique_id"].head(count))
    best = [u for u in ranked["unique_id"].tail(count)[::-1] if u not in worst]
    ids = panel.ids.astype(str)
    horizon, mid = bt.horizon, bt.median
    shipped = bt.preds if bt.chosen is None or result.methods is None else bt.chosen
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
            p = shipped[w]
            forecasts.append(Forecast(cutoff_ds, cutoff_y, fc_ds, p[:, mid], p[:, 0], p[:, -1]))
        row = table.loc[table["unique_id"] == uid].iloc[0]
        method = "lstm" if result.methods is None or bt.chosen is None else result.methods[i]
        origins = stamp(forecasts[0].cutoff, panel.freq) + (
            f" … {stamp(forecasts[-1].cutoff, panel.freq)}" if len(rows) > 1 else ""
        )
        plots.append(
            SeriesPlot(
                f"{uid} — {registry.label(method)}, forecast origin{'s' * (len(rows) > 1)} {origins}",
                hist_ds, hist_y, forecasts, span_ds, span_y,
                note=_backtest_note(row, method, len(rows), bt.folds, ranked, uid in worst),
                ylabel=_target_name(panel, i), series=uid,
            )
        )  # fmt: skip
    return plots


def _backtest_note(row, method: str, folds: int, total: int, ranked, worst: bool) -> str:
    """A backtest panel's note: the LSTM's skill on the series, the drawn method's MASE and
    the folds both are the mean of (of the backtest's `total`)."""
    base = row["best_baseline"]
    rank = "" if len(ranked) == 1 else "worst: " if worst else "best: "
    of = f"{folds} of {plural(total, 'fold')}" if folds < total else plural(folds, "fold")
    drawn = float(row.get("chosen_mase", np.nan)) if method != "lstm" else np.nan
    shown = f"{registry.label(method)} drawn, MASE {drawn:.3f}; " if np.isfinite(drawn) else ""
    return (
        f"{rank}LSTM skill {row['skill_vs_best_baseline']:+.3f} vs {registry.label(base)} "
        f"(MASE {row['lstm_mase']:.3f} vs {row[f'{base}_mase']:.3f})\n{shown}mean of {of}"
    )


def plot_backtest(result, output: str | os.PathLike, count: int = 3) -> list[str]:
    """Draw `backtest_plots` to a PNG; returns the series drawn. The title's folds are the
    backtest's, and says when a drawn series was scored on fewer."""
    bt = result.backtest
    plots = backtest_plots(result, count)
    drawn = [p.series for p in plots]
    ids = result.panel.ids.astype(str)
    fewest = min(int(np.isin(bt.series, np.flatnonzero(ids == u)).sum()) for u in drawn)
    title = (
        f"Backtest{_of_target(plots)}: {plural(bt.folds, 'fold')} of {plural(bt.horizon, 'step')}"
        + (f" ({fewest} for the shortest series drawn)" if fewest < bt.folds else "")
        + (", refit per fold" if result.summary["refit"] else "")
        + (
            f"; {len(plots)} of {result.panel.n_series} series, the worst and best by skill"
            if len(plots) < result.panel.n_series
            else "; worst and best series by skill"
            if len(plots) > 1
            else ""
        )
        + (" against the best baseline" if len(plots) > 1 else "")
    )
    q = bt.quantiles
    plot_series(
        plots, output, result.panel.freq, title, interval=f"{q[0]:g}–{q[-1]:g} quantile band"
    )
    return drawn


def _target_name(panel: Panel, i: int) -> str:
    """What series i measures: the target column (each column is a series in a wide file)."""
    cols = panel.columns
    return str(panel.ids[i]) if cols.layout == "wide" else cols.targets[0]
