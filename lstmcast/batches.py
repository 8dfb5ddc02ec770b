"""Batches: a Panel's arrays on the device once, and the (x, y, phase, covariates) of any windows.

Training, validation, calibration and forecasting all read windows the same way: a window
(series s, origin t) is the lookback `values[t - L : t]` and the target `values[t : t + H]`
of series s (lstmcast.windows), the position of its first lookback step in each cycle, and
its covariates over lookback and horizon. `PanelBatches` uploads the panel once and gathers
any set of windows in a few indexing ops; nothing is copied per window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from lstmcast.config import ModelConfig
from lstmcast.data.covariates import covariate_table
from lstmcast.data.panel import Panel
from lstmcast.methods.lstm import cycle_phase
from lstmcast.windows import WindowIndex

__all__ = [
    "Batch",
    "PanelBatches",
    "gather_windows",
    "CovariateWindows",
    "window_sampler",
    "device_sampler",
]


def gather_windows(
    values: torch.Tensor,
    starts: torch.Tensor,
    series: torch.Tensor,
    origin: torch.Tensor,
    lookback: int,
    horizon: int,
) -> torch.Tensor:
    """Gather (B, lookback + horizon) windows from the flat values in one indexing op.

    Window b covers steps origin[b] - lookback .. origin[b] + horizon - 1 of its series;
    steps before the series' start repeat its first value (edge padding for short series).
    """
    rel = (
        origin[:, None] + torch.arange(-lookback, horizon, device=values.device)[None, :]
    )  # (B, L + H)
    return values[starts[series][:, None] + rel.clamp_min(0)]


class CovariateWindows:
    """Covariate windows (B, lookback + horizon, C) gathered by index, like gather_windows.

    The table holds each series' covariate rows followed by its known future rows
    (covariates.covariate_table); steps before a series' start repeat its first row and
    steps past its known rows repeat its last.
    """

    def __init__(self, panel: Panel, device: torch.device) -> None:
        table, starts, counts = covariate_table(panel)
        self.table = torch.from_numpy(table).to(device)
        self.starts = torch.from_numpy(starts).to(device)
        self.last = torch.from_numpy(counts - 1).to(device)

    @classmethod
    def of(cls, panel: Panel, cfg: ModelConfig, device: torch.device) -> CovariateWindows | None:
        """The panel's covariate windows for a model; None when the model reads none."""
        names = cfg.covariates + cfg.past_covariates
        if not names:
            return None
        have = panel.columns.covariates + panel.columns.past_covariates
        same = [n.lower() for n in have] == [n.lower() for n in names]
        assert panel.covariates is not None and same, (
            f"the model reads covariates {', '.join(names)}, the panel has {', '.join(have) or 'none'}"
        )
        return cls(panel, device)

    def __call__(
        self, series: torch.Tensor, origin: torch.Tensor, lookback: int, horizon: int
    ) -> torch.Tensor:
        rel = origin[:, None] + torch.arange(-lookback, horizon, device=self.table.device)[None, :]
        rel = torch.minimum(rel.clamp_min(0), self.last[series][:, None])  # (B, L + H)
        return self.table[self.starts[series][:, None] + rel]


@dataclass(frozen=True)
class Batch:
    """What a model reads for B windows, and the actuals it is scored on."""

    x: torch.Tensor  # (B, L) raw lookback
    y: torch.Tensor  # (B, H) raw target
    phase: torch.Tensor  # (B, K) position of x[:, 0] in each cycle
    cov: torch.Tensor | None  # (B, L + H, C) raw covariates; None when the model reads none


class PanelBatches:
    """A Panel on `device` for one model config: its values, per-series starts, phases and
    covariate table, uploaded once; windows are then gathered by (series, origin) index."""

    def __init__(self, panel: Panel, cfg: ModelConfig, device: torch.device) -> None:
        self.cfg, self.device = cfg, device
        cycles = cfg.periods or (float(cfg.season),)  # the model's cycles (LSTMForecaster)
        self.values = torch.from_numpy(panel.values).to(device)  # the whole panel, once
        self.starts = torch.from_numpy(panel.offsets[:-1].copy()).to(device)
        self.phase0 = torch.from_numpy(panel.phases(cycles)).float().to(device)  # (S, K)
        self.periods = torch.tensor(cycles, dtype=torch.float32, device=device)
        self.covariates = CovariateWindows.of(panel, cfg, device)  # None without covariates

    def upload(self, series: np.ndarray, origin: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Window indices from the host onto the device."""
        return torch.from_numpy(series).to(self.device), torch.from_numpy(origin).to(self.device)

    def lookback(self, series: torch.Tensor, origin: torch.Tensor) -> torch.Tensor:
        """The raw lookback of each window: (B, L)."""
        return gather_windows(self.values, self.starts, series, origin, self.cfg.lookback, 0)

    def phase(self, series: torch.Tensor, origin: torch.Tensor) -> torch.Tensor:
        """Position of each window's first lookback step in each cycle: (B, K)."""
        return cycle_phase(self.phase0[series], origin - self.cfg.lookback, self.periods)

    def covariates_at(self, series: torch.Tensor, origin: torch.Tensor) -> torch.Tensor | None:
        """Covariates over each window's lookback and horizon (B, L + H, C); None without."""
        if self.covariates is None:
            return None
        return self.covariates(series, origin, self.cfg.lookback, self.cfg.horizon)

    def gather(self, series: torch.Tensor, origin: torch.Tensor) -> Batch:
        """Everything a model reads for these windows, and their actuals: each window's
        horizon must lie within its series (a forecast past the end reads `lookback`)."""
        lookback, horizon = self.cfg.lookback, self.cfg.horizon
        window = gather_windows(self.values, self.starts, series, origin, lookback, horizon)
        return Batch(
            x=window[:, :lookback],  # (B, L)
            y=window[:, lookback:],  # (B, H)
            phase=self.phase(series, origin),
            cov=self.covariates_at(series, origin),
        )


def window_sampler(
    index: WindowIndex, rng: np.random.Generator, batch: int, device: torch.device, seed: int
) -> Callable[[], tuple[torch.Tensor, torch.Tensor]]:
    """Draw one batch of training windows as (series, origin) tensors on `device`.

    On CPU, numpy draws them and torch shares its memory. On an accelerator they are drawn
    there, the same way as WindowIndex.sample, from a seeded generator on the device: no
    batch waits for a copy from the host.
    """
    if device.type == "cpu":
        return lambda: tuple(map(torch.from_numpy, index.sample(rng, batch)))
    return device_sampler(index, batch, device, seed)


def device_sampler(
    index: WindowIndex, batch: int, device: torch.device, seed: int
) -> Callable[[], tuple[torch.Tensor, torch.Tensor]]:
    """WindowIndex.sample with torch on `device`: uniform over all training windows."""
    count = torch.from_numpy(index.train_count).to(device)
    first = torch.from_numpy(index.train_first).to(device)
    cum = torch.cumsum(count, 0)
    gen = torch.Generator(device=device)
    gen.manual_seed(seed)

    def draw() -> tuple[torch.Tensor, torch.Tensor]:
        k = torch.randint(0, index.n_train, (batch,), device=device, generator=gen)
        series = torch.searchsorted(cum, k, right=True)
        return series, first[series] + k - (cum[series] - count[series])

    return draw
