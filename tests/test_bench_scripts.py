"""The pure parts of the benchmark scripts: verdict labels, summary flags, the small panel."""

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import band_variants  # noqa: E402
import bands  # noqa: E402
import datasets  # noqa: E402
import peers  # noqa: E402
import random_walks  # noqa: E402
import small_panel  # noqa: E402


@pytest.mark.parametrize(
    ("validation", "expected"),
    [
        ({"verdict": "ties", "beats_best_baseline": True, "skill_vs_best_baseline": 0.01}, "ties"),
        ({"beats_best_baseline": True, "skill_vs_best_baseline": 0.02}, "beats"),
        ({"beats_best_baseline": False, "skill_vs_best_baseline": -0.1}, "loses"),
        ({"beats_best_baseline": False, "skill_vs_best_baseline": None}, "no LSTM"),
    ],
)
def test_the_verdict_field_wins_over_the_flag_it_refines(validation, expected):
    assert random_walks.verdict(validation) == expected


def test_geometric_mean_skips_what_is_not_a_ratio():
    gm, n = datasets.geometric_mean([2.0, 0.5, float("nan"), 0.0, float("inf")])
    assert (gm, n) == (1.0, 2)
    assert math.isnan(datasets.geometric_mean([])[0])


def _row(name, default, naive, snaive, coverage, points, peer=1.0):
    return {
        "dataset": name,
        "chosen_mase": default,
        "lstm_mase": default,
        "naive_mase": naive,
        "snaive_mase": snaive,
        "coverage": coverage,
        "lstm_coverage": coverage,
        "scored_points": points,
        "peers": list(peers.PEERS),
        **{f"{k}_mase": peer for k in peers.PEERS},
        **{f"{k}_coverage": 0.5 for k in peers.PEERS},
    }


def test_summary_flags_a_loss_to_naive_and_a_narrow_band_only_with_enough_points():
    rows = [
        _row("worse", 1.2, 1.0, 2.0, 0.9, 10, peer=0.6),  # 1.2 / min(1, 2) = 1.2 > 1.10
        _row("narrow", 1.0, 1.0, 1.0, 0.5, 8, peer=2.0),  # 8 points, coverage 0.5 < 0.6
        _row("few", 1.05, 1.0, 1.0, 0.0, 7),  # too few points to flag coverage
    ]
    text = datasets.summary(rows)
    flagged = {ln.split("|")[1].strip() for ln in text.splitlines() if "**FLAG**" in ln}
    assert flagged == {"worse", "narrow"}
    assert text.count("**FLAG**") == 2
    # (1.2 / 0.6) * (1.0 / 2.0) * (1.05 / 1.0): geometric mean of 2, 0.5 and 1.05
    assert f"of default MASE / AutoETS MASE: {1.05 ** (1 / 3):.3f}" in text
    assert "Pooled 80 % coverage, default: 0.520 over 25 held-out points" in text


def test_folds_average_the_scores_and_pool_the_coverage_over_points():
    def fold(default, coverage, points):
        row = _row("d", default, 1.0, 2.0, coverage, points)
        more = {"wins": 1, "series": 2, "forecast_by": {"naive": 2}, "train_seconds": 1.5}
        more["drift_mase"] = 3.0
        return {**row, **more, "lstm_trained": True, "per_series_mase": {"a": {}}}

    one = datasets.combine_folds([fold(1.0, 0.5, 10)])
    assert one["folds"] == 1 and one["chosen_mase"] == 1.0
    both = datasets.combine_folds([fold(1.0, 0.5, 10), fold(2.0, 1.0, 30)])
    assert both["folds"] == 2 and both["chosen_mase"] == 1.5  # each fold a mean over series
    assert both["coverage"] == (5 + 30) / 40 and both["scored_points"] == 40
    assert both["forecast_by"] == {"naive": 4} and both["series"] == 4 and both["wins"] == 2
    assert both["train_seconds"] == 3.0 and both["best_baseline"] == "naive"


def test_the_coverage_interval_resamples_whole_windows():
    assert datasets.coverage_interval([[1, 2]] * 4) is None  # too few windows to resample
    even = datasets.coverage_interval([[8, 10]] * 10)
    clustered = datasets.coverage_interval([[10, 10]] * 8 + [[0, 10]] * 2)
    assert even == (0.8, 0.8)  # every window alike: no spread
    assert clustered[0] < 0.8 <= clustered[1] and clustered[1] - clustered[0] > 0.2


def test_the_chance_of_a_calibrated_band_landing_in_range():
    # 10 independent points, each inside with probability 0.8: 7, 8 or 9 of them inside
    exact = sum(math.comb(10, k) * 0.8**k * 0.2 ** (10 - k) for k in (7, 8, 9))
    assert datasets.calibrated_chance(10) == pytest.approx(exact)
    assert datasets.calibrated_chance(1) == 0.0  # 0 or 1: never within 0.70-0.90
    assert datasets.calibrated_chance(1000) > 0.99
    few, many = datasets.calibrated_walk_chance(2, 6), datasets.calibrated_walk_chance(200, 6)
    assert 0 < few < 0.6 and many > 0.95  # steps of one walk err together: few windows, wide
    assert few < datasets.calibrated_chance(12)


def test_summary_counts_datasets_in_range_and_names_a_coverage_beyond_its_noise():
    def row(name, coverage, windows, folds=3):
        r = _row(name, 1.0, 1.0, 1.0, coverage, 10 * len(windows))
        return {**r, "coverage_windows": windows, "folds": folds, "horizon": 10}

    rows = [
        row("calibrated", 0.8, [[8, 10]] * 6),
        row("wide", 1.0, [[10, 10]] * 6),
        row("one fold", 0.8, [[8, 10]] * 6, folds=1),  # not asked: fewer than 3 folds
    ]
    text = datasets.summary(rows)
    assert "over 2 datasets with 3 folds or more: default 1 of 2" in text
    assert "AutoETS 0 of 2" in text  # the peers' coverage in _row: 0.5
    assert "than its noise (0.80 outside its 90 % interval, windows resampled): wide 1.000" in text
    assert "| wide | 1.000 | 1.000 | 1.000 |  | 1.000 | 60 |  | 1.000-1.000 |" in text


def test_band_variants_start_from_the_band_train_makes():
    from lstmcast.verdict import _widths

    rng = np.random.default_rng(1)
    for windows in (8, 30):  # pooled over the steps, then one quantile per step
        err = np.abs(rng.normal(size=(windows, 5))) * np.sqrt(np.arange(1, 6))
        made = np.asarray(_widths(err, 5, (0.1, 0.5, 0.9)))[:, 2]
        raw = band_variants.raw_widths(err)
        np.testing.assert_allclose(np.maximum.accumulate(raw), made, atol=1e-6)
        fit = band_variants.isotonic(raw)
        assert (np.diff(fit) >= -1e-12).all() and (fit <= made + 1e-6).all()  # made: rounded
        assert np.isclose(fit.mean(), raw.mean())  # a least-squares fit keeps the mean
    np.testing.assert_allclose(band_variants.isotonic([3.0, 1.0, 2.0, 5.0]), [2, 2, 2, 5])
    x, w = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 1.0, 1.0, 5.0])
    assert band_variants.weighted_quantile(x, w, 0.5) == 4.0  # the heavy window dominates
    assert band_variants.weighted_quantile(x, np.ones(4), 0.5) == 2.0


def test_an_earlier_fold_drops_the_last_steps_before_holding_out():
    frame = pd.DataFrame(
        {"unique_id": "a", "ds": pd.date_range("2024-01-01", periods=10), "y": np.arange(10.0)}
    )
    latest, earlier = datasets.split(frame, "D", 2), datasets.split(frame, "D", 2, before=2)
    np.testing.assert_array_equal(latest.test["a"], [8.0, 9.0])
    np.testing.assert_array_equal(earlier.test["a"], [6.0, 7.0])
    assert list(earlier.train["a"]) == list(range(6)) and len(earlier.train_rows) == 6


def test_small_panel_is_seeded_positive_and_has_a_few_gaps():
    df = small_panel.panel(20, 120, seed=3)
    assert list(df.columns) == ["unique_id", "ds", "y"]
    assert (df["y"] > 0).all()
    assert df.equals(small_panel.panel(20, 120, seed=3))
    steps = df.groupby("unique_id")["ds"].diff().dt.days.dropna()
    assert (steps >= 1).all() and (steps > 1).any()  # daily, a few days missing
    assert df.groupby("unique_id")["ds"].max().nunique() == 1  # all end on the same day


@pytest.mark.slow
def test_peers_forecast_the_horizon_with_an_interval():
    pytest.importorskip("statsforecast")
    t = np.arange(84)
    y = 50 + 5 * np.sin(2 * np.pi * t / 7) + np.random.default_rng(0).normal(0, 1, 84)
    out = peers.forecast_peers(y, 7, 7)
    assert set(out) == set(peers.PEERS)
    for fc in out.values():
        assert fc.mean.shape == fc.lo.shape == fc.hi.shape == (7,)
        assert (fc.lo <= fc.mean).all() and (fc.mean <= fc.hi).all()


def test_the_band_units_compared():
    from lstmcast import metrics

    calm_then_grown = np.concatenate([10 + np.sin(np.arange(60)), 30 + 3 * np.sin(np.arange(24))])
    mase = bands.unit(calm_then_grown, 1, 6, "mase")
    assert mase == metrics.mase_scale(calm_then_grown, 1)
    assert bands.unit(calm_then_grown, 1, 6, "level") > 1.5 * mase  # the level doubled
    assert bands.unit(calm_then_grown, 1, 6, "recent") > 1.5 * mase  # steps 3 times as large
    assert bands.unit(calm_then_grown[::-1], 1, 6, "level") == mase  # fallen: never shrunk
