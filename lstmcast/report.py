"""Rendering: Rich tables, progress and JSON. Core modules return data; this module shows it."""

from __future__ import annotations

import json
import math
import os
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = [
    "out",
    "err",
    "print_json",
    "print_error",
    "inspect_table",
    "kv_table",
    "metrics_table",
    "fmt",
]


def _console(stderr: bool) -> Console:
    # Rich already drops colour for non-terminals and honours NO_COLOR; a generous width
    # keeps piped tables from wrapping mid-row.
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else int(os.environ.get("COLUMNS", 120))
    return Console(stderr=stderr, width=width, highlight=False, soft_wrap=False)


out = _console(stderr=False)
err = _console(stderr=True)


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None  # JSON has no NaN or inf
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


def print_error(kind: str, code: int, message: str, hint: str | None, as_json: bool) -> None:
    if as_json:
        print_json({"error": {"code": code, "kind": kind, "message": message, "hint": hint}})
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
    table = Table(title=title, show_header=False, title_justify="left", box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for key, value in rows:
        table.add_row(key, fmt(value) if not isinstance(value, str) else value)
    return table


def inspect_table(summary: dict, path: str) -> Table:
    cols = summary["columns"]
    length = summary["length"]
    rows = [
        ("file", path),
        ("layout", summary["layout"]),
        ("time column", cols["time"]),
        ("id column", cols["id"] or "—"),
        (
            "target",
            ", ".join(cols["target"])
            if len(cols["target"]) <= 6
            else f"{len(cols['target'])} columns",
        ),
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
        ("last timestamp", summary["last_timestamp"]),
        ("values filled", f"{summary['values_filled']:,}"),
    ]
    rows += [("warning", w) for w in summary["warnings"]]
    return kv_table("Detected", rows)


def metrics_table(title: str, rows: list[dict], columns: list[str]) -> Table:
    """A table with one row per method; the first column is the method's name."""
    table = Table(title=title, title_justify="left")
    table.add_column("method", style="bold")
    for c in columns:
        table.add_column(c, justify="right")
    for row in rows:
        table.add_row(row["method"], *(fmt(row.get(c)) for c in columns))
    return table
