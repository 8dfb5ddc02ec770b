"""Rendering: Rich tables and error lines. Core modules return data; this module shows it."""

from __future__ import annotations

import math
import os
import sys
from typing import TYPE_CHECKING, Any

from lstmcast import methods as registry
from lstmcast.cli.documents import document, print_json
from lstmcast.text import plural, timestamp

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

__all__ = [
    "out",
    "err",
    "print_error",
    "wrote",
    "drawn_text",
    "inspect_table",
    "kv_table",
    "metrics_table",
    "fmt",
    "visible",
]

# Control characters (C0, DEL, C1) shown as \x1b and the like: text from files (series ids,
# column names, paths, model headers) can never move the cursor or clear the screen.
_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))}
_CONTROL_BUT_NEWLINE = {c: e for c, e in _CONTROL.items() if c != 0x0A}


def visible(text: Any) -> str:
    """`text` with every control character escaped: safe to print on a terminal, one line."""
    return str(text).translate(_CONTROL)


def cell(value: Any) -> Text:
    """A table cell that shows `value` literally: '[bold]x' is not markup, ESC is escaped."""
    from rich.text import Text

    return Text(visible(value))


def _console(stderr: bool) -> Console:
    from rich.console import Console

    class _Console(Console):
        """Escapes control characters (but line breaks, which captions use) in every string
        it renders; table cells of data are `cell`s, escaped whole."""

        def render_str(self, text: str, **kwargs) -> Text:
            return super().render_str(str(text).translate(_CONTROL_BUT_NEWLINE), **kwargs)

    # Rich already drops colour for non-terminals and honours NO_COLOR; a generous width
    # keeps piped tables from wrapping mid-row.
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else int(os.environ.get("COLUMNS", 120))
    # Diagnostics on stderr are never wrapped: one message, one line, for logs and grep.
    # No emoji codes either: a series named ':cat:' stays ':cat:'.
    return _Console(stderr=stderr, width=width, highlight=False, emoji=False, soft_wrap=stderr)


class _LazyConsole:
    """A Rich Console made on first use: a run that prints no table never imports Rich."""

    def __init__(self, stderr: bool) -> None:
        self.stderr = stderr
        self.console: Console | None = None

    def get(self) -> Console:
        if self.console is None:
            self.console = _console(self.stderr)
        return self.console

    def __getattr__(self, name: str):
        return getattr(self.get(), name)


out = _LazyConsole(stderr=False)
err = _LazyConsole(stderr=True)


def wrote(path, what: str) -> None:
    """The line on stderr that says a file was written, and what it holds."""
    err.print(f"wrote {path} ({what})", markup=False)


def drawn_text(drawn: list[str], total: int, hint: str | None = None) -> str:
    """'6 of 50 series: s0, s1, … (--series picks others)': the series a plot drew, and the
    `hint` on choosing others when it drew only some."""
    shown = ", ".join(drawn[:6]) + (" …" if len(drawn) > 6 else "")
    count = (
        f"{len(drawn)} of {total} series"
        if total > len(drawn)
        else plural(total, "series", "series")
    )
    more = f"; {hint}" if hint and total > len(drawn) else ""
    return f"{count}: {shown}{more}"


def print_error(
    kind: str,
    code: int,
    message: str,
    hint: str | None,
    as_json: bool,
    command: str | None = None,
    found: dict | None = None,  # what inspect found before the problem, for its document
) -> None:
    if as_json:
        error = {"code": code, "kind": kind, "message": message, "hint": hint}
        print_json(document(command, {**(found or {}), "error": error}))
    message, hint = visible(message), hint and visible(hint)
    sys.stderr.write(f"error: {message}\n" + (f"  hint: {hint}\n" if hint else ""))
    sys.stderr.flush()


def fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "—"
        if value != 0 and (abs(value) >= 1e6 or abs(value) < 10**-digits):
            return f"{value:.{digits}g}"
        return f"{value:,.{digits}f}"
    return str(value)


def kv_table(title: str, rows: list[tuple[str, Any]]) -> Table:
    from rich.table import Table

    table = Table(title=title, show_header=False, title_justify="left", box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for key, value in rows:
        table.add_row(key, cell(fmt(value) if not isinstance(value, str) else value))
    return table


def _found_rows(found: dict, path: str) -> list[tuple[str, Any]]:
    """The file and what each column is: how inspect's tables begin."""
    cols = found["columns"]
    target = cols["target"]
    return [
        ("file", path),
        ("layout", found["layout"]),
        ("time column", cols["time"]),
        ("id column", cols["id"] or "—"),
        (
            "target",
            ", ".join(target)
            if len(target) <= 6
            else f"{len(target)} columns (--json lists every one)",
        ),
    ]


def inspect_problem(found: dict, path: str, problem: str) -> Table:
    """What inspect found in a file it cannot load, beside the problem (the error follows)."""
    rows = _found_rows(found, path)
    if "covariates" in found["columns"]:
        rows.append(("covariates", _covariates_text(found["columns"])))
    rows += [("problem", problem)] + [("note", n) for n in found.get("notes", [])]
    return kv_table("Detected, with a problem", rows)


def inspect_table(summary: dict, path: str) -> Table:
    cols = summary["columns"]
    length = summary["length"]
    rows = _found_rows(summary, path) + [
        (
            "frequency",
            f"{summary['frequency']} ({summary['frequency_name']}, season {summary['season_length']})",
        ),
        ("series", f"{summary['series']:,}"),
        ("rows on the grid", f"{summary['rows']:,}"),
        (
            "length min / median / max",
            f"{length['min']:,} / {length['median']:,.0f} / {length['max']:,}",
        ),
        ("first timestamp", summary["first_timestamp"]),
        ("last timestamp", timestamp(summary["last_timestamp"])),
        ("values filled", f"{summary['values_filled']:,}"),
    ]
    if "covariates" in cols:
        rows.insert(5, ("covariates", _covariates_text(cols)))
    rows += [("warning", w) for w in summary["warnings"]]
    rows += [("note", n) for n in summary.get("notes", [])]
    return kv_table("Detected", rows)


def _covariates_text(d: dict) -> str:
    ahead, past = d.get("covariates") or [], d.get("past_covariates") or []
    return f"known ahead: {', '.join(ahead) or '—'}; past only: {', '.join(past) or '—'}"


def metrics_table(title: str, rows: list[dict], columns: list[str]) -> Table:
    """A table with one row per method; the first column is the method's name."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    table.add_column("method", style="bold")
    for c in columns:
        table.add_column(c, justify="right")
    for row in rows:
        table.add_row(cell(row["method"]), *(fmt(row.get(c)) for c in columns))
    return table


METRIC_COLUMNS = ["mae", "rmse", "smape", "mase"]


def validation_table(validation: dict, title: str) -> Table:
    rows = _method_rows(validation["methods"])
    has_cov = any(r.get("coverage") is not None for r in rows)
    has_windows = any(r.get("windows") is not None for r in rows)
    columns = (
        METRIC_COLUMNS + (["coverage"] if has_cov else []) + (["windows"] if has_windows else [])
    )
    table = metrics_table(title, rows, columns)
    lines = []
    if has_cov and validation.get("interval"):  # a model file's optional field
        lo, hi = validation["interval"]
        lines.append(f"coverage: share of actuals inside the {lo:g}-{hi:g} quantile band")
        cal = validation.get("calibration") or {}
        if "cross_fitted_coverage" in cal:
            lines.append(
                "intervals calibrated on these windows; cross-fitted coverage "
                f"{cal['cross_fitted_coverage']:.3f} (calibrated on half, measured on the other)"
            )
    if "chosen" in validation["methods"]:
        lines.append(
            "chosen per series: each series scored by the method chosen for it here "
            "(chosen on these same windows, so an optimistic figure)"
        )
    if "skill_vs_best_baseline" in validation:
        lines.append(
            verdict_line(
                validation.get("skill_vs_best_baseline"),
                validation.get("best_baseline"),
                validation.get("skill_interval"),
                validation.get("verdict"),
            )
        )
        lines.append(evidence_line(validation))
    else:  # model files from before the verdict against the best baseline
        lines.append(skill_line(validation.get("skill_vs_seasonal_naive")))
    if validation.get("chosen"):
        lines.append("forecast by: " + chosen_text(validation["chosen"]))
    table.caption = "\n".join(line for line in lines if line)
    table.caption_justify = "left"
    return table


def _method_rows(table: dict) -> list[dict]:
    """One row per method of `table` (method -> metrics), labelled, in the registry's order
    whatever the dict's: a model file's header stores its keys sorted."""
    order = {name: k for k, name in enumerate((*registry.names(), "chosen"))}
    ranked = sorted(table.items(), key=lambda kv: order.get(kv[0], len(order)))
    return [{"method": registry.label(k), **v} for k, v in ranked]


def chosen_text(chosen: dict) -> str:
    """'LSTM 3 series, naive 1' from {method: count}."""
    parts = [f"{registry.label(m)} {n:,}" for m, n in chosen.items() if n]
    return ", ".join(parts) + " series" if parts else "—"


def verdict_line(
    skill: float | None,
    best: str | None,
    interval: list[float] | None = None,
    verdict: str | None = None,
) -> str:
    """The verdict under the validation table: does the LSTM beat the best other method by
    more than the noise of the windows (its skill's bootstrap interval)?"""
    if skill is None or best is None:
        return "no LSTM validated: every series is forecast by the method chosen for it"
    name = registry.label(best)
    if verdict is None:  # model files from before the interval: "beats" meant skill > 0
        verdict = "beats" if skill > 0 else "loses"
    said = {"beats": "the LSTM beats it", "loses": "[bold red]the LSTM loses to it[/]"}.get(
        verdict, "the LSTM ties with it (the difference is within the noise of these windows)"
    )
    spread = f", 90 % interval {interval[0]:+.3f} to {interval[1]:+.3f}" if interval else ""
    return f"skill {skill:+.3f} vs the best other method, {name} (1 - MASE ratio{spread}): {said}"


def evidence_line(validation: dict) -> str:
    """How many independent windows per series the choice rests on."""
    folds = validation.get("folds") or {}
    if not folds:
        return ""
    text = f"{plural(folds.get('median', 0), 'window')} a horizon apart per series (median; "
    text += f"{folds.get('min', 0)} to {folds.get('max', 0)})"
    lstm = (validation.get("lstm_folds") or {}).get("median")
    return text + (f"; the LSTM on {plural(lstm, 'held-out window')} per series" if lstm else "")


def skill_line(skill: float | None) -> str:
    """The verdict under every metrics table: does the model beat seasonal naive?"""
    if skill is None:
        return ""
    verdict = "the LSTM beats it" if skill > 0 else "[bold red]the LSTM does NOT beat it[/]"
    return f"skill {skill:+.3f} vs seasonal naive (1 - MASE ratio): {verdict}"


def train_tables(summary: dict) -> list:
    """The tables of `train`, from its JSON document (train_document)."""
    m = summary["model_config"]
    v = summary["validation"]
    rows = [
        ("model file", summary["model"]),
        ("series / rows", f"{summary['series']:,} / {summary['rows']:,}"),
        (
            "epochs / steps",
            f"{summary['epochs']} / {summary['steps']:,} ({summary['stop_reason'].replace('_', ' ')})",
        ),
        ("best validation loss", fmt(summary["best_val_loss"], 4)),
        ("wall time", f"{summary['seconds']:.1f} s on {summary['device']}"),
        ("parameters", f"{summary['parameters']:,}"),
        (
            "lookback / horizon",
            f"{m['lookback']} / {m['horizon']} (season {m['season']}, patch {m['patch']})",
        ),
        *model_rows(m),
    ]
    if summary.get("forecast_by"):
        rows.append(("forecast by", chosen_text(summary["forecast_by"])))
    title = (
        f"Validation: {plural(v['windows'], 'held-out window')} of {plural(v['horizon'], 'step')}"
    )
    return [kv_table("Trained", rows), validation_table(v, title), *evidence_tables(v)]


def evidence_tables(validation: dict) -> list:
    """The per-series methods over all their windows, where the LSTM was judged on fewer:
    the evidence the choice among them rests on."""
    table = validation.get("all_windows")
    if not table:
        return []
    count = max((v.get("windows") or 0) for v in table.values())
    rows = _method_rows(table)
    title = f"Per-series methods on every window: up to {plural(count, 'window')} a horizon apart"
    return [metrics_table(title, rows, METRIC_COLUMNS + ["windows"])]


def skip_text(m: dict) -> str:
    """What the forecast is a residual over: the past cycles and the last value it mixes."""
    season, lookback = m["season"], m["lookback"]
    cycles = min(m.get("skip_cycles", 1), lookback // season) if season > 1 else 0
    if not cycles:
        return "the last value"
    seasonal = f"the last {cycles} seasonal cycles" if cycles > 1 else "the last seasonal cycle"
    if m.get("gate", False):
        return f"mix of {seasonal} and the last value, per window"
    return f"mix of {seasonal}, per window" if cycles > 1 else seasonal


def model_rows(m: dict) -> list[tuple[str, str]]:
    """What the model sees and how it forecasts, for the train summary and `info`."""
    periods = m.get("periods") or [m["season"]]
    rows = [("cycles seen", ", ".join(f"{p:g}" for p in periods) + " steps (sin/cos)")]
    if m.get("skip", True):
        rows.append(("skip", skip_text(m)))
    if m.get("ensemble", 1) > 1:
        rows.append(("ensemble", f"{plural(m['ensemble'], 'member')}, median of their forecasts"))
    return rows


def forecast_table(frame, limit: int = 40) -> Table:
    import numpy as np
    from rich.table import Table

    from lstmcast.text import time_text

    table = Table(
        title=f"Forecast ({plural(len(frame), 'row')})"
        + (f", first {limit}" if len(frame) > limit else ""),
        title_justify="left",
        caption="every row: -o FILE or --format csv" if len(frame) > limit else None,
        caption_justify="left",
    )
    head = frame.head(limit).copy()
    if "ds" in head:  # the same text as in CSV and JSON: the rule looks at the whole column
        head["ds"] = time_text(frame["ds"])[: len(head)]
    for col in frame.columns:
        table.add_column(cell(col), justify="left" if col in ("unique_id", "ds") else "right")
    for row in head.itertuples(index=False):
        table.add_row(
            *(fmt(float(v)) if isinstance(v, float | np.floating) else cell(v) for v in row)
        )
    return table


def info_tables(header: dict) -> list:
    d, m, metrics = header["data"], header["model"], header.get("metrics", {})
    rows = [
        ("file", f"{header['file']['path']} ({header['file']['bytes']:,} bytes)"),
        ("created", header["created_at"]),
        ("lstmcast / format", f"{header['lstmcast_version']} / {header['format_version']}"),
        ("training data", d["path"]),
        (
            "layout / columns",
            f"{d['layout']}: time {d['time_col']}, target {', '.join(d['targets'])}, id {d['id_col'] or '—'}",
        ),
        ("frequency", d["freq"]),
        *([("date format", d["date_format"])] if d.get("date_format") else []),
        ("series / rows", f"{d['series']:,} / {d['rows']:,}"),
        ("last timestamp", timestamp(d["last_timestamp"])),
        (
            "lookback / horizon",
            f"{m['lookback']} / {m['horizon']} (season {m['season']}, patch {m['patch']})",
        ),
        (
            "LSTM",
            f"hidden {m['hidden_size']}, layers {m['layers']}, dropout {m['dropout']}, quantiles {m['quantiles']}",
        ),
        ("scaling", header.get("scaling", "—")),
        *model_rows(m),
    ]
    if m.get("covariates") or m.get("past_covariates"):
        rows.insert(5, ("covariates", _covariates_text(m)))
    if metrics:
        rows.append(
            (
                "training",
                f"{plural(metrics['epochs'], 'epoch')}, {plural(metrics['steps'], 'step')}, {metrics['seconds']:.1f} s on {metrics['device']}",
            )
        )
    if header.get("methods") is not None:
        counts: dict[str, int] = {}
        for method in header["methods"].values():
            counts[method] = counts.get(method, 0) + 1
        rows.append(("forecast by", chosen_text(counts)))
        if not header.get("lstm_trained", True):
            rows.append(("LSTM weights", "none: the training data was too short"))
    tables = [kv_table("Model", rows)]
    if metrics.get("validation"):
        tables.append(validation_table(metrics["validation"], "Validation at training time"))
        tables.extend(evidence_tables(metrics["validation"]))
    return tables
