"""Window index, sampling and gathering: exact origins on a small hand-made panel."""

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lstmcast.batches import gather_windows
from lstmcast.data.load import load
from lstmcast.windows import (
    VERDICT_FOLDS,
    build_index,
    default_val_size,
    spaced_windows,
    verdict_windows,
)


def make_panel(lengths, base=100):
    """Daily series 'A', 'B', ... whose value at step t is base * (i + 1) + t (easy to read back)."""
    parts = [
        pd.DataFrame(
            {
                "unique_id": chr(ord("A") + i),
                "ds": pd.date_range("2024-01-01", periods=n, freq="D"),
                "y": base * (i + 1) + np.arange(n, dtype=float),
            }
        )
        for i, n in enumerate(lengths)
    ]
    return load(pd.concat(parts, ignore_index=True))


def test_panel_fixture_is_what_the_tests_assume():
    panel = make_panel([30, 20, 8])
    assert list(panel.ids) == ["A", "B", "C"]
    np.testing.assert_array_equal(panel.lengths, [30, 20, 8])
    np.testing.assert_array_equal(panel.series(1)[:3], [200, 201, 202])


def test_build_index_default_val_size_is_one_horizon():
    panel = make_panel([30, 20, 8])
    index = build_index(panel, lookback=8, horizon=4)
    # min_context = 8 // 2 = 4; last training origin = n - val 4 - horizon 4 = 22, 12, 0
    assert index.val_size == 4
    assert index.min_context == 4
    np.testing.assert_array_equal(index.train_first, [4, 4, 4])
    np.testing.assert_array_equal(index.train_count, [19, 9, 0])  # 22 - 4 + 1, 12 - 4 + 1, none
    assert index.n_train == 28
    # One validation window per series at n - 4; series C (8 points) still has one at 4.
    np.testing.assert_array_equal(index.val_series, [0, 1, 2])
    np.testing.assert_array_equal(index.val_origin, [26, 16, 4])
    np.testing.assert_array_equal(index.too_short(), [2])


def test_build_index_several_validation_horizons():
    panel = make_panel([30, 20, 8])
    index = build_index(panel, lookback=8, horizon=4, val_size=8)
    # last training origin = n - 8 - 4 = 18, 8, -4
    np.testing.assert_array_equal(index.train_count, [15, 5, 0])
    # Validation origins n - 8 and n - 4; C's first one (0) has no context and is dropped.
    np.testing.assert_array_equal(index.val_series, [0, 0, 1, 1, 2])
    np.testing.assert_array_equal(index.val_origin, [22, 26, 12, 16, 4])


def test_build_index_val_size_not_a_multiple_of_horizon():
    panel = make_panel([30])
    index = build_index(panel, lookback=6, horizon=4, val_size=6)
    # One whole horizon fits in the 6 held-out steps: origin 24, target 24..27.
    np.testing.assert_array_equal(index.val_origin, [24])
    np.testing.assert_array_equal(index.train_first, [3])
    np.testing.assert_array_equal(index.train_count, [18])  # origins 3 .. 20 (= 30 - 6 - 4)


def test_too_short_lists_every_series_without_a_training_window():
    panel = make_panel([10, 40, 11, 12])
    index = build_index(panel, lookback=8, horizon=4, val_size=4)
    # a training window needs min_context 4 + horizon 4 + val 4 = 12 points
    np.testing.assert_array_equal(index.train_count, [0, 29, 0, 1])
    np.testing.assert_array_equal(index.too_short(), [0, 2])


def _assert_valid(index, lengths, series, origin):
    n = np.asarray(lengths)[series]
    assert (origin >= index.min_context).all()
    # the window's target (origin .. origin + horizon - 1) ends before the validation part
    assert (origin + index.horizon <= n - index.val_size).all()
    assert (index.train_count[series] > 0).all()


def test_sample_draws_only_valid_origins_and_is_reproducible():
    lengths = [30, 20, 8, 15]
    panel = make_panel(lengths)
    index = build_index(panel, lookback=8, horizon=4, val_size=4)
    s1, o1 = index.sample(np.random.default_rng(7), 2000)
    s2, o2 = index.sample(np.random.default_rng(7), 2000)
    np.testing.assert_array_equal(s1, s2)
    np.testing.assert_array_equal(o1, o2)
    _assert_valid(index, lengths, s1, o1)
    # Every valid (series, origin) pair turns up, and nothing else: 19 + 9 + 0 + 4 windows.
    drawn = set(zip(s1.tolist(), o1.tolist(), strict=True))
    expected = {(s, o) for s in range(4) for o in range(4, lengths[s] - 8 + 1)}
    assert drawn == expected
    s3, _ = index.sample(np.random.default_rng(8), 2000)
    assert not np.array_equal(s1, s3)


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(
    lengths=st.lists(st.integers(3, 60), min_size=1, max_size=5),
    lookback=st.integers(1, 24),
    horizon=st.integers(1, 8),
    extra=st.integers(0, 10),
    seed=st.integers(0, 2**32 - 1),
)
def test_sample_and_validation_windows_property(lengths, lookback, horizon, extra, seed):
    panel = make_panel(lengths)
    val_size = horizon + extra
    index = build_index(panel, lookback, horizon, val_size)
    n = np.asarray(lengths)
    # validation windows lie wholly inside the held-out part of their series
    vn = n[index.val_series]
    assert (index.val_origin >= vn - val_size).all()
    assert (index.val_origin + horizon <= vn).all()
    assert (index.val_origin >= index.min_context).all()
    if index.n_train == 0:
        return
    series, origin = index.sample(np.random.default_rng(seed), 64)
    _assert_valid(index, lengths, series, origin)
    # and the gathered windows read only their own series
    windows = gather_windows(
        torch.from_numpy(panel.values),
        torch.from_numpy(panel.offsets[:-1].copy()),
        torch.from_numpy(series),
        torch.from_numpy(origin),
        lookback,
        horizon,
    ).numpy()
    assert ((windows // 100) == (series[:, None] + 1)).all()


def test_gather_windows_exact_values_with_left_padding():
    panel = make_panel([30, 20, 8])
    values = torch.from_numpy(panel.values)
    starts = torch.from_numpy(panel.offsets[:-1].copy())
    series = torch.tensor([0, 1, 2, 0])
    origin = torch.tensor([10, 3, 6, 0])
    got = gather_windows(values, starts, series, origin, lookback=5, horizon=2)
    expected = torch.tensor(
        [
            [105, 106, 107, 108, 109, 110, 111],  # steps 5 .. 11
            [200, 200, 200, 201, 202, 203, 204],  # steps -2 .. 4: the first value repeated
            [301, 302, 303, 304, 305, 306, 307],  # steps 1 .. 7, ending at the series' end
            [100, 100, 100, 100, 100, 100, 101],  # origin 0: all lookback is padding
        ],
        dtype=torch.float32,
    )
    assert got.shape == (4, 7)
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, expected, rtol=0, atol=0)


def test_gather_windows_horizon_zero_is_the_lookback_only():
    panel = make_panel([12])
    got = gather_windows(
        torch.from_numpy(panel.values),
        torch.from_numpy(panel.offsets[:-1].copy()),
        torch.tensor([0]),
        torch.tensor([12]),
        lookback=4,
        horizon=0,
    )
    torch.testing.assert_close(got, torch.tensor([[108.0, 109.0, 110.0, 111.0]]), rtol=0, atol=0)


@pytest.mark.parametrize("lookback", [1, 2, 3])
def test_min_context_is_at_least_one(lookback):
    index = build_index(make_panel([20]), lookback=lookback, horizon=2, val_size=2)
    assert index.min_context == max(1, lookback // 2)
    assert index.train_first[0] == index.min_context


# --- windows a horizon apart: the verdict's ------------------------------------------------


def test_spaced_windows_end_at_each_series_last_value_a_horizon_apart():
    series, origin = spaced_windows(np.array([30, 20, 8]), horizon=4, least=4, folds=3)
    # A: 26, 22, 18; B: 16, 12, 8; C (8 points): 4 only (0 has fewer than 4 values before it)
    np.testing.assert_array_equal(series, [0, 0, 0, 1, 1, 1, 2])
    np.testing.assert_array_equal(origin, [26, 22, 18, 16, 12, 8, 4])
    assert series.dtype == origin.dtype == np.int64


def test_spaced_windows_respect_least_per_series_and_folds():
    # least per series: B needs 13 values before an origin, so only 16 is left of 16, 12, 8
    series, origin = spaced_windows(np.array([30, 20]), horizon=4, least=np.array([4, 13]), folds=3)
    np.testing.assert_array_equal(origin[series == 1], [16])
    s, o = spaced_windows(np.array([30]), horizon=4, least=0, folds=100)
    np.testing.assert_array_equal(o, [26, 22, 18, 14, 10, 6, 2])  # every whole horizon
    for folds in (0, -1):
        s, o = spaced_windows(np.array([30]), horizon=4, least=0, folds=folds)
        assert len(s) == len(o) == 0
    s, o = spaced_windows(np.array([3]), horizon=4, least=0, folds=3)  # shorter than H
    assert len(o) == 0


@pytest.mark.slow
@settings(max_examples=80, deadline=None)
@given(
    lengths=st.lists(st.integers(1, 80), min_size=1, max_size=5),
    horizon=st.integers(1, 12),
    least=st.integers(0, 30),
    folds=st.integers(0, 8),
)
def test_spaced_windows_property(lengths, horizon, least, folds):
    n = np.array(lengths)
    series, origin = spaced_windows(n, horizon, least, folds)
    assert (origin >= least).all() and (origin + horizon <= n[series]).all()
    for s in range(len(n)):
        o = np.sort(origin[series == s])
        assert len(o) <= max(folds, 0)
        assert (np.diff(o) == horizon).all()  # consecutive: never overlapping, no gap
        if len(o):
            assert o[-1] + horizon == n[s]  # the last ends at the series' last value
        # every window that fits is there: one more would need too little history or folds
        assert len(o) == max(folds, 0) or n[s] - (len(o) + 1) * horizon < least


def test_verdict_windows_are_the_held_out_horizons():
    panel = make_panel([30, 20, 8])
    index = build_index(panel, lookback=8, horizon=4, val_size=8)
    series, origin = verdict_windows(panel, index)
    # two whole horizons held out: n - 4 and n - 8, each with min_context 4 values before it
    np.testing.assert_array_equal(series, [0, 0, 1, 1, 2])
    np.testing.assert_array_equal(origin, [26, 22, 16, 12, 4])
    # the same windows build_index validates on: training never saw them as targets
    pairs = set(zip(series, origin, strict=True))
    assert pairs == set(zip(index.val_series, index.val_origin, strict=True))


def test_default_val_size_holds_out_verdict_folds_horizons_within_a_fifth_of_the_data():
    many = make_panel([500] * 40)  # 40 series: VERDICT_FOLDS horizons are >= 64 windows
    assert default_val_size(many, 10) == VERDICT_FOLDS * 10
    few = make_panel([500] * 2)  # 2 series: four horizons for early stopping
    assert default_val_size(few, 10) == 4 * 10
    # a fifth of the median series (100 points / 5 = 20) holds two horizons of 10, one of 12
    short = make_panel([100, 100, 100])
    assert default_val_size(short, 10) == 20
    assert default_val_size(short, 12) == 12
    assert default_val_size(short, 30) == 30  # always one horizon, however short
