"""Rendering of `evaluate`: the backtest's tables and the series ranked by skill."""

from __future__ import annotations

from lstmcast import methods as registry
from lstmcast.cli.render import cell, drawn_text, fmt, metrics_table, verdict_line, wrote
from lstmcast.text import plural

__all__ = ["evaluate_tables", "skill_tables", "written_lines", "SKILL_CAPTION"]


def evaluate_tables(summary: dict, per_series, show: int) -> list:
    """The backtest's tables: mean and median across series (one table for a single
    series), then the series ranked by skill against their best baseline."""

    cols = ["mae", "rmse", "smape", "mape", "mase", "pinball", "coverage", "width"]
    refit = ", refit per fold" if summary["refit"] else ""
    single = summary["series"] == 1
    tables = []
    for how in ("mean",) if single else ("mean", "median"):
        rows = [
            {"method": registry.label(m), **summary["methods"][m][how]}
            for m in (*registry.names(), "chosen")
            if m in summary["methods"]
        ]
        if single:
            uid, windows = per_series["unique_id"].iloc[0], summary["windows"]
            title = f"Backtest of series '{uid}', mean of {plural(windows, 'window')}"
        else:
            title = f"Backtest, {how} of {summary['series']:,} series"
        table = metrics_table(title + refit, rows, cols)
        if how == "mean" and summary["skill_vs_seasonal_naive"] is not None:
            lines = [
                verdict_line(
                    summary.get("skill_vs_best_baseline"),
                    summary.get("best_baseline"),
                    summary.get("skill_interval"),
                    summary.get("verdict"),
                )
            ]
            table.caption = "\n".join(lines)
            table.caption_justify = "left"
        elif how == "mean" and "lstm" not in summary["methods"]:
            table.caption = "no LSTM: the model file was trained on too little data"
            table.caption_justify = "left"
        tables.append(table)
    if summary.get("mape_zero_actuals_skipped"):
        tables[
            0
        ].caption += f"\nmape skips {summary['mape_zero_actuals_skipped']:,} zero actuals (it is undefined there)"
    fps = summary.get("folds_per_series")
    if fps and fps["min"] < summary["folds"]:
        tables[
            0
        ].caption += f"\nsome series are too short for {plural(summary['folds'], 'fold')}: {fps['min']} to {fps['max']} per series"
    if show and not single:
        tables += skill_tables(per_series, show)
    return tables


SKILL_CAPTION = (
    "skill = 1 - MASE(LSTM) / MASE(best other method), the per-series method (naive, "
    "seasonal naive, drift, Theta, ETS, ETS + Theta) best on that series: below 0 it wins there"
)


def skill_tables(per_series, show: int) -> list:
    """The `show` worst and `show` best series by skill against their best baseline;
    one table of all of them when there are fewer than 2 x `show`."""
    from rich.table import Table

    from lstmcast.evaluate import ranked_by_skill

    ranked = ranked_by_skill(per_series)
    unranked = len(per_series) - len(ranked)
    if ranked.empty:
        return []
    if len(ranked) < 2 * show:  # the worst and best would overlap
        parts = [
            (f"All {len(ranked)} series by skill against the best baseline, worst first", ranked)
        ]
    else:
        parts = [
            (f"Worst {show} series by skill against the best baseline", ranked.head(show)),
            (f"Best {show} series by skill against the best baseline", ranked.tail(show)[::-1]),
        ]
    tables = []
    for title, rows in parts:
        table = Table(title=title, title_justify="left")
        for c in (
            "series",
            "folds",
            "skill",
            "LSTM MASE",
            "best baseline",
            "its MASE",
            "LSTM sMAPE",
        ):
            table.add_column(c, justify="left" if c in ("series", "best baseline") else "right")
        for r in rows.itertuples(index=False):
            best = r.best_baseline
            table.add_row(
                cell(r.unique_id),
                str(r.folds),
                fmt(r.skill_vs_best_baseline),
                fmt(r.lstm_mase),
                registry.label(best),
                fmt(getattr(r, f"{best}_mase")),
                fmt(r.lstm_smape),
            )
        tables.append(table)
    between = len(ranked) - 2 * show
    tables[-1].caption = (
        SKILL_CAPTION
        + (
            f"\n{unranked} series without a MASE (constant history) are not ranked"
            if unranked
            else ""
        )
        + (
            f"\n{between} series in between: --show {len(ranked)} lists every one, "
            "-o FILE writes the per-series table"
            if between > 0
            else ""
        )
    )
    tables[-1].caption_justify = "left"
    return tables


def written_lines(result, output, forecasts, plot) -> None:
    """A 'wrote FILE (what)' line on stderr for each file evaluate wrote."""
    bt = result.backtest
    if output is not None:
        wrote(output, f"per-series table, {plural(len(result.per_series), 'series', 'series')}")
    if forecasts is not None:
        rows = len(bt.series) * bt.horizon
        wrote(
            forecasts,
            f"{plural(rows, 'row')}: {plural(len(bt.series), 'window')} of {plural(bt.horizon, 'step')}",
        )
    if plot is not None:
        wrote(plot, drawn_text(result.plotted, result.series, "--show N draws N worst and N best"))
