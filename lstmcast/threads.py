"""CPU threads: how many torch trains on, and how many cores that leaves for other work
(the per-series methods' fits beside training: verdict.train_beside_evidence)."""

from __future__ import annotations

import torch

from lstmcast import distributed, methods
from lstmcast.config import ModelConfig, TrainConfig
from lstmcast.distributed import resolve_device
from lstmcast.methods.lstm import LSTMForecaster

__all__ = ["TORCH_THREADS", "lstm_step_gflop", "cpu_threads", "spare_cores"]

# LSTM work per step below which one CPU thread is faster than several. On 2 cores: the
# daily panel's model (0.56 GFLOP) steps 1.3x faster on one thread than on two; M4 Hourly's
# with 64 units (1.21 GFLOP) 1.23x slower (benchmarks/threads.py; BENCHMARKS.md).
SMALL_STEP_GFLOP = 1.0
TORCH_THREADS = torch.get_num_threads()  # torch's default: the cores, or OMP_NUM_THREADS


def lstm_step_gflop(model: LSTMForecaster, batch: int) -> float:
    """LSTM work of one training step, in GFLOP.

    Per window and token a layer multiplies [x, h] by its (4H, I + H) weights: as many
    multiply-adds as the weights have entries; backward does about twice that again.
    """
    macs = sum(w.numel() for name, w in model.lstm.named_parameters() if name.startswith("weight"))
    return 2 * 3 * batch * (model.cfg.lookback // model.cfg.patch) * macs / 1e9


def cpu_threads(model: LSTMForecaster, train_cfg: TrainConfig) -> int:
    """--threads, else one thread for a small model (waking a second thread for each of its
    short products costs more than it saves: benchmarks/threads.py), else torch's default."""
    if train_cfg.threads:
        return train_cfg.threads
    small = lstm_step_gflop(model, train_cfg.batch_size) < SMALL_STEP_GFLOP
    return 1 if small else TORCH_THREADS


def spare_cores(cfg: ModelConfig, train_cfg: TrainConfig) -> int:
    """The CPU cores training leaves idle: all but the one an accelerator's loop takes, or
    on CPU those beyond its threads (cpu_threads); none under torchrun, whose processes
    share the cores."""
    if distributed.active():
        return 0
    if resolve_device(train_cfg.device).type != "cpu":
        return methods.cores() - 1
    with torch.device("meta"):  # the shapes alone: nothing is allocated
        model = LSTMForecaster(cfg)
    return max(0, methods.cores() - cpu_threads(model, train_cfg))
