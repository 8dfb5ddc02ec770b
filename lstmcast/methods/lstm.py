"""LSTMForecaster: one global LSTM over patches of a normalised lookback, direct quantile head."""

from __future__ import annotations

import math

import torch
from torch import nn

from lstmcast.config import ModelConfig

__all__ = [
    "LSTMForecaster",
    "Ensemble",
    "build_model",
    "pinball_loss",
    "quantile_huber_loss",
    "window_stats",
    "LOSSES",
    "SCALINGS",
    "TARGET_CLIP",
    "cycle_phase",
]

LOG_FLOOR = 1e-6  # log scaling needs positive data (checked when the config is resolved)
TARGET_CLIP = 50.0  # normalised targets beyond ±50 scales are level shifts, not patterns

COV_CLIP = 10.0  # a covariate constant over the lookback would otherwise normalise to ±1e6
# The per-step covariate term starts at zero and moves this many times faster: a direct
# effect needs weights near 1, and Adam moves a weight by about lr per step, so at the
# default lr it would take hundreds of steps to learn that a promotion lifts its hour.
DIRECT_GAIN = 10.0
# The skip gate starts at sigmoid(2) = 0.88 on the seasonal cycle: seasonal data keeps the
# seasonal-naive start that serves it well, and a random walk can learn its way to the last value.
GATE_INIT = 2.0
# With skip_cycles > 1 the skip starts as softmax([1, 0, ...]) over the last cycles: the
# latest leads, the older ones average out some noise; each window learns its own mix.
CYCLE_INIT = 1.0


SCALINGS = ("std", "meanabs", "log")


def cycle_phase(phase0: torch.Tensor, offset: torch.Tensor, periods: torch.Tensor) -> torch.Tensor:
    """Cycle positions `offset` steps after `phase0`: (B, K), (B,), (K,) -> (B, K) in [0, period)."""
    return torch.remainder(phase0 + offset[:, None].to(phase0.dtype), periods)


def window_stats(x: torch.Tensor, scaling: str = "std") -> tuple[torch.Tensor, torch.Tensor]:
    """Per-window location and scale from the lookback alone: (B, L) -> (B, 1), (B, 1).

    std (and log, applied to log values): mean and standard deviation; meanabs: no shift
    and the mean absolute value as scale. The scale has a floor relative to the level so a
    flat lookback (std 0) does not blow the normalised targets up to infinity.
    """
    if scaling == "meanabs":
        mean_abs = x.abs().mean(dim=1, keepdim=True)
        return torch.zeros_like(mean_abs), mean_abs.clamp_min(1e-6)
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
    residual over the last seasonal cycle of the lookback (seasonal naive), or with
    `skip_cycles` > 1 over a mix of the lookback's last cycles, weighted per window and
    horizon step by a softmax read from the last hidden state (a noisy series can average
    its past weeks, a changing one lean on the latest); with `gate`, over a mix of that and
    the last value (naive), weighted the same way, so a random walk can forecast no worse
    than naive.

    Covariates (cfg.covariates, then cfg.past_covariates), each normalised by its own
    lookback mean and std, add their patch to every token. The horizon's values of the
    future-known ones also enter the head, and through a per-step linear term the direct
    effect of a step's covariates (a promotion that hour) on that step's forecast.
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        assert cfg.lookback and cfg.horizon and cfg.patch and cfg.season and cfg.hidden_size, (
            "resolve the config first"
        )
        assert cfg.lookback % cfg.patch == 0, (
            f"lookback {cfg.lookback} must be a multiple of patch {cfg.patch}"
        )
        self.cfg = cfg
        self.n_quantiles = len(cfg.quantiles)
        self.cycles = cfg.periods or (float(cfg.season),)
        self.n_future = len(cfg.covariates)
        self.n_covariates = self.n_future + len(cfg.past_covariates)
        in_features = cfg.patch + 2 * len(self.cycles) + cfg.patch * self.n_covariates
        self.lstm = nn.LSTM(
            in_features,
            cfg.hidden_size,
            cfg.layers,
            dropout=cfg.dropout if cfg.layers > 1 else 0.0,
            batch_first=True,
        )
        self.head = nn.Sequential(
            nn.Linear(cfg.hidden_size + cfg.horizon * self.n_future, cfg.hidden_size),
            nn.GELU(),
            nn.Dropout(cfg.dropout),
            nn.Linear(cfg.hidden_size, cfg.horizon * self.n_quantiles),
        )
        # Token i ends at lookback step (i + 1) * patch - 1: its phase offset from step 0.
        ends = torch.arange(1, cfg.lookback // cfg.patch + 1) * cfg.patch - 1
        self.register_buffer("token_ends", ends, persistent=False)
        periods = torch.tensor(self.cycles, dtype=torch.float32)
        self.register_buffer("periods", periods, persistent=False)
        # Conformal widening of each quantile per horizon step, in normalised units
        # (see forecast.calibrate_intervals): bands widen where errors grow with the horizon.
        self.register_buffer("calibration", torch.zeros(cfg.horizon, self.n_quantiles))
        if (
            cfg.skip and cfg.gate
        ):  # per horizon step: weight of the seasonal over the last-value skip
            self.gate = nn.Linear(cfg.hidden_size, cfg.horizon)
            nn.init.zeros_(self.gate.weight)
            nn.init.constant_(self.gate.bias, GATE_INIT)
        if cfg.mixed_cycles > 1:  # per window and step: weights of the lookback's last cycles
            self.cycle_mix = nn.Linear(cfg.hidden_size, cfg.horizon * cfg.mixed_cycles)
            nn.init.zeros_(self.cycle_mix.weight)
            bias = torch.zeros(cfg.horizon, cfg.mixed_cycles)
            bias[:, 0] = CYCLE_INIT  # the last cycle first, as the plain seasonal skip
            self.cycle_mix.bias.data.copy_(bias.flatten())
        if self.n_future:  # created last: a model without covariates draws the same weights
            # With the skip, step h copies lookback step `source[h]`; the step's term sees the
            # covariates there too, so it can learn the effect of their change.
            source = self.seasonal_source(cfg.lookback)
            self.register_buffer("source", source, persistent=False)
            width = self.n_future * (2 if cfg.skip else 1)
            self.future_step = nn.Linear(width, self.n_quantiles)
            nn.init.zeros_(self.future_step.weight)  # no direct effect until one is learned
            nn.init.zeros_(self.future_step.bias)

    def phase_at(self, phase0: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
        """Cycle positions `offset` steps after `phase0`: (B, K), (B,) -> (B, K) in [0, period)."""
        return cycle_phase(phase0, offset, self.periods)

    def forward(
        self, x: torch.Tensor, phase: torch.Tensor, cov: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x: (B, L) raw lookback; phase: (B, K) position of x[:, 0] in each cycle; cov:
        (B, L + H, C) raw covariates over lookback and horizon (see lstmcast.batches).

        Returns the normalised quantile forecast (B, H, Q) and the window's loc and scale
        (B, 1) that map it back: y = yhat * scale + loc.
        """
        cfg = self.cfg
        B, L = x.shape
        if cfg.scaling == "log":
            x = torch.log(x.clamp_min(LOG_FLOOR))
        loc, scale = window_stats(x, cfg.scaling)
        z = (x - loc) / scale  # (B, L)
        tokens = z.view(B, L // cfg.patch, cfg.patch)  # (B, T, P)
        position = phase[:, None, :] + self.token_ends[None, :, None]  # (B, T, K)
        angle = (2 * math.pi) * torch.remainder(position, self.periods) / self.periods
        calendar = torch.cat([torch.sin(angle), torch.cos(angle)], dim=-1).to(z.dtype)  # (B, T, 2K)
        if self.n_covariates:
            assert cov is not None and cov.shape[1:] == (L + cfg.horizon, self.n_covariates), (
                f"the model reads {self.n_covariates} covariates over {L + cfg.horizon} steps"
            )
            c_loc, c_scale = window_stats(cov[:, :L])  # (B, 1, C) each
            zc = ((cov - c_loc) / c_scale).clamp(-COV_CLIP, COV_CLIP)  # (B, L + H, C)
            patches = zc[:, :L].reshape(B, L // cfg.patch, cfg.patch, -1).transpose(2, 3)
            features = [tokens, calendar, patches.reshape(B, L // cfg.patch, -1)]
            out, _ = self.lstm(torch.cat(features, dim=-1))  # (B, T, hidden)
            ahead = zc[:, L:, : self.n_future]  # (B, H, Cf)
            last = torch.cat([out[:, -1], ahead.reshape(B, -1)], dim=-1)
            yhat = self.head(last).view(B, cfg.horizon, self.n_quantiles)  # (B, H, Q)
            if self.n_future:
                step = ahead  # (B, H, Cf), beside the copied step's with the skip: (B, H, 2Cf)
                if cfg.skip:
                    step = torch.cat([ahead, zc[:, self.source, : self.n_future]], dim=-1)
                yhat = yhat + DIRECT_GAIN * self.future_step(step)
        else:
            out, _ = self.lstm(torch.cat([tokens, calendar], dim=-1))  # (B, T, hidden)
            yhat = self.head(out[:, -1]).view(B, cfg.horizon, self.n_quantiles)  # (B, H, Q)
        if cfg.skip:
            if cfg.mixed_cycles > 1:  # (B, H): a mix of the last cycles, per window and step
                mix = self.cycle_mix(out[:, -1]).view(B, cfg.horizon, -1).softmax(dim=-1)
                base = (self.past_cycles(z) * mix).sum(dim=-1)
            else:
                base = self.seasonal_naive(z)  # (B, H)
            if cfg.gate:
                g = torch.sigmoid(self.gate(out[:, -1]))  # (B, H)
                base = g * base + (1 - g) * z[:, -1:]
            yhat = yhat + base[:, :, None]
        return yhat, loc, scale

    def to_normal(self, y: torch.Tensor, loc: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        """Targets in data units -> the model's normalised units (training)."""
        if self.cfg.scaling == "log":
            y = torch.log(y.clamp_min(LOG_FLOOR))
        return (y - loc) / scale

    def from_normal(
        self, pred: torch.Tensor, loc: torch.Tensor, scale: torch.Tensor
    ) -> torch.Tensor:
        """Normalised forecasts (B, H, Q) -> data units, with loc and scale of forward().

        The calibration offsets widen the interval quantiles as measured on validation.
        """
        y = (pred + self.calibration) * scale[:, :, None] + loc[:, :, None]
        return torch.exp(y) if self.cfg.scaling == "log" else y

    def seasonal_source(self, lookback: int) -> torch.Tensor:
        """Lookback step that seasonal_naive copies to each horizon step: (H,) indices."""
        season, h = self.cfg.season, torch.arange(self.cfg.horizon)
        if season <= 1 or season > lookback:
            return torch.full_like(h, lookback - 1)
        return lookback - season + h % season

    def past_cycles(self, z: torch.Tensor) -> torch.Tensor:
        """The lookback's last `mixed_cycles` seasonal cycles, each repeated over the horizon,
        the latest first: (B, L) -> (B, H, K)."""
        season, horizon, L = self.cfg.season, self.cfg.horizon, z.shape[1]
        h = torch.arange(horizon, device=z.device) % season
        starts = L - season * torch.arange(1, self.cfg.mixed_cycles + 1, device=z.device)
        return z[:, starts[None, :] + h[:, None]]  # (B, H, K)

    def seasonal_naive(self, z: torch.Tensor) -> torch.Tensor:
        """The last seasonal cycle of the lookback repeated over the horizon: (B, L) -> (B, H)."""
        season, horizon = self.cfg.season, self.cfg.horizon
        if season <= 1 or season > z.shape[1]:
            return z[:, -1:].expand(-1, horizon)
        reps = math.ceil(horizon / season)
        return z[:, -season:].repeat(1, reps)[:, :horizon]


class Ensemble(nn.Module):
    """Several LSTMForecasters of one config (different seeds); forecasts are their median.

    The median of each quantile across members is robust to one member that trained
    badly. Normalisation depends on the lookback alone, so every member shares loc/scale.
    """

    def __init__(self, members: list[LSTMForecaster]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)
        self.cfg = members[0].cfg
        self.n_quantiles = members[0].n_quantiles
        self.register_buffer("calibration", torch.zeros(self.cfg.horizon, self.n_quantiles))

    def forward(
        self, x: torch.Tensor, phase: torch.Tensor, cov=None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        outputs = [m(x, phase, cov) for m in self.members]
        # Each member's quantiles in order first, as each would forecast alone.
        yhat = torch.stack([o[0].sort(dim=-1).values for o in outputs]).median(dim=0).values
        return yhat, outputs[0][1], outputs[0][2]

    def phase_at(self, phase0: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
        return self.members[0].phase_at(phase0, offset)

    def to_normal(self, y: torch.Tensor, loc: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        return self.members[0].to_normal(y, loc, scale)

    def from_normal(
        self, pred: torch.Tensor, loc: torch.Tensor, scale: torch.Tensor
    ) -> torch.Tensor:
        return LSTMForecaster.from_normal(self, pred, loc, scale)


def build_model(cfg: ModelConfig) -> nn.Module:
    """The model a config describes: one LSTMForecaster, or an Ensemble of cfg.ensemble."""
    if cfg.ensemble > 1:
        return Ensemble([LSTMForecaster(cfg) for _ in range(cfg.ensemble)])
    return LSTMForecaster(cfg)


def pinball_loss(pred: torch.Tensor, target: torch.Tensor, quantiles: torch.Tensor) -> torch.Tensor:
    """Mean quantile loss: pred (B, H, Q), target (B, H), quantiles (Q,).

    For quantile q and error e = y - f the loss is max(q * e, (q - 1) * e); at q = 0.5 it
    is half the absolute error, so the median head is trained like MAE.
    """
    err = target[:, :, None] - pred
    return torch.maximum(quantiles * err, (quantiles - 1) * err).mean()


def quantile_huber_loss(
    pred: torch.Tensor, target: torch.Tensor, quantiles: torch.Tensor, delta: float = 0.5
) -> torch.Tensor:
    """Pinball loss with the kink smoothed into a parabola within ±delta (normalised units):
    less pull from single outliers, smooth gradients near zero error."""
    err = target[:, :, None] - pred
    size = err.abs()
    huber = torch.where(size <= delta, 0.5 * err**2 / delta, size - 0.5 * delta)
    weight = torch.where(err >= 0, quantiles, 1 - quantiles)
    return (weight * huber).mean()


LOSSES = {"pinball": pinball_loss, "huber": quantile_huber_loss}
