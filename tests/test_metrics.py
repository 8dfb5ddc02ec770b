import warnings

import numpy as np
import pytest

from lstmcast import metrics
from lstmcast.methods import drift, naive, seasonal_naive

# --- point metrics ---------------------------------------------------------------------


def test_mae_and_rmse_1d():
    y, f = np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 5.0])
    # errors -1, 0, -2
    assert metrics.mae(y, f) == pytest.approx(1.0)  # (1 + 0 + 2) / 3
    assert metrics.rmse(y, f) == pytest.approx(np.sqrt(5 / 3))  # sqrt((1 + 0 + 4) / 3)
    assert isinstance(metrics.mae(y, f), float)


def test_mae_and_rmse_2d_give_one_value_per_row():
    y = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    f = np.array([[2.0, 2.0, 5.0], [3.0, -3.0, 0.0]])
    # row 2: errors -3, 3, 0
    np.testing.assert_allclose(metrics.mae(y, f), [1.0, 2.0])  # (3 + 3 + 0) / 3
    np.testing.assert_allclose(metrics.rmse(y, f), [np.sqrt(5 / 3), np.sqrt(6)])  # sqrt(18 / 3)


def test_mape_skips_zero_actuals():
    y, f = np.array([100.0, 200.0, 0.0, 50.0]), np.array([110.0, 150.0, 5.0, 50.0])
    # 10 %, 25 %, skipped, 0 % -> 35 / 3
    assert metrics.mape(y, f) == pytest.approx(35 / 3)
    assert metrics.count_zero_actuals(y) == 1


def test_mape_all_zero_row_is_nan_without_warnings():
    y = np.array([[100.0, 0.0], [0.0, 0.0]])
    f = np.array([[90.0, 7.0], [1.0, 2.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = metrics.mape(y, f)
    # row 1: 10 % (the zero skipped); row 2: nothing left to average
    assert out[0] == pytest.approx(10.0)
    assert np.isnan(out[1])
    assert not np.isinf(out).any()
    np.testing.assert_array_equal(metrics.count_zero_actuals(y), [1, 2])


def test_smape_m4_scale_and_both_zero_terms():
    y, f = np.array([100.0, 0.0, 0.0]), np.array([50.0, 0.0, 10.0])
    # 200 * 50 / 150 = 66.667; both zero -> 0; 200 * 10 / 10 = 200 -> 266.667 / 3
    assert metrics.smape(y, f) == pytest.approx((200 * 50 / 150 + 0 + 200) / 3)
    assert metrics.smape(np.zeros(3), np.zeros(3)) == 0.0


def test_smape_2d():
    y = np.array([[100.0, 100.0], [10.0, 30.0]])
    f = np.array([[100.0, 300.0], [30.0, 10.0]])
    # row 1: 0 and 200 * 200 / 400 = 100 -> 50; row 2: 200 * 20 / 40 = 100 twice -> 100
    np.testing.assert_allclose(metrics.smape(y, f), [50.0, 100.0])


def test_mismatched_shapes_are_an_error():
    with pytest.raises(ValueError, match="same shape"):
        metrics.mae(np.ones(3), np.ones(4))


# --- MASE ------------------------------------------------------------------------------


def test_mase_scale():
    x = np.array([1.0, 3.0, 2.0, 6.0, 4.0])
    assert metrics.mase_scale(x, 2) == pytest.approx(2.0)  # |2-1|, |6-3|, |4-2| -> 6 / 3
    assert metrics.mase_scale(x, 1) == pytest.approx(2.25)  # 2, 1, 4, 2 -> 9 / 4
    # shorter than m + 1: m falls back to 1, so |3 - 1| = 2
    assert metrics.mase_scale(np.array([1.0, 3.0]), 2) == pytest.approx(2.0)
    assert np.isnan(metrics.mase_scale(np.array([5.0]), 2))  # no differences at all
    np.testing.assert_allclose(metrics.mase_scales([x, np.array([1.0, 3.0])], 2), [2.0, 2.0])


def test_mase():
    y, f = np.array([10.0, 12.0]), np.array([11.0, 10.0])
    # MAE = (1 + 2) / 2 = 1.5, scale 2 -> 0.75
    assert metrics.mase(y, f, 2.0) == pytest.approx(0.75)


def test_mase_constant_insample_is_nan_not_inf():
    scale = metrics.mase_scale(np.full(10, 7.0), 2)
    assert scale == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = metrics.mase(np.array([7.0, 8.0]), np.array([7.0, 7.0]), scale)
    assert np.isnan(out)


def test_mase_2d_uses_one_scale_per_row():
    y = np.array([[10.0, 12.0], [7.0, 8.0]])
    f = np.array([[11.0, 10.0], [7.0, 7.0]])
    out = metrics.mase(y, f, np.array([2.0, 0.0]))
    assert out[0] == pytest.approx(0.75)  # as above
    assert np.isnan(out[1])  # constant in-sample


# --- quantiles and intervals -----------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        # e = y - f = [2, -3]; loss = max(q e, (q - 1) e)
        (0.1, (0.2 + 2.7) / 2),  # max(0.2, -1.8), max(-0.3, 2.7)
        (0.5, (1.0 + 1.5) / 2),  # half the absolute error
        (0.9, (1.8 + 0.3) / 2),  # max(1.8, -0.2), max(-2.7, 0.3)
    ],
)
def test_pinball(q, expected):
    assert metrics.pinball(np.array([10.0, 10.0]), np.array([8.0, 13.0]), q) == pytest.approx(
        expected
    )


def test_coverage_and_width():
    y = np.array([1.0, 5.0, 10.0, 3.0])
    lo = np.array([0.0, 5.0, 0.0, 4.0])
    hi = np.array([2.0, 6.0, 9.0, 8.0])
    # inside, on the lower edge (counts), above, below -> 2 / 4
    assert metrics.coverage(y, lo, hi) == pytest.approx(0.5)
    assert metrics.interval_width(lo, hi) == pytest.approx(4.0)  # (2 + 1 + 9 + 4) / 4


def test_coverage_and_width_2d():
    y = np.array([[1.0, 5.0], [10.0, 3.0]])
    lo = np.array([[0.0, 5.0], [0.0, 4.0]])
    hi = np.array([[2.0, 6.0], [9.0, 8.0]])
    np.testing.assert_allclose(metrics.coverage(y, lo, hi), [1.0, 0.0])
    np.testing.assert_allclose(metrics.interval_width(lo, hi), [1.5, 6.5])  # (2+1)/2, (9+4)/2


# --- skill -----------------------------------------------------------------------------


def test_skill_of_two_numbers():
    assert metrics.skill(0.8, 1.0) == pytest.approx(0.2)  # 1 - 0.8 / 1.0: beats the baseline
    assert metrics.skill(1.5, 1.0) == pytest.approx(-0.5)  # loses
    assert metrics.skill(1.0, 1.0) == 0.0
    assert isinstance(metrics.skill(np.float64(0.8), np.float64(1.0)), float)


@pytest.mark.parametrize(
    ("model", "baseline"), [(None, 1.0), (0.8, None), (0.8, 0.0), (None, None)]
)
def test_skill_is_none_where_undefined(model, baseline):
    assert metrics.skill(model, baseline) is None


def test_skill_per_series_keeps_numpy_nan_and_inf():
    model = np.array([0.5, 1.0, 0.0, 1.0])
    baseline = np.array([1.0, 0.0, 0.0, np.nan])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the division by 0 is expected, not warned about
        got = metrics.skill(model, baseline)
    np.testing.assert_array_equal(got, [0.5, -np.inf, np.nan, np.nan])


# --- baselines -------------------------------------------------------------------------


def test_naive():
    np.testing.assert_array_equal(naive.forecast(np.array([3, 1, 4]), 3), [4.0, 4.0, 4.0])


def test_seasonal_naive_tiles_the_last_cycle():
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    # last cycle of 2 is [4, 5], repeated over 5 steps
    np.testing.assert_array_equal(seasonal_naive.forecast(x, 5, 2), [4, 5, 4, 5, 4])
    np.testing.assert_array_equal(seasonal_naive.forecast(x, 2, 3), [3, 4])


def test_seasonal_naive_falls_back_to_naive():
    np.testing.assert_array_equal(seasonal_naive.forecast(np.array([1, 2]), 2, 3), [2, 2])
    np.testing.assert_array_equal(seasonal_naive.forecast(np.array([1, 2]), 2, 1), [2, 2])


def test_drift():
    # slope (7 - 1) / 2 = 3 -> 7 + 3, 7 + 6
    np.testing.assert_allclose(drift.forecast(np.array([1.0, 3.0, 7.0]), 2), [10, 13])
    np.testing.assert_array_equal(drift.forecast(np.array([5.0]), 2), [5, 5])


def test_empty_history_is_an_error():
    with pytest.raises(ValueError, match="non-empty"):
        naive.forecast(np.array([]), 3)


@pytest.mark.slow
def test_metrics_agree_with_scikit_learn():
    # scikit-learn is the reference implementation of the metrics it has; lstmcast keeps
    # numpy versions (per-row results, no SciPy import on every run) and checks them here.
    from sklearn.metrics import (
        mean_absolute_error,
        mean_absolute_percentage_error,
        mean_pinball_loss,
        root_mean_squared_error,
    )

    rng = np.random.default_rng(7)
    y = rng.uniform(1, 50, size=(5, 12))
    f = y + rng.normal(0, 3, size=y.shape)
    per_row = {"multioutput": "raw_values"}
    # sklearn's multioutput scores columns, so rows go in transposed.
    np.testing.assert_allclose(metrics.mae(y, f), mean_absolute_error(y.T, f.T, **per_row))
    np.testing.assert_allclose(metrics.rmse(y, f), root_mean_squared_error(y.T, f.T, **per_row))
    np.testing.assert_allclose(
        metrics.mape(y, f), 100 * mean_absolute_percentage_error(y.T, f.T, **per_row)
    )
    for q in (0.1, 0.5, 0.9):
        np.testing.assert_allclose(
            metrics.pinball(y, f, q), mean_pinball_loss(y.T, f.T, alpha=q, **per_row)
        )


# --- the skill's bootstrap interval and the verdict ------------------------------------------


def paired_errors(ratio: float, n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Per-window errors of a model and another method: the other's are noisy around 1, the
    model's are `ratio` times them times noise of their own."""
    rng = np.random.default_rng(seed)
    other = rng.gamma(4.0, 0.25, n)
    return ratio * other * rng.lognormal(0, 0.3, n), other


@pytest.mark.parametrize(
    "ratio, said", [(0.5, "beats"), (1.0, "ties"), (2.0, "loses")], ids=["win", "noise", "loss"]
)
def test_skill_interval_and_verdict(ratio, said):
    model, other = paired_errors(ratio)
    skill, low, high = metrics.skill_interval(model, other)
    assert skill == pytest.approx(1 - model.sum() / other.sum())
    assert low <= skill <= high
    assert metrics.verdict(low, high) == said


def test_skill_interval_is_deterministic():
    model, other = paired_errors(0.9)
    cluster = np.repeat(np.arange(8), 5)
    assert metrics.skill_interval(model, other) == metrics.skill_interval(model, other)
    first = metrics.skill_interval(model, other, cluster)
    assert first == metrics.skill_interval(model.copy(), other.copy(), cluster.copy())


def test_skill_interval_resamples_whole_series_when_there_are_enough():
    # Each series' windows alike: the model wins big on 4 series and loses big on 4. Windows
    # resampled one by one would claim 40 independent pieces of evidence; series give 8.
    model, other = np.ones(40), np.ones(40)
    model[:20], model[20:] = 0.2, 1.8
    cluster = np.repeat(np.arange(8), 5)
    _, low_w, high_w = metrics.skill_interval(model, other)
    _, low_s, high_s = metrics.skill_interval(model, other, cluster)
    assert high_s - low_s > high_w - low_w
    assert metrics.verdict(low_s, high_s) == "ties"


def test_too_few_windows_draw_no_interval_and_tie():
    model, other = paired_errors(0.1, n=metrics.MIN_UNITS - 1)
    skill, low, high = metrics.skill_interval(model, other)
    assert skill > 0.5 and low is None and high is None
    assert metrics.verdict(low, high) == "ties"
    assert metrics.skill_interval(np.array([]), np.array([])) == (None, None, None)
    # fewer series than MIN_UNITS: windows are resampled instead
    model, other = paired_errors(0.5)
    _, low, high = metrics.skill_interval(model, other, np.repeat(np.arange(2), 20))
    assert metrics.verdict(low, high) == "beats"


def test_verdict_reads_only_the_interval():
    assert metrics.verdict(0.01, 0.3) == "beats"
    assert metrics.verdict(-0.3, -0.01) == "loses"
    assert metrics.verdict(-0.1, 0.1) == metrics.verdict(0.0, 0.2) == "ties"  # 0 inside: a tie
    assert metrics.verdict(None, None) == "ties"


# --- the unit of a per-series method's band -------------------------------------------------


def _grown(low: float = 10.0, high: float = 30.0) -> np.ndarray:
    """36 values around `low`, then 12 around `high`, each step +-1: a level that tripled."""
    wiggle = np.where(np.arange(48) % 2 == 0, 1.0, -1.0)
    return np.concatenate([np.full(36, low), np.full(12, high)]) + wiggle


def test_band_scale_grows_with_the_recent_level_of_positive_data():
    x = _grown()
    # recent level: the last max(2 * 3, 1, 12) = 12 values, mean 30; the mean level is 15
    assert metrics.band_scale(x, 1, 3) == pytest.approx(metrics.mase_scale(x, 1) * 30 / 15)
    # a longer horizon looks at more of the recent history: the last 2 * 10 = 20 values
    recent = x[-20:].mean() / x.mean()
    assert metrics.band_scale(x, 1, 10) == pytest.approx(metrics.mase_scale(x, 1) * recent)


@pytest.mark.parametrize(
    "x",
    [_grown()[::-1], _grown() - _grown().min(), _grown() - 20, np.full(48, 5.0)],
    ids=["fallen", "with-a-zero", "negative", "constant"],
)
def test_band_scale_is_the_mase_scale_where_the_level_did_not_grow_or_is_not_positive(x):
    assert metrics.band_scale(x, 1, 3) == metrics.mase_scale(x, 1)


def test_band_scale_without_following_the_level_is_the_mase_scale():
    x = _grown()
    assert metrics.band_scale(x, 2, 3, follow_level=False) == metrics.mase_scale(x, 2)
    assert np.isnan(metrics.band_scale(np.array([4.0]), 1, 3))
