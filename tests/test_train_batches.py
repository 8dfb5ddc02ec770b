"""Training batches: the on-device window sampler, the step events, torch threads, the
planned length."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

from lstmcast.batches import device_sampler
from lstmcast.config import DataSpec, ModelConfig, TrainConfig
from lstmcast.data.load import load
from lstmcast.methods.lstm import LSTMForecaster
from lstmcast.threads import TORCH_THREADS, cpu_threads, lstm_step_gflop, spare_cores
from lstmcast.train import MIN_STEPS, PASSES, fit, resolve_model_config
from lstmcast.windows import build_index


def ragged_panel(lengths=(40, 25, 60, 9)):
    parts = []
    for k, n in enumerate(lengths):
        ds = pd.date_range("2024-01-01", periods=n, freq="h")
        y = 10 * (k + 1) + np.sin(np.arange(n) / 3) + 0.1 * np.arange(n) % 5
        parts.append(pd.DataFrame({"unique_id": f"s{k}", "ds": ds, "y": y}))
    return load(pd.concat(parts, ignore_index=True), DataSpec())


def test_device_sampler_draws_only_training_windows_and_all_of_them():
    index = build_index(ragged_panel(), lookback=8, horizon=4, val_size=4)
    assert index.train_count[3] == 0  # the 9-point series gives no training window
    draw = device_sampler(index, 4096, torch.device("cpu"), seed=0)
    series, origin = (t.numpy() for t in draw())
    first, count = index.train_first[series], index.train_count[series]
    assert ((origin >= first) & (origin < first + count)).all()
    assert set(series) == {0, 1, 2}
    # uniform over windows: every one of the n_train windows turns up in 4096 draws
    assert len(set(zip(series, origin, strict=True))) == index.n_train


def test_device_sampler_is_seeded_like_the_host_sampler():
    index = build_index(ragged_panel(), lookback=8, horizon=4, val_size=4)
    a, b, c = (device_sampler(index, 64, torch.device("cpu"), seed) for seed in (3, 3, 4))
    first, second, other = a(), b(), c()
    assert all(torch.equal(x, y) for x, y in zip(first, second, strict=True))
    assert not torch.equal(first[1], other[1])
    assert not torch.equal(first[1], a()[1])  # each call draws a new batch


def tiny_config(panel):
    cfg = ModelConfig(lookback=8, horizon=4, hidden_size=8, layers=1, calendar=False)
    return resolve_model_config(cfg, panel, val_size=4)


def test_step_events_carry_the_loss_without_a_copy_per_step():
    panel = ragged_panel()
    losses, epochs = [], []

    def on_event(event, info):
        if event == "step":
            losses.append(info["loss"])
        elif event == "epoch":
            epochs.append(info)

    train = TrainConfig(epochs=2, windows_per_epoch=64, batch_size=16, device="cpu", val_size=4)
    fit(panel, tiny_config(panel), train, on_event)
    assert len(losses) == 8 and all(torch.is_tensor(x) and x.dim() == 0 for x in losses)
    # the epoch's train loss is the mean of its steps' losses, summed on the device
    mean = float(torch.stack(losses[:4]).mean())
    assert epochs[0]["train_loss"] == pytest.approx(mean, rel=1e-5)


def test_lstm_step_gflop_counts_the_gate_products():
    cfg = ModelConfig(
        lookback=168, horizon=48, season=24, patch=8, hidden_size=128, periods=(24.0, 168.0)
    )
    model = LSTMForecaster(cfg)  # 12 inputs per token (8 values, 2 cycles' sin/cos), 21 tokens
    macs = 4 * 128 * (12 + 128) + 4 * 128 * (128 + 128)  # per window and token, both layers
    assert lstm_step_gflop(model, 256) == pytest.approx(6 * 256 * 21 * macs / 1e9)


def test_threads_by_model_size_unless_given():
    tiny = LSTMForecaster(ModelConfig(lookback=8, horizon=4, season=4, patch=2, hidden_size=8))
    default = LSTMForecaster(
        ModelConfig(lookback=168, horizon=48, season=24, patch=8, hidden_size=128)
    )
    assert cpu_threads(tiny, TrainConfig()) == 1
    assert cpu_threads(default, TrainConfig()) == TORCH_THREADS
    assert cpu_threads(tiny, TrainConfig(threads=3)) == 3


@pytest.mark.slow
def test_threads_option_sets_torch_threads():
    panel = ragged_panel()
    before = torch.get_num_threads()
    try:
        train = TrainConfig(max_steps=1, batch_size=8, device="cpu", val_size=4, threads=2)
        fit(panel, tiny_config(panel), train)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_training_stops_at_the_steps_planned_from_the_data():
    """PASSES draws of every training window (MIN_STEPS at least), then stop: the learning
    rate's schedule ends there, and no epoch of one step at its floor follows."""
    panel = ragged_panel()
    # --batch-size 3 and patience beyond the epochs: the plan, not early stopping, ends it
    train = TrainConfig(batch_size=3, device="cpu", val_size=4, patience=1000, epochs=1000)
    index = build_index(panel, 8, 4, 4)
    planned = max(MIN_STEPS, -(-PASSES * index.n_train // 3))
    per_epoch = -(-index.n_train // 3)
    assert planned % per_epoch, "the plan ends inside an epoch: the case that went on"
    result = fit(panel, tiny_config(panel), train)
    assert (result.steps, result.stop_reason) == (planned, "steps")
    assert result.epochs == -(-planned // per_epoch)
    # the epoch cap still rules when it comes first
    capped = fit(panel, tiny_config(panel), dataclasses.replace(train, epochs=2))
    assert (capped.steps, capped.stop_reason) == (2 * per_epoch, "epochs")


def test_training_leaves_the_cores_its_threads_do_not_take():
    """The per-series methods' fits run beside training on these cores (none: after it)."""
    from lstmcast.methods import cores

    tiny = ModelConfig(lookback=8, horizon=4, season=4, patch=2, hidden_size=8)
    default = ModelConfig(lookback=168, horizon=48, season=24, patch=8, hidden_size=128)
    cpu = TrainConfig(device="cpu")
    assert spare_cores(tiny, cpu) == cores() - 1  # a small model trains on one thread
    assert spare_cores(default, cpu) == max(0, cores() - TORCH_THREADS)
    assert spare_cores(default, dataclasses.replace(cpu, threads=1)) == cores() - 1
    assert spare_cores(tiny, dataclasses.replace(cpu, threads=cores() + 4)) == 0
