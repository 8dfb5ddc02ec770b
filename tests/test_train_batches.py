"""Training batches: torch threads by model size."""

import numpy as np
import pandas as pd
import pytest
import torch

from lstmcast.config import DataSpec, ModelConfig, TrainConfig
from lstmcast.model import LSTMForecaster
from lstmcast.schema import build_panel
from lstmcast.train import (
    TORCH_THREADS,
    cpu_threads,
    fit,
    lstm_step_gflop,
    resolve_model_config,
)


def ragged_panel(lengths=(40, 25, 60, 9)):
    parts = []
    for k, n in enumerate(lengths):
        ds = pd.date_range("2024-01-01", periods=n, freq="h")
        y = 10 * (k + 1) + np.sin(np.arange(n) / 3) + 0.1 * np.arange(n) % 5
        parts.append(pd.DataFrame({"unique_id": f"s{k}", "ds": ds, "y": y}))
    return build_panel(pd.concat(parts, ignore_index=True), DataSpec())


def tiny_config(panel):
    cfg = ModelConfig(lookback=8, horizon=4, hidden_size=8, layers=1, calendar=False)
    return resolve_model_config(cfg, panel, val_size=4)


def test_lstm_step_gflop_counts_the_gate_products():
    cfg = ModelConfig(lookback=168, horizon=48, season=24, patch=8, periods=(24.0, 168.0))
    model = LSTMForecaster(cfg)  # 12 inputs per token (8 values, 2 cycles' sin/cos), 21 tokens
    macs = 4 * 128 * (12 + 128) + 4 * 128 * (128 + 128)  # per window and token, both layers
    assert lstm_step_gflop(model, 256) == pytest.approx(6 * 256 * 21 * macs / 1e9)


def test_threads_by_model_size_unless_given():
    tiny = LSTMForecaster(ModelConfig(lookback=8, horizon=4, season=4, patch=2, hidden_size=8))
    default = LSTMForecaster(ModelConfig(lookback=168, horizon=48, season=24, patch=8))
    assert cpu_threads(tiny, TrainConfig()) == 1
    assert cpu_threads(default, TrainConfig()) == TORCH_THREADS
    assert cpu_threads(tiny, TrainConfig(threads=3)) == 3


def test_threads_option_sets_torch_threads():
    panel = ragged_panel()
    before = torch.get_num_threads()
    try:
        train = TrainConfig(max_steps=1, batch_size=8, device="cpu", val_size=4, threads=2)
        fit(panel, tiny_config(panel), train)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
