"""Backtest tables: per-series skill against the best baseline and the ranking by it."""

from types import SimpleNamespace

import numpy as np
import pytest

from lstmcast.cli.render import skill_tables
from lstmcast.evaluate import BacktestResult, per_series_table, ranked_by_skill


def scored_windows(series: list[int], scores: dict) -> BacktestResult:
    """A backtest of one-step windows of which only the series and the scores matter."""
    n = len(series)
    zeros = np.zeros((n, 1))
    return BacktestResult(
        np.array(series), np.zeros(n, dtype=int), np.zeros(n, dtype=int), scores, zeros,
        {}, zeros[:, :, None], horizon=1, step=1, folds=1, season=1, quantiles=(0.5,), median=0,
    )  # fmt: skip


def crafted_backtest():
    """Two series, two windows each. 'easy' has the lower LSTM MASE, but seasonal naive is
    better still there; on 'hard' the LSTM has a high MASE yet beats every baseline."""
    mase = {
        "lstm": [0.5, 0.5, 2.0, 2.0],
        "naive": [1.0, 1.0, 5.0, 5.0],
        "seasonal_naive": [0.4, 0.4, 4.0, 4.0],
        "drift": [1.2, 1.2, 3.0, 3.0],
    }
    scores = {
        m: {"mae": 10 * np.array(v), "smape": 5 * np.array(v), "mase": np.array(v)}
        for m, v in mase.items()
    }
    panel = SimpleNamespace(ids=np.array(["easy", "hard"]))
    return panel, scored_windows([0, 0, 1, 1], scores)


def test_skill_is_against_each_series_best_baseline():
    table = per_series_table(*crafted_backtest()).set_index("unique_id")
    assert list(table["best_baseline"]) == ["seasonal_naive", "drift"]
    assert table.loc["easy", "skill_vs_best_baseline"] == pytest.approx(1 - 0.5 / 0.4)
    assert table.loc["hard", "skill_vs_best_baseline"] == pytest.approx(1 - 2.0 / 3.0)
    assert table.loc["hard", "skill"] == pytest.approx(1 - 2.0 / 4.0)  # vs seasonal naive


def test_ranking_is_by_skill_not_by_raw_mase():
    table = per_series_table(*crafted_backtest())
    assert list(table.sort_values("lstm_mase")["unique_id"]) == ["easy", "hard"]
    assert list(ranked_by_skill(table)["unique_id"]) == ["easy", "hard"]  # worst first
    worst, best = skill_tables(table, show=1)
    assert worst.title == "Worst 1 series by skill against the best baseline"
    assert best.title == "Best 1 series by skill against the best baseline"
    assert [str(c) for c in worst.columns[0].cells] == ["easy"]
    assert [str(c) for c in best.columns[0].cells] == ["hard"]
    assert [str(c) for c in worst.columns[4].cells] == ["seasonal naive"]
    assert [str(c) for c in best.columns[4].cells] == ["drift"]
    assert "best baseline" in best.caption


def test_few_series_are_ranked_in_one_table():
    (table,) = skill_tables(per_series_table(*crafted_backtest()), show=10)
    assert table.title == "All 2 series by skill against the best baseline, worst first"
    assert [str(c) for c in table.columns[0].cells] == ["easy", "hard"]


def test_series_without_a_mase_are_left_out_of_the_ranking():
    panel, result = crafted_backtest()
    for method in result.scores.values():
        method["mase"] = method["mase"].copy()
        method["mase"][:2] = np.nan  # 'easy' had a constant history
    table = per_series_table(panel, result)
    assert table["skill_vs_best_baseline"].isna().tolist() == [True, False]
    assert list(ranked_by_skill(table)["unique_id"]) == ["hard"]
    (shown,) = skill_tables(table, show=1)
    assert "1 series without a MASE" in shown.caption


def test_backtest_verdict_is_against_the_best_baseline_not_seasonal_naive():
    """A random walk: the LSTM beats seasonal naive but not the last value, so it loses."""
    from lstmcast.evaluate import aggregate

    mase = {"lstm": [0.9, 0.9], "naive": [0.5, 0.5], "seasonal_naive": [1.0, 1.0],
            "drift": [0.6, 0.6]}  # fmt: skip
    scores = {m: {"mae": np.array(v), "mase": np.array(v)} for m, v in mase.items()}
    panel = SimpleNamespace(ids=np.array(["walk"]))
    summary = aggregate(per_series_table(panel, scored_windows([0, 0], scores)))
    assert summary["beats_seasonal_naive"] and summary["skill_vs_seasonal_naive"] > 0
    assert summary["best_baseline"] == "naive"
    assert summary["skill_vs_best_baseline"] == pytest.approx(1 - 0.9 / 0.5)
    assert summary["beats_best_baseline"] is False
    summary.update(refit=False, series=1, windows=2, mape_zero_actuals_skipped=0)
    table = per_series_table(panel, scored_windows([0, 0], scores))
    from lstmcast.cli.render import evaluate_tables

    caption = evaluate_tables(summary, table, show=10)[0].caption
    assert "vs the best baseline, naive" in caption and "does NOT beat it" in caption
