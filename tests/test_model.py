"""LSTMForecaster shapes and skip connection, window scaling, pinball loss, config defaults."""

import numpy as np
import pandas as pd
import pytest
import torch

from lstmcast.config import ModelConfig
from lstmcast.data.load import load
from lstmcast.errors import UsageError
from lstmcast.methods.lstm import LSTMForecaster, pinball_loss, window_stats
from lstmcast.train import resolve_model_config
from lstmcast.windows import (
    HIDDEN,
    MIN_TOKENS,
    SMALL_DATA_WINDOWS,
    SMALL_HIDDEN,
    build_index,
    default_val_size,
)


def small_cfg(**kw) -> ModelConfig:
    base = {
        "lookback": 8,
        "horizon": 6,
        "season": 4,
        "patch": 2,
        "hidden_size": 8,
        "layers": 1,
        "quantiles": (0.1, 0.5, 0.9),
    }
    return ModelConfig(**{**base, **kw})


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("quantiles", [(0.5,), (0.1, 0.5, 0.9), (0.05, 0.25, 0.5, 0.75, 0.95)])
def test_forward_shapes(layers, quantiles):
    torch.manual_seed(0)
    model = LSTMForecaster(small_cfg(layers=layers, quantiles=quantiles)).eval()
    x = torch.randn(5, 8) * 10 + 50
    phase = (torch.arange(5) % 4).float()[:, None]
    yhat, loc, scale = model(x, phase)
    assert yhat.shape == (5, 6, len(quantiles))  # (B, H, Q)
    assert loc.shape == (5, 1)
    assert scale.shape == (5, 1)
    assert torch.isfinite(yhat).all()


def test_lookback_must_be_whole_patches():
    with pytest.raises(AssertionError, match="multiple of patch"):
        LSTMForecaster(small_cfg(lookback=9, patch=2))


def test_window_stats_mean_and_population_std():
    x = torch.tensor([[1.0, 2.0, 3.0, 4.0], [10.0, 10.0, 14.0, 14.0]])
    loc, scale = window_stats(x)
    torch.testing.assert_close(loc, torch.tensor([[2.5], [12.0]]))
    torch.testing.assert_close(scale, torch.tensor([[np.sqrt(1.25)], [2.0]], dtype=torch.float32))


@pytest.mark.parametrize("level", [0.0, 5.0, -3.0, 1e6])
def test_window_stats_floor_on_a_constant_window(level):
    x = torch.full((2, 8), level)
    loc, scale = window_stats(x)
    expected_floor = 1e-3 * abs(level) + 1e-6
    torch.testing.assert_close(scale, torch.full((2, 1), expected_floor))
    assert (scale > 0).all()
    z = (x - loc) / scale
    assert torch.isfinite(z).all()
    assert (z == 0).all()
    # and the whole model stays finite on a flat lookback
    model = LSTMForecaster(small_cfg()).eval()
    yhat, _, _ = model(x, torch.zeros(2, 1))
    assert torch.isfinite(yhat).all()


def _zero_head(model: LSTMForecaster) -> None:
    with torch.no_grad():
        model.head[-1].weight.zero_()
        model.head[-1].bias.zero_()


def test_skip_with_a_zero_head_is_the_last_seasonal_cycle():
    torch.manual_seed(0)
    # lookback 8, horizon 6, season 4; without the gate the skip is seasonal naive alone
    model = LSTMForecaster(small_cfg(gate=False, skip_cycles=1)).eval()
    _zero_head(model)
    x = torch.tensor([[1.0, 5.0, 2.0, 8.0, 3.0, 7.0, 4.0, 6.0], [10, 10, 10, 10, 11, 12, 13, 14]])
    with torch.no_grad():
        yhat, loc, scale = model(x, torch.tensor([[0.0], [3.0]]))
    xn = x.numpy().astype(np.float64)
    z = (xn - xn.mean(axis=1, keepdims=True)) / xn.std(axis=1, keepdims=True)
    # last cycle (steps 4..7) then its first two steps again to fill the horizon of 6
    expected = z[:, [4, 5, 6, 7, 4, 5]]
    for q in range(3):
        np.testing.assert_allclose(yhat[:, :, q].numpy(), expected, rtol=1e-5, atol=1e-6)
    # mapped back to data units it is the raw seasonal naive forecast
    np.testing.assert_allclose(
        (yhat[:, :, 1] * scale + loc).numpy(), xn[:, [4, 5, 6, 7, 4, 5]], rtol=1e-5
    )


@pytest.mark.parametrize("season", [1, 12])
def test_skip_without_a_whole_cycle_repeats_the_last_value(season):
    # season 1 has no cycle; season 12 is longer than the lookback of 8
    model = LSTMForecaster(small_cfg(season=season)).eval()
    _zero_head(model)
    x = torch.tensor([[3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0]])
    yhat, loc, scale = model(x, torch.tensor([[0.0]]))
    last = ((x[:, -1:] - loc) / scale).expand(1, 6)
    torch.testing.assert_close(yhat[:, :, 0], last)


def test_no_skip_with_a_zero_head_is_zero():
    model = LSTMForecaster(small_cfg(skip=False)).eval()
    _zero_head(model)
    yhat, _, _ = model(torch.randn(3, 8), torch.zeros(3, 1))
    assert (yhat == 0).all()


def test_pinball_loss_hand_computed():
    pred = torch.tensor([[[0.0, 2.0], [4.0, 3.0]]])  # (B=1, H=2, Q=2)
    target = torch.tensor([[1.0, 3.0]])  # (B=1, H=2)
    quantiles = torch.tensor([0.1, 0.9])
    # errors y - f: h0: 1, -1; h1: -1, 0
    # losses max(q e, (q - 1) e): 0.1, 0.1, 0.9, 0.0 -> mean 0.275
    loss = pinball_loss(pred, target, quantiles)
    assert loss.item() == pytest.approx(0.275)


def test_pinball_loss_median_is_half_the_absolute_error():
    torch.manual_seed(1)
    pred, target = torch.randn(4, 5, 1), torch.randn(4, 5)
    loss = pinball_loss(pred, target, torch.tensor([0.5]))
    assert loss.item() == pytest.approx(0.5 * (target - pred[:, :, 0]).abs().mean().item())


def panel_of(freq: str, n: int, series: int = 1):
    parts = [
        pd.DataFrame(
            {
                "unique_id": f"s{i}",
                "ds": pd.date_range("2000-01-01", periods=n, freq=freq),
                "y": np.sin(np.arange(n) / 3.0) + 10 + i,
            }
        )
        for i in range(series)
    ]
    return load(pd.concat(parts, ignore_index=True))


@pytest.mark.parametrize(
    ("freq", "n", "season", "horizon", "lookback"),
    [
        ("h", 1000, 24, 24, 336),  # two weeks of hours: sub-daily data take 14 cycles
        ("30min", 2000, 48, 48, 672),  # two weeks of half hours
        ("D", 400, 7, 7, 49),  # seven weeks of days
        ("MS", 300, 12, 12, 84),  # seven years of months
    ],
)
def test_resolve_defaults_from_the_frequency(freq, n, season, horizon, lookback):
    cfg = resolve_model_config(ModelConfig(), panel_of(freq, n))
    assert cfg.season == season
    assert cfg.horizon == horizon
    assert cfg.lookback == lookback
    assert cfg.lookback % cfg.patch == 0
    assert season % cfg.patch == 0
    assert cfg.quantiles == (0.1, 0.5, 0.9)
    LSTMForecaster(cfg)  # a resolved config builds a model


@pytest.mark.parametrize(("freq", "n", "patch"), [("h", 1000, 24), ("D", 400, 7), ("MS", 300, 12)])
def test_resolve_patch_is_the_largest_that_leaves_min_tokens(freq, n, patch):
    cfg = resolve_model_config(ModelConfig(), panel_of(freq, n))
    assert cfg.patch == patch  # with a 7-cycle lookback (14 sub-daily): one token per cycle
    assert cfg.lookback // cfg.patch >= MIN_TOKENS
    smaller = [d for d in range(cfg.patch + 1, cfg.season + 1) if cfg.season % d == 0]
    assert all(cfg.lookback // d < MIN_TOKENS for d in smaller)


def test_resolve_hourly_skip_mixes_every_day_of_two_weeks():
    cfg = resolve_model_config(ModelConfig(), panel_of("h", 1000))
    assert cfg.mixed_cycles == 14


def test_resolve_hidden_size_grows_with_the_training_windows():
    small = resolve_model_config(ModelConfig(), panel_of("h", 1000, series=3))
    assert small.hidden_size == SMALL_HIDDEN
    big_panel = panel_of("h", 1000, series=70)  # about 70 x 800 training windows
    assert (
        build_index(big_panel, 336, 24, default_val_size(big_panel, 24)).n_train
        >= SMALL_DATA_WINDOWS
    )
    assert resolve_model_config(ModelConfig(), big_panel).hidden_size == HIDDEN
    given = resolve_model_config(ModelConfig(hidden_size=5), big_panel)
    assert given.hidden_size == 5


def test_resolve_short_series_shrinks_the_lookback_to_whole_patches():
    cfg = resolve_model_config(ModelConfig(), panel_of("h", 160, series=3))
    assert cfg.horizon == 24
    assert 24 <= cfg.lookback < 168
    assert cfg.mixed_cycles == cfg.lookback // 24  # as many cycles as the lookback holds
    assert cfg.lookback % cfg.patch == 0


def test_resolve_keeps_explicit_values():
    given = ModelConfig(
        lookback=48, horizon=12, season=24, patch=4, hidden_size=32, quantiles=(0.1, 0.5, 0.9)
    )
    cfg = resolve_model_config(given, panel_of("h", 1000))
    assert (cfg.lookback, cfg.horizon, cfg.season, cfg.patch) == (48, 12, 24, 4)
    assert cfg.hidden_size == 32
    cfg = resolve_model_config(ModelConfig(lookback=48, horizon=12), panel_of("h", 1000))
    assert (cfg.lookback, cfg.horizon, cfg.season) == (48, 12, 24)


def test_resolve_keeps_an_explicit_lookback_that_some_patch_divides():
    # hourly: patch 6 (the largest divisor of 24 leaving 7 tokens of 50) does not divide 50,
    # so --lookback 50 would become 54; patch 2 divides both 24 and 50 (25 tokens).
    cfg = resolve_model_config(ModelConfig(lookback=50), panel_of("h", 1000))
    assert cfg.lookback == 50
    assert cfg.lookback % cfg.patch == 0


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ((0.2, 0.8), (0.2, 0.5, 0.8)),
        ((0.9, 0.1), (0.1, 0.5, 0.9)),
        ((0.5,), (0.5,)),
        ((0.05, 0.5, 0.5, 0.95), (0.05, 0.5, 0.95)),
    ],
)
def test_resolve_quantiles_always_include_the_median(given, expected):
    cfg = resolve_model_config(ModelConfig(quantiles=given), panel_of("D", 400))
    assert cfg.quantiles == expected
    assert cfg.quantiles[cfg.median_index] == 0.5


@pytest.mark.parametrize("bad", [(0.1, 1.0), (0.0, 0.5), (-0.1,), (1.5,)])
def test_resolve_rejects_quantiles_outside_0_1(bad):
    with pytest.raises(UsageError, match="between 0 and 1") as info:
        resolve_model_config(ModelConfig(quantiles=bad), panel_of("D", 400))
    assert info.value.exit_code == 2


def test_resolve_rejects_a_validation_shorter_than_the_horizon():
    with pytest.raises(UsageError, match="--val-size 3"):
        resolve_model_config(ModelConfig(horizon=7), panel_of("D", 400), val_size=3)
