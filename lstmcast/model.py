"""LSTMForecaster: one global LSTM over patches of a normalised lookback, direct quantile head."""

from __future__ import annotations

import math

import torch
from torch import nn

from lstmcast.config import ModelConfig

__all__ = ["LSTMForecaster", "pinball_loss", "window_stats"]


def window_stats(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-window location and scale from the lookback alone: (B, L) -> (B, 1), (B, 1).

    The scale has a floor relative to the level so a flat lookback (std 0) does not blow
    the normalised targets up to infinity.
    """
    loc = x.mean(dim=1, keepdim=True)
    std = x.std(dim=1, keepdim=True, unbiased=False)
    floor = 1e-3 * loc.abs() + 1e-6
    return loc, torch.maximum(std, floor)


class LSTMForecaster(nn.Module):
    """Forecast `horizon` steps for several quantiles from `lookback` past values.

    The normalised lookback is cut into tokens of `patch` steps (fewer recurrent steps:
    faster on CPU, and each token sees a local shape), each token carrying the sin/cos of
    its position in each of `cfg.periods` (the seasonal cycle, then calendar cycles such
    as hour of day and day of week). The last hidden state feeds an MLP head that emits
    the whole horizon for every quantile at once. With `skip`, the head predicts the
    residual over the last seasonal cycle of the lookback (seasonal naive).
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        assert cfg.lookback and cfg.horizon and cfg.patch and cfg.season, "resolve the config first"
        assert cfg.lookback % cfg.patch == 0, (
            f"lookback {cfg.lookback} must be a multiple of patch {cfg.patch}"
        )
        self.cfg = cfg
        self.n_quantiles = len(cfg.quantiles)
        self.cycles = cfg.periods or (float(cfg.season),)
        in_features = cfg.patch + 2 * len(self.cycles)
        self.lstm = nn.LSTM(
            in_features,
            cfg.hidden_size,
            cfg.layers,
            dropout=cfg.dropout if cfg.layers > 1 else 0.0,
            batch_first=True,
        )
        self.head = nn.Sequential(
            nn.Linear(cfg.hidden_size, cfg.hidden_size),
            nn.GELU(),
            nn.Dropout(cfg.dropout),
            nn.Linear(cfg.hidden_size, cfg.horizon * self.n_quantiles),
        )
        # Token i ends at lookback step (i + 1) * patch - 1: its phase offset from step 0.
        ends = torch.arange(1, cfg.lookback // cfg.patch + 1) * cfg.patch - 1
        self.register_buffer("token_ends", ends, persistent=False)
        periods = torch.tensor(self.cycles, dtype=torch.float32)
        self.register_buffer("periods", periods, persistent=False)

    def phase_at(self, phase0: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
        """Cycle positions `offset` steps after `phase0`: (B, K), (B,) -> (B, K) in [0, period)."""
        return torch.remainder(phase0 + offset[:, None].to(phase0.dtype), self.periods)

    def forward(
        self, x: torch.Tensor, phase: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x: (B, L) raw lookback; phase: (B, K) position of x[:, 0] in each cycle.

        Returns the normalised quantile forecast (B, H, Q) and the window's loc and scale
        (B, 1) that map it back: y = yhat * scale + loc.
        """
        cfg = self.cfg
        B, L = x.shape
        loc, scale = window_stats(x)
        z = (x - loc) / scale  # (B, L)
        tokens = z.view(B, L // cfg.patch, cfg.patch)  # (B, T, P)
        position = phase[:, None, :] + self.token_ends[None, :, None]  # (B, T, K)
        angle = (2 * math.pi) * torch.remainder(position, self.periods) / self.periods
        calendar = torch.cat([torch.sin(angle), torch.cos(angle)], dim=-1).to(z.dtype)  # (B, T, 2K)
        out, _ = self.lstm(torch.cat([tokens, calendar], dim=-1))  # (B, T, hidden)
        yhat = self.head(out[:, -1]).view(B, cfg.horizon, self.n_quantiles)  # (B, H, Q)
        if cfg.skip:
            yhat = yhat + self.seasonal_naive(z)[:, :, None]
        return yhat, loc, scale

    def seasonal_naive(self, z: torch.Tensor) -> torch.Tensor:
        """The last seasonal cycle of the lookback repeated over the horizon: (B, L) -> (B, H)."""
        season, horizon = self.cfg.season, self.cfg.horizon
        if season <= 1 or season > z.shape[1]:
            return z[:, -1:].expand(-1, horizon)
        reps = math.ceil(horizon / season)
        return z[:, -season:].repeat(1, reps)[:, :horizon]


def pinball_loss(pred: torch.Tensor, target: torch.Tensor, quantiles: torch.Tensor) -> torch.Tensor:
    """Mean quantile loss: pred (B, H, Q), target (B, H), quantiles (Q,).

    For quantile q and error e = y - f the loss is max(q * e, (q - 1) * e); at q = 0.5 it
    is half the absolute error, so the median head is trained like MAE.
    """
    err = target[:, :, None] - pred
    return torch.maximum(quantiles * err, (quantiles - 1) * err).mean()


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
