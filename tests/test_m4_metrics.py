"""M4's Naive2, which only the benchmarks use, so it lives in benchmarks/m4_metrics.py."""

import sys
from pathlib import Path

import numpy as np

from lstmcast.methods import naive

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import m4_metrics  # noqa: E402


def test_naive2_on_a_non_seasonal_series_is_naive():
    x = 50 + np.random.default_rng(0).normal(size=60)  # white noise: no lag-12 autocorrelation
    assert not m4_metrics._is_seasonal(x, 12)
    last = naive.forecast(x, 8)
    np.testing.assert_array_equal(m4_metrics.naive2_forecast(x, 8, 12), last)
    np.testing.assert_array_equal(m4_metrics.naive2_forecast(x, 8, 1), last)  # m <= 1
    np.testing.assert_array_equal(
        m4_metrics.naive2_forecast(x[:30], 8, 12), np.full(8, x[29])
    )  # n < 3m


def test_naive2_on_a_pure_multiplicative_season_repeats_it():
    s = np.array([0.5, 1.0, 1.5, 1.0])
    x = 100 * np.tile(s, 6)  # 24 points, constant level 100
    # the 2x4 MA of one full cycle is 100 everywhere, so the indices are s exactly,
    # the adjusted series is 100 and the forecast continues the cycle from position 0
    np.testing.assert_allclose(m4_metrics.naive2_forecast(x, 6, 4), [50, 100, 150, 100, 50, 100])


def test_naive2_follows_the_season_of_a_trending_series():
    s = np.array([0.5, 1.0, 1.5, 1.0])
    t = np.arange(26)
    x = (100 + 2 * t) * s[t % 4]  # ends mid-cycle: the next point is at position 26 % 4 = 2
    f = m4_metrics.naive2_forecast(x, 4, 4)
    np.testing.assert_allclose(f / f.mean(), s[np.arange(26, 30) % 4], rtol=0.02)
    assert f.argmax() == 0  # position 2, the peak of the cycle


def test_naive2_is_naive_where_multiplicative_indices_are_undefined():
    s = np.array([0.0, 1.0, 1.5, 1.0])  # a zero in every cycle
    x = 100 * np.tile(s, 6)
    np.testing.assert_array_equal(m4_metrics.naive2_forecast(x, 3, 4), [100, 100, 100])
    np.testing.assert_array_equal(m4_metrics.naive2_forecast(np.full(24, 3.0), 3, 4), [3, 3, 3])
