"""PanelBatches: exact lookbacks, targets, phases and covariates gathered from small hand-made panels."""

import numpy as np
import pandas as pd
import pytest
import torch

from lstmcast.batches import Batch, PanelBatches
from lstmcast.config import DataSpec, ModelConfig
from lstmcast.data.load import load
from lstmcast.methods.lstm import LSTMForecaster

LOOKBACK, HORIZON = 4, 2
CFG = ModelConfig(
    lookback=LOOKBACK,
    horizon=HORIZON,
    hidden_size=4,
    layers=1,
    patch=1,
    season=7,
    periods=(7.0, 3.0),
)
CPU = torch.device("cpu")


def value_panel():
    """Daily 'A' (12 points, 100 + t) from a Monday and 'B' (8 points, 200 + t) from a Thursday."""
    parts = [
        pd.DataFrame(
            {"unique_id": uid, "ds": pd.date_range(start, periods=n, freq="D"), "y": base + np.arange(n, dtype=float)}
        )
        for uid, start, n, base in (("A", "2024-01-01", 12, 100), ("B", "2024-01-04", 8, 200))
    ]  # fmt: skip
    return load(pd.concat(parts, ignore_index=True))


def covariate_panel(n=10, future=3):
    """Daily 'A' and 'B' of n points; `promo` = 1000 (k + 1) + t is known `future` steps
    ahead, `visits` = 50 + t only up to the last target."""
    parts = []
    for k, uid in enumerate("AB"):
        t = np.arange(n + future, dtype=float)
        y, visits = 10 * (k + 1) + t, 50 + t
        y[n:], visits[n:] = np.nan, np.nan
        ds = pd.date_range("2024-01-01", periods=n + future, freq="D")
        parts.append(pd.DataFrame({"unique_id": uid, "ds": ds, "y": y, "promo": 1000 * (k + 1) + t, "visits": visits}))  # fmt: skip
    spec = DataSpec(covariates=("promo",), past_covariates=("visits",))
    return load(pd.concat(parts, ignore_index=True), spec)


def windows(*pairs):
    series, origin = zip(*pairs, strict=True)
    return torch.tensor(series), torch.tensor(origin)


def test_a_batch_has_the_shapes_the_model_reads():
    batches = PanelBatches(value_panel(), CFG, CPU)
    batch = batches.gather(*windows((0, 6), (1, 5), (0, 10)))
    assert isinstance(batch, Batch)
    assert batch.x.shape == (3, LOOKBACK) and batch.y.shape == (3, HORIZON)
    assert batch.phase.shape == (3, 2)  # one position per cycle in CFG.periods
    assert batch.x.dtype == batch.y.dtype == batch.phase.dtype == torch.float32
    assert batch.cov is None  # the panel and the model have no covariates
    assert batches.covariates_at(*windows((0, 6))) is None


def test_x_and_y_are_the_panel_values_before_and_from_the_origin():
    panel = value_panel()
    batch = PanelBatches(panel, CFG, CPU).gather(*windows((0, 6), (1, 5), (0, 10)))
    a, b = panel.series(0), panel.series(1)
    expected_x = [a[2:6], b[1:5], a[6:10]]
    expected_y = [a[6:8], b[5:7], a[10:12]]
    np.testing.assert_array_equal(batch.x.numpy(), np.stack(expected_x))
    np.testing.assert_array_equal(batch.y.numpy(), np.stack(expected_y))
    np.testing.assert_array_equal(batch.x[1].numpy(), [201, 202, 203, 204])  # B, not A


def test_a_window_before_the_series_start_repeats_its_first_value():
    batch = PanelBatches(value_panel(), CFG, CPU).gather(*windows((1, 2)))
    np.testing.assert_array_equal(batch.x.numpy(), [[200, 200, 200, 201]])
    np.testing.assert_array_equal(batch.y.numpy(), [[202, 203]])


def test_the_lookback_alone_matches_the_batch_and_may_end_at_the_last_value():
    panel = value_panel()
    batches = PanelBatches(panel, CFG, CPU)
    s, o = windows((0, 6), (1, 5))
    torch.testing.assert_close(batches.lookback(s, o), batches.gather(s, o).x, rtol=0, atol=0)
    end = batches.lookback(*windows((0, 12), (1, 8)))  # forecast origins: one past the data
    np.testing.assert_array_equal(end.numpy(), [panel.series(0)[-4:], panel.series(1)[-4:]])


def test_the_phase_is_the_first_lookback_step_in_each_cycle_as_the_model_computes_it():
    panel = value_panel()
    s, o = windows((0, 6), (1, 5), (1, 2))
    phase = PanelBatches(panel, CFG, CPU).gather(s, o).phase
    # Days since 1970-01-01 (a Thursday) modulo 7 and 3: A's step 2 is Wed 2024-01-03 (day
    # 19725), B's step 1 Fri 2024-01-05 (19727), B's step -2 Tue 2024-01-02 (19724).
    np.testing.assert_array_equal(phase.numpy(), [[6, 0], [1, 2], [5, 2]])
    start = panel.phases(CFG.periods)  # (S, K)
    model = LSTMForecaster(CFG)  # the recursion advances phases with the model: same ops
    phase0 = torch.from_numpy(start).float()
    torch.testing.assert_close(phase, model.phase_at(phase0[s], o - LOOKBACK), rtol=0, atol=0)


def test_upload_puts_indices_on_the_device_unchanged():
    batches = PanelBatches(value_panel(), CFG, CPU)
    s, o = batches.upload(np.array([1, 0], dtype=np.int64), np.array([5, 9], dtype=np.int64))
    assert s.dtype == o.dtype == torch.int64 and s.device == o.device == CPU
    assert s.tolist() == [1, 0] and o.tolist() == [5, 9]


def test_covariates_cover_lookback_and_horizon_with_the_known_future():
    panel = covariate_panel(n=10, future=3)
    cfg = ModelConfig(
        lookback=LOOKBACK, horizon=HORIZON, patch=1, season=7, periods=(7.0,),
        covariates=("promo",), past_covariates=("visits",),
    )  # fmt: skip
    batches = PanelBatches(panel, cfg, CPU)
    batch = batches.gather(*windows((0, 6), (1, 8)))
    assert batch.cov.shape == (2, LOOKBACK + HORIZON, 2)  # promo then visits
    steps = np.arange(-LOOKBACK, HORIZON)
    # Inside the data: both columns are the file's values at steps origin - 4 .. origin + 1.
    np.testing.assert_array_equal(batch.cov[0, :, 0].numpy(), 1000 + 6 + steps)
    np.testing.assert_array_equal(batch.cov[0, :, 1].numpy(), 50 + 6 + steps)
    np.testing.assert_array_equal(batch.cov[1, :, 0].numpy(), 2000 + 8 + steps)
    np.testing.assert_array_equal(batch.y.numpy(), [10 + np.arange(6, 8), 20 + np.arange(8, 10)])
    # A forecast from B's end: promo's future rows come from the file, visits repeats its last value.
    ahead = batches.covariates_at(*windows((1, 10)))
    np.testing.assert_array_equal(ahead[0, :, 0].numpy(), 2000 + 10 + steps)
    np.testing.assert_array_equal(ahead[0, :, 1].numpy(), [56, 57, 58, 59, 59, 59])


def test_a_model_reading_covariates_the_panel_lacks_is_refused():
    cfg = ModelConfig(lookback=LOOKBACK, horizon=HORIZON, patch=1, season=7, covariates=("promo",))
    with pytest.raises(
        AssertionError, match="the model reads covariates promo, the panel has none"
    ):
        PanelBatches(value_panel(), cfg, CPU)
