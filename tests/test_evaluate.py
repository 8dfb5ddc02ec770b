"""Backtest tables: per-series skill against the best baseline and the ranking by it."""

from types import SimpleNamespace

import numpy as np
import pytest

from lstmcast.cli.backtests import skill_tables
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
    assert "best other method" in best.caption


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


def walk_summary(n_series: int):
    """aggregate() of a backtest on `n_series` random walks, two windows each: the LSTM
    beats seasonal naive everywhere but loses to the last value everywhere."""
    from lstmcast.evaluate import aggregate

    mase = {"lstm": [0.9, 0.9], "naive": [0.5, 0.5], "seasonal_naive": [1.0, 1.0],
            "drift": [0.6, 0.6]}  # fmt: skip
    scores = {
        m: {k: np.array(v * n_series) for k in ("mae", "smape", "mase")} for m, v in mase.items()
    }
    panel = SimpleNamespace(ids=np.array([f"walk{k}" for k in range(n_series)]))
    result = scored_windows(np.repeat(np.arange(n_series), 2).tolist(), scores)
    table = per_series_table(panel, result)
    return aggregate(table), table


def test_backtest_verdict_is_against_the_best_baseline_not_seasonal_naive():
    """Random walks: the LSTM beats seasonal naive but not the last value, so it loses."""
    from lstmcast.cli.backtests import evaluate_tables

    summary, table = walk_summary(6)
    assert summary["beats_seasonal_naive"] and summary["skill_vs_seasonal_naive"] > 0
    assert summary["best_baseline"] == "naive"
    assert summary["skill_vs_best_baseline"] == pytest.approx(1 - 0.9 / 0.5)
    assert summary["verdict"] == "loses" and summary["beats_best_baseline"] is False
    low, high = summary["skill_interval"]
    assert low <= summary["skill_vs_best_baseline"] <= high < 0
    summary.update(refit=False, series=6, windows=12, mape_zero_actuals_skipped=0)
    caption = evaluate_tables(summary, table, show=10)[0].caption
    assert "vs the best other method, naive" in caption and "loses to it" in caption


def test_backtest_verdict_on_one_series_is_a_tie_however_large_the_gap():
    """One series is one unit of evidence: no interval, so neither "beats" nor "loses"."""
    summary, _ = walk_summary(1)
    assert summary["skill_vs_best_baseline"] == pytest.approx(1 - 0.9 / 0.5)
    assert summary["skill_interval"] is None
    assert summary["verdict"] == "ties" and summary["beats_best_baseline"] is False
