"""lstmcast.cli.render on small inputs: the rows, labels and captions each table shows, and the
text that reaches stdout and stderr."""

import io
import json

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from lstmcast import api, methods
from lstmcast.cli import backtests, documents, render


def text_of(*renderables) -> str:
    """What a wide, colourless terminal shows for `renderables`."""
    console = Console(record=True, width=160, file=io.StringIO(), color_system=None)
    for r in renderables:
        console.print(r)
    return console.export_text()


def lines_of(*renderables) -> list[str]:
    return [line.rstrip() for line in text_of(*renderables).splitlines()]


def cells(table, column: int) -> list[str]:
    return [str(c) for c in table.columns[column].cells]


# --- numbers and text ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, text",
    [
        (None, "—"),
        (float("nan"), "—"),
        (float("inf"), "—"),
        (1234.5678, "1,234.568"),
        (0.0, "0.000"),
        (0.5, "0.500"),
        (1e7, "1e+07"),
        (0.0001, "0.0001"),
        (-2.5e-5, "-2.5e-05"),
        (3, "3"),
        ("x", "x"),
    ],
)
def test_fmt(value, text):
    assert render.fmt(value) == text


def test_fmt_digits():
    assert render.fmt(0.12345, 4) == "0.1235"


def test_visible_escapes_control_characters_and_keeps_the_rest():
    assert render.visible("a\x1b[2Jb\nc\x7f") == "a\\x1b[2Jb\\x0ac\\x7f"
    assert render.visible("[bold]é") == "[bold]é"
    assert render.visible(12) == "12"


# --- tables -------------------------------------------------------------------------------


def test_kv_table_shows_each_key_beside_its_value_literally():
    table = render.kv_table("Detected", [("rows", 1500.0), ("id", "[bold]x"), ("none", None)])
    assert lines_of(table) == ["Detected", "rows  1,500.000", "id    [bold]x", "none  —"]


def test_metrics_table_has_one_row_per_method_and_a_dash_for_a_missing_metric():
    rows = [{"method": "LSTM", "mae": 1.0, "mase": 0.5}, {"method": "[/]naive", "mae": 2.0}]
    table = render.metrics_table("Scores", rows, ["mae", "mase"])
    assert table.title == "Scores"
    assert [c.header for c in table.columns] == ["method", "mae", "mase"]
    assert cells(table, 0) == ["LSTM", "[/]naive"]  # a name is never markup
    assert cells(table, 1) == ["1.000", "2.000"]
    assert cells(table, 2) == ["0.500", "—"]
    assert "[/]naive" in text_of(table)


def test_inspect_table_rows_and_warnings():
    summary = {
        "layout": "long",
        "columns": {"time": "ds", "target": ["y"], "id": "unique_id", "covariates": ["promo"]},
        "frequency": "h",
        "frequency_name": "hourly",
        "season_length": 24,
        "series": 1200,
        "rows": 1_000_000,
        "length": {"min": 10, "median": 800.4, "max": 2000},
        "first_timestamp": "2024-01-01",
        "last_timestamp": "2024-03-01T05:00",
        "values_filled": 0,
        "warnings": ["dropped 2 rows with an empty target"],
    }
    table = render.inspect_table(summary, "data.csv")
    assert cells(table, 0) == [
        "file", "layout", "time column", "id column", "target", "covariates", "frequency",
        "series", "rows on the grid", "length min / median / max", "first timestamp",
        "last timestamp", "values filled", "warning",
    ]  # fmt: skip
    values = dict(zip(cells(table, 0), cells(table, 1), strict=True))
    assert values["frequency"] == "h (hourly, season 24)"
    assert values["series"] == "1,200" and values["rows on the grid"] == "1,000,000"
    assert values["length min / median / max"] == "10 / 800 / 2,000"
    assert values["covariates"] == "known ahead: promo; past only: —"
    assert values["warning"] == "dropped 2 rows with an empty target"


def test_inspect_table_counts_many_targets_instead_of_listing_them():
    summary = {
        "layout": "wide",
        "columns": {"time": "ds", "target": [f"s{i}" for i in range(7)], "id": None},
        "frequency": "D",
        "frequency_name": "daily",
        "season_length": 7,
        "series": 7,
        "rows": 70,
        "length": {"min": 10, "median": 10.0, "max": 10},
        "first_timestamp": "2024-01-01",
        "last_timestamp": "2024-01-10",
        "values_filled": 3,
        "warnings": [],
    }
    values = dict(
        zip(*(cells(render.inspect_table(summary, "w.csv"), k) for k in (0, 1)), strict=True)
    )
    assert values["target"] == "7 columns (--json lists every one)" and values["id column"] == "—"
    assert "warning" not in values and values["values filled"] == "3"


VALIDATION = {
    "windows": 6,
    "horizon": 24,
    "interval": [0.1, 0.9],
    "methods": {
        "lstm": {
            "mae": 1.5,
            "rmse": 2.0,
            "smape": 10.0,
            "mase": 1.2,
            "coverage": 0.75,
            "windows": 6,
        },
        "naive": {"mae": 1.0, "rmse": 1.5, "smape": 8.0, "mase": 1.0, "windows": 6},
        "chosen": {"mae": 0.9, "rmse": 1.4, "smape": 7.0, "mase": 0.9, "windows": 6},
    },
    "best_baseline": "naive",
    "skill_vs_best_baseline": -0.2,
    "skill_interval": [-0.35, -0.05],
    "verdict": "loses",
    "folds": {"min": 3, "median": 4.0, "max": 10},
    "lstm_folds": {"min": 2, "median": 2.0, "max": 2},
    "chosen": {"lstm": 1, "naive": 2, "seasonal_naive": 0, "drift": 0},
}


def test_validation_table_names_methods_and_says_the_verdict_in_its_caption():
    table = render.validation_table(VALIDATION, "Validation")
    assert cells(table, 0) == ["LSTM", "naive", "chosen per series"]
    assert [c.header for c in table.columns] == [
        "method",
        "mae",
        "rmse",
        "smape",
        "mase",
        "coverage",
        "windows",
    ]
    assert cells(table, 5) == ["0.750", "—", "—"]
    caption = table.caption.splitlines()
    assert caption[0] == "coverage: share of actuals inside the 0.1-0.9 quantile band"
    assert caption[1].startswith("chosen per series: each series scored by the method")
    assert caption[2] == (
        "skill -0.200 vs the best other method, naive (1 - MASE ratio, 90 % interval -0.350 "
        "to -0.050): [bold red]the LSTM loses to it[/]"
    )
    assert caption[3:] == [
        "4 windows a horizon apart per series (median; 3 to 10); "
        "the LSTM on 2 held-out windows per series",
        "forecast by: LSTM 1, naive 2 series",
    ]
    shown = " ".join(text_of(table).split())  # the caption wraps at the table's width
    assert "-0.050): the LSTM loses to it" in shown  # markup is styling


def test_validation_table_of_an_old_file_without_coverage_or_best_baseline():
    old = {
        "methods": {"lstm": {"mae": 1.0, "mase": 0.8}, "seasonal_naive": {"mae": 2.0, "mase": 1.0}},
        "skill_vs_seasonal_naive": 0.2,
    }
    table = render.validation_table(old, "Validation")
    assert [c.header for c in table.columns] == ["method", "mae", "rmse", "smape", "mase"]
    assert cells(table, 0) == ["LSTM", "seasonal naive"]
    assert table.caption == "skill +0.200 vs seasonal naive (1 - MASE ratio): the LSTM beats it"


def test_chosen_text_and_verdict_lines():
    assert (
        render.chosen_text({"lstm": 3, "naive": 0, "drift": 1200}) == "LSTM 3, drift 1,200 series"
    )
    assert render.chosen_text({"lstm": 0}) == "—"
    # a file from before the interval: "beats" meant a skill above 0
    assert render.verdict_line(0.25, "seasonal_naive") == (
        "skill +0.250 vs the best other method, seasonal naive (1 - MASE ratio): the LSTM beats it"
    )
    assert render.verdict_line(0.05, "ets", [-0.1, 0.2], "ties") == (
        "skill +0.050 vs the best other method, ETS (1 - MASE ratio, 90 % interval -0.100 to "
        "+0.200): the LSTM ties with it (the difference is within the noise of these windows)"
    )
    assert "loses to it" in render.verdict_line(-0.05, "naive")
    assert render.verdict_line(None, "naive").startswith("no LSTM validated")
    assert render.verdict_line(0.1, None).startswith("no LSTM validated")
    assert render.skill_line(None) == ""
    assert "does NOT beat it" in render.skill_line(0.0)  # a tie is no win


def test_train_tables_of_a_real_training_summary(trained):
    summary = trained.summary
    settings, validation, *evidence = render.train_tables(summary)
    values = dict(zip(cells(settings, 0), cells(settings, 1), strict=True))
    assert values["model file"] == str(trained.model)
    assert values["series / rows"] == "3 / 450"
    assert values["epochs / steps"].startswith(f"{summary['epochs']} / {summary['steps']} (")
    m = summary["model_config"]
    assert values["lookback / horizon"] == f"{m['lookback']} / 24 (season 24, patch {m['patch']})"
    assert values["cycles seen"].endswith("steps (sin/cos)")
    assert "ensemble" not in values  # one model
    assert sum(summary["forecast_by"].values()) == 3
    assert values["forecast by"] == render.chosen_text(summary["forecast_by"])
    v = summary["validation"]
    assert validation.title == f"Validation: {v['windows']} held-out windows of 24 steps"
    # in the registry's order: the LSTM, every per-series method, the LSTM's mix with the
    # pooled choice
    shown = [m for m in methods.names() if m in v["methods"]]
    assert shown[: 1 + len(methods.local_names())] == ["lstm", *methods.local_names()]
    assert [methods.partner(m) is not None for m in shown].count(True) == 1
    labels = [methods.label(m) for m in shown]
    assert cells(validation, 0) == [*labels, "chosen per series"]
    # the per-series methods on all their windows, beside the LSTM's few
    (every,) = evidence
    assert cells(every, 0) == [methods.label(m) for m in methods.local_names()]
    assert every.title.startswith("Per-series methods on every window")


def test_model_rows_name_an_ensemble():
    m = {"season": 24, "lookback": 168, "periods": [24.0, 168.0], "ensemble": 3, "skip": False}
    assert render.model_rows(m) == [
        ("cycles seen", "24, 168 steps (sin/cos)"),
        ("ensemble", "3 members, median of their forecasts"),
    ]


@pytest.mark.parametrize(
    "skip, expected",
    [
        (
            {"skip_cycles": 14, "gate": True},
            "mix of the last 7 seasonal cycles and the last value, per window",
        ),
        (
            {"skip_cycles": 3, "gate": True},
            "mix of the last 3 seasonal cycles and the last value, per window",
        ),
        (
            {"skip_cycles": 1, "gate": True},
            "mix of the last seasonal cycle and the last value, per window",
        ),
        ({"skip_cycles": 7, "gate": False}, "mix of the last 7 seasonal cycles, per window"),
        ({"skip_cycles": 1, "gate": False}, "the last seasonal cycle"),
        ({"skip_cycles": 7, "gate": True, "season": 1}, "the last value"),
    ],
)
def test_model_rows_name_the_skip(skip, expected):
    m = {"season": 24, "lookback": 168, "periods": [24.0], **skip}
    assert ("skip", expected) in render.model_rows(m)


def test_forecast_table_shows_the_first_rows_and_says_how_many_there_are():
    frame = pd.DataFrame(
        {
            "unique_id": ["[red]a"] * 45,
            "ds": pd.date_range("2024-01-01", periods=45, freq="D"),
            "yhat": np.linspace(0, 44, 45, dtype=np.float32),
        }
    )
    table = render.forecast_table(frame)
    assert table.title == "Forecast (45 rows), first 40"
    assert table.row_count == 40
    assert cells(table, 0)[0] == "[red]a"
    assert cells(table, 1)[:2] == ["2024-01-01", "2024-01-02"]  # dates alone: midnights
    assert cells(table, 2)[:2] == ["0.000", "1.000"]
    assert render.forecast_table(frame.head(3)).title == "Forecast (3 rows)"


def test_info_tables_of_a_real_model_file(trained):
    header = api.model_info(trained.model)
    model, validation, every = render.info_tables(header)
    values = dict(zip(cells(model, 0), cells(model, 1), strict=True))
    assert values["file"] == f"{trained.model} ({trained.model.stat().st_size:,} bytes)"
    assert values["training data"] == str(trained.data.resolve())
    assert values["layout / columns"] == "long: time ds, target y, id unique_id"
    assert values["frequency"] == "h" and values["series / rows"] == "3 / 450"
    assert values["LSTM"].startswith("hidden 8, layers 1,")
    assert values["forecast by"].endswith("series")
    assert validation.title == "Validation at training time"
    # the header stores its keys sorted; the rows come in train's order all the same
    stored = header["metrics"]["validation"]["methods"]
    labels = [methods.label(m) for m in methods.names() if m in stored]
    assert cells(validation, 0) == [*labels, "chosen per series"]
    assert sorted(cells(every, 0)) == sorted(methods.label(m) for m in methods.local_names())


def backtest_summary(series: int, **extra) -> dict:
    methods = {
        m: {how: {"mae": 1.0 + k, "mase": 0.5 + k} for how in ("mean", "median")}
        for k, m in enumerate(("lstm", "naive", "seasonal_naive", "drift"))
    }
    return {
        "refit": False,
        "series": series,
        "windows": 2 * series,
        "folds": 2,
        "methods": methods,
        "best_baseline": "naive",
        "skill_vs_best_baseline": 1 - 0.5 / 1.5,
        "skill_vs_seasonal_naive": 1 - 0.5 / 2.5,
        **extra,
    }


def test_evaluate_tables_of_several_series_give_mean_and_median():
    per_series = pd.DataFrame({"unique_id": ["a", "b"]})
    tables = backtests.evaluate_tables(backtest_summary(2, refit=True), per_series, show=0)
    assert [t.title for t in tables] == [
        "Backtest, mean of 2 series, refit per fold",
        "Backtest, median of 2 series, refit per fold",
    ]
    assert cells(tables[0], 0) == ["LSTM", "naive", "seasonal naive", "drift"]
    assert cells(tables[0], 1) == ["1.000", "2.000", "3.000", "4.000"]
    caption = tables[0].caption.splitlines()
    assert caption == [
        "skill +0.667 vs the best other method, naive (1 - MASE ratio): the LSTM beats it",
    ]
    assert tables[1].caption is None


def test_evaluate_tables_of_one_series_and_their_footnotes():
    summary = backtest_summary(
        1, mape_zero_actuals_skipped=3, folds_per_series={"min": 1, "max": 2}
    )
    (table,) = backtests.evaluate_tables(summary, pd.DataFrame({"unique_id": ["a"]}), show=5)
    assert table.title == "Backtest of series 'a', mean of 2 windows"
    assert table.caption.splitlines()[-2:] == [
        "mape skips 3 zero actuals (it is undefined there)",
        "some series are too short for 2 folds: 1 to 2 per series",
    ]


# --- stdout and stderr --------------------------------------------------------------------


def test_print_error_writes_one_escaped_line_and_a_hint(capsys):
    render.print_error(
        "usage", 2, "--target \x1b[2J: no such column", "pass --target COLUMN", False
    )
    captured = capsys.readouterr()
    assert captured.out == ""
    assert (
        captured.err == "error: --target \\x1b[2J: no such column\n  hint: pass --target COLUMN\n"
    )


def test_print_error_as_json_is_also_one_document_on_stdout(capsys):
    render.print_error("data", 3, "bad", None, True, command="predict")
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {
        "command": "predict",
        "schema_version": documents.SCHEMA_VERSION,
        "error": {"code": 3, "kind": "data", "message": "bad", "hint": None},
    }
    assert captured.err == "error: bad\n"
