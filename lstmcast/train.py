"""Training: defaults from the data, then one explicit loop with early stopping and callbacks."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from lstmcast import distributed
from lstmcast.batches import Batch, PanelBatches, window_sampler
from lstmcast.config import ModelConfig, TrainConfig
from lstmcast.data.freq import calendar_periods
from lstmcast.data.panel import Panel
from lstmcast.distributed import resolve_device
from lstmcast.errors import DataError, TrainingError, UsageError
from lstmcast.forecast import calibrate_intervals
from lstmcast.methods.lstm import LOSSES, SCALINGS, TARGET_CLIP, Ensemble, LSTMForecaster
from lstmcast.text import plural
from lstmcast.threads import cpu_threads
from lstmcast.windows import (
    WindowIndex,
    build_index,
    default_hidden,
    default_lookback,
    default_patch,
    default_val_size,
    verdict_windows,
)

__all__ = [
    "resolve_model_config",
    "fit",
    "TrainResult",
    "fit_model",
    "too_little_data",
    "held_out_windows",
    "MAX_VAL_WINDOWS",
]

# Draws of each training window: a small panel stops there, not at ~3,000 steps. 10, not 5:
# the 50-series daily panel's LSTM reached MASE 0.761 against 0.792, in 27 s of training
# against 15 (benchmarks/small_panel.py; BENCHMARKS.md).
PASSES = 10
MIN_STEPS = 200  # so that a one-series file does not stop before it learns
MAX_VAL_WINDOWS = 8192  # validation on more windows than this only costs time

Callback = Callable[[str, dict], None]


def resolve_model_config(
    cfg: ModelConfig, panel: Panel, val_size: int | None = None
) -> ModelConfig:
    """Fill in season, horizon, lookback, patch and hidden size from the data where the user
    gave none.

    horizon: one seasonal cycle (24 hourly, 7 daily, 5 business days, 12 monthly; 4 when
    the frequency has no season). lookback: seven cycles (two weeks of sub-daily data) or
    three horizons, whichever is longer, shortened so the median series still yields windows. patch: the largest
    divisor of the season that leaves at least MIN_TOKENS tokens (and divides an explicit
    lookback). hidden size: SMALL_HIDDEN below SMALL_DATA_WINDOWS training windows, else HIDDEN.
    """
    season = cfg.season or panel.season
    horizon = cfg.horizon or (season if season >= 4 else 4)
    val = default_val_size(panel, horizon) if val_size is None else val_size
    if val < horizon:
        raise UsageError(
            f"--val-size {val} is shorter than the horizon {horizon}",
            hint="validation needs at least one whole horizon",
        )
    lookback = cfg.lookback
    if lookback is None:
        lookback = default_lookback(panel, season, horizon, val)
    patch = cfg.patch
    if patch is None:
        patch = default_patch(season, lookback, exact=cfg.lookback is not None)
    lookback = int(math.ceil(lookback / patch) * patch)  # whole tokens
    hidden = cfg.hidden_size or default_hidden(panel, lookback, horizon, val)
    quantiles = _quantiles(cfg.quantiles)
    scaling = _scaling(cfg.scaling, panel)
    return dataclasses.replace(
        cfg,
        season=season,
        horizon=horizon,
        lookback=lookback,
        patch=patch,
        hidden_size=hidden,
        quantiles=quantiles,
        scaling=scaling,
        periods=_periods(cfg, season, panel.freq),
        covariates=panel.columns.covariates,
        past_covariates=panel.columns.past_covariates,
    )


def _quantiles(quantiles: tuple[float, ...]) -> tuple[float, ...]:
    if not all(0 < q < 1 for q in quantiles):
        raise UsageError(
            f"--quantiles {','.join(map(str, quantiles))}: each must be between 0 and 1"
        )
    return tuple(sorted(set(quantiles) | {0.5}))  # the median is always the point forecast


def _scaling(scaling: str, panel: Panel) -> str:
    """auto: log where it is defined (level-relative errors for positive data), else std."""
    smallest = float(panel.values.min()) if len(panel.values) else None
    if scaling == "auto":
        scaling = "log" if smallest is not None and smallest > 0 else "std"
    if scaling not in SCALINGS:
        raise UsageError(f"--scaling {scaling}: expected auto or one of {', '.join(SCALINGS)}")
    if scaling == "log" and smallest is not None and smallest <= 0:
        raise UsageError(
            f"--scaling log needs positive data, but the smallest value is {smallest:g}",
            hint="use --scaling auto (the default), std or meanabs",
        )
    return scaling


def _periods(cfg: ModelConfig, season: int, freq: str) -> tuple[float, ...]:
    """The user's cycles, else the season and (with cfg.calendar) the frequency's calendar cycles."""
    if cfg.periods is not None:
        return cfg.periods
    periods = (float(max(season, 1)),)
    if cfg.calendar:
        for _, p in calendar_periods(freq):
            if all(abs(p - q) > 1e-6 for q in periods):
                periods += (float(p),)
    return periods


@dataclass
class TrainResult:
    model: LSTMForecaster
    index: WindowIndex
    best_val_loss: float
    epochs: int
    steps: int
    seconds: float
    device: str
    stop_reason: str
    history: list[dict] = field(default_factory=list)
    calibration: dict | None = None  # offsets and a cross-fitted coverage estimate


def fit(
    panel: Panel,
    model_cfg: ModelConfig,
    train_cfg: TrainConfig,
    callback: Callback | None = None,
    init_state: dict[str, torch.Tensor] | None = None,
    explicit_lookback: bool = False,
) -> TrainResult:
    """Train one global LSTM on every series of the panel; returns the best-validation model.

    An epoch is min(windows_per_epoch, all training windows) windows sampled uniformly
    across series. Stops after the steps _steps plans (the learning rate's schedule ends
    there), at `max_steps`, at `time_budget` or after `patience` epochs without a better
    validation loss, whichever comes first.
    """
    emit = callback or (lambda event, info: None)
    started = time.perf_counter()
    cfg, tc = model_cfg, train_cfg
    index = _training_index(panel, cfg, tc, explicit_lookback)
    torch.manual_seed(tc.seed)
    rng = np.random.default_rng(tc.seed)
    device = resolve_device(tc.device)
    loss_fn = _loss_function(tc, cfg, device)
    batches = PanelBatches(panel, cfg, device)  # the whole panel on the device, once
    model = _new_model(cfg, tc, device, init_state)
    opt = _optimiser(model, tc, device)
    per_epoch, total = _steps(index, tc)
    sched = _lr_schedule(opt, total)
    autocast = _autocast(device)
    check_each_step = device.type == "cpu"  # an accelerator is checked once per epoch instead
    val_s, val_o = _val_subset(index, rng)
    # Under torchrun: a DDP model, this rank's share of the windows and its own random stream.
    full_index, model = index, distributed.wrap(model)
    core = distributed.unwrap(model)  # the LSTMForecaster itself, for its helpers
    index, rng, val_s, val_o = distributed.shard(index, rng, val_s, val_o, tc.seed)
    draw = window_sampler(index, rng, tc.batch_size, device, tc.seed)
    val_s, val_o = batches.upload(val_s, val_o)

    def loss_on(batch: Batch) -> torch.Tensor:
        with autocast:
            pred, loc, scale = model(batch.x, batch.phase, batch.cov)
        target = core.to_normal(batch.y, loc, scale).clamp(-TARGET_CLIP, TARGET_CLIP)
        return loss_fn(pred.float(), target)

    best, best_state, bad_epochs, step, epoch = math.inf, None, 0, 0, 0
    history, stop = [], None
    plan = {"total_steps": total, "steps_per_epoch": per_epoch, "epochs": tc.epochs}
    emit("start", {**plan, "device": str(device)})
    while stop is None and epoch < tc.epochs and step < total:
        epoch += 1
        model.train()
        running, done = torch.zeros((), device=device), 0
        for _ in range(per_epoch):  # batch -> forward -> loss -> backward -> clip -> step
            loss = loss_on(batches.gather(*draw()))
            if check_each_step or distributed.active():
                seen = distributed.mean(loss.detach())  # every rank's loss: one verdict for all
                if not torch.isfinite(seen):
                    raise _diverged(seen.item(), f"at step {step + 1}")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), tc.grad_clip)
            opt.step()
            sched.step()
            step += 1
            running += loss.detach()
            done += 1
            emit("step", {"step": step, "epoch": epoch, "loss": loss.detach()})
            if step >= total or _over_budget(tc, started):
                break
        train_loss = running.item() / max(1, done)  # the epoch's one wait for the device
        if not math.isfinite(train_loss):
            raise _diverged(train_loss, f"in epoch {epoch}")
        val = _validate(model, loss_on, batches, val_s, val_o, tc.batch_size * 4)
        train_loss = distributed.average(train_loss)
        record = {"epoch": epoch, "step": step, "train_loss": train_loss, "val_loss": val}
        history.append(record)
        if val < best - 1e-6:  # keep the best weights
            best, best_state, bad_epochs = val, copy.deepcopy(model.state_dict()), 0
        else:
            bad_epochs += 1
        emit("epoch", {**record, "best_val_loss": best})
        stop = _stop_reason(tc, step, bad_epochs, started)
    if best_state is not None:
        model.load_state_dict(best_state)
    model = distributed.unwrap(model).eval()
    seconds, where = time.perf_counter() - started, distributed.describe(device)
    stop = stop or ("epochs" if epoch >= tc.epochs else "steps")  # or the plan's steps ran out
    return TrainResult(model, full_index, best, epoch, step, seconds, where, stop, history)


def _windows(panel: Panel, cfg: ModelConfig, train_cfg: TrainConfig) -> WindowIndex:
    """The panel's training and validation windows (validation: --val-size, else from the data)."""
    val_size = train_cfg.val_size or default_val_size(panel, cfg.horizon)
    return build_index(panel, cfg.lookback, cfg.horizon, val_size)


def too_little_data(
    panel: Panel, cfg: ModelConfig, train_cfg: TrainConfig, explicit_lookback: bool
) -> str | None:
    """Why no LSTM can train on `panel` (no series has both a training and a validation
    window), as the warning `train` gives before it forecasts every series by a baseline;
    None when one can. fit_model refuses the same data with a DataError."""
    index = _windows(panel, cfg, train_cfg)
    if index.n_train and len(index.val_series):
        return None
    source = f"--lookback {cfg.lookback}" if explicit_lookback else f"the lookback {cfg.lookback}"
    return (
        f"little data: the longest series has {plural(int(panel.lengths.max()), 'point')}, but training "
        f"the LSTM needs {index.min_length} (context {index.min_context}: half of {source}, at least 1; "
        f"+ horizon {cfg.horizon} + validation {index.val_size}); every series is forecast by a simple "
        "baseline (pass a smaller --horizon or --lookback, or collect more data, for an LSTM)"
    )


def held_out_windows(
    panel: Panel, cfg: ModelConfig, train_cfg: TrainConfig, explicit_lookback: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(series, origin) of the windows the LSTM will be held out from and judged on
    (windows.verdict_windows of its index), known before it trains; refused as fit is."""
    return verdict_windows(panel, _training_index(panel, cfg, train_cfg, explicit_lookback))


def _training_index(
    panel: Panel, cfg: ModelConfig, train_cfg: TrainConfig, explicit_lookback: bool
) -> WindowIndex:
    """The panel's windows, refused (DataError) when none trains or none validates."""
    index = _windows(panel, cfg, train_cfg)
    if index.n_train == 0:
        source = (
            f"--lookback {cfg.lookback}"
            if explicit_lookback
            else f"the derived lookback {cfg.lookback}"
        )
        raise DataError(
            f"no series is long enough to train: the longest has {plural(int(panel.lengths.max()), 'point')}, but "
            f"context {index.min_context} (half of {source}, at least 1) + horizon {cfg.horizon} + validation "
            f"{index.val_size} needs {index.min_length}",
            hint="pass a smaller --lookback, --horizon or --val-size, or collect more data",
        )
    if len(index.val_series) == 0:
        raise DataError(
            "no series is long enough for a validation window",
            hint="pass a smaller --lookback or --val-size",
        )
    return index


def _loss_function(
    train_cfg: TrainConfig, cfg: ModelConfig, device: torch.device
) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """--loss over the model's quantiles: (pred (B, H, Q), target (B, H)) -> a scalar."""
    quantiles = torch.tensor(cfg.quantiles, device=device)
    if train_cfg.loss not in LOSSES:
        raise UsageError(f"--loss {train_cfg.loss}: expected one of {', '.join(LOSSES)}")
    loss_fn = LOSSES[train_cfg.loss]
    return lambda pred, target: loss_fn(pred, target, quantiles)


def _new_model(
    cfg: ModelConfig,
    train_cfg: TrainConfig,
    device: torch.device,
    init_state: dict[str, torch.Tensor] | None,
) -> LSTMForecaster:
    """A fresh LSTMForecaster on `device` (from init_state when given); on CPU, torch's
    threads set for its size."""
    model = LSTMForecaster(cfg).to(device)
    if device.type == "cpu":
        torch.set_num_threads(cpu_threads(model, train_cfg))
    if init_state is not None:
        model.load_state_dict(init_state)
    return model


def _optimiser(
    model: torch.nn.Module, train_cfg: TrainConfig, device: torch.device
) -> torch.optim.Optimizer:
    return torch.optim.AdamW(
        model.parameters(),
        lr=train_cfg.lr,
        weight_decay=train_cfg.weight_decay,
        fused=True if device.type == "cuda" else None,  # CUDA: one kernel for all parameters
    )


def _steps(index: WindowIndex, train_cfg: TrainConfig) -> tuple[int, int]:
    """(steps per epoch, total steps): an epoch is min(windows_per_epoch, all training
    windows) windows. The total grows with the data: PASSES draws of every training window
    (MIN_STEPS at least), never more than `epochs` epochs; max_steps, when given, rules."""
    per_epoch = max(
        1, math.ceil(min(train_cfg.windows_per_epoch, index.n_train) / train_cfg.batch_size)
    )
    total = per_epoch * train_cfg.epochs
    if train_cfg.max_steps:
        return per_epoch, min(total, train_cfg.max_steps)
    enough = max(MIN_STEPS, math.ceil(PASSES * index.n_train / train_cfg.batch_size))
    return per_epoch, min(total, enough)


def _lr_schedule(opt: torch.optim.Optimizer, total: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warmup over the first 5% of steps, then cosine decay to a tenth of --lr."""
    warmup = max(1, total // 20)
    return torch.optim.lr_scheduler.LambdaLR(
        opt,
        lambda s: (
            min(1.0, (s + 1) / warmup)
            * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))
        ),
    )


def _autocast(device: torch.device) -> contextlib.AbstractContextManager:
    """bfloat16 matrix products on CUDA; full precision elsewhere."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _stop_reason(train_cfg: TrainConfig, step: int, bad_epochs: int, started: float) -> str | None:
    """Why training stops after this epoch, or None to go on (the loop counts the epochs and
    the planned steps)."""
    if train_cfg.max_steps and step >= train_cfg.max_steps:
        return "max_steps"
    if _over_budget(train_cfg, started):
        return "time_budget"
    if bad_epochs >= train_cfg.patience:
        return "early_stopping"
    return None


def fit_model(
    panel: Panel,
    model_cfg: ModelConfig,
    train_cfg: TrainConfig,
    callback: Callback | None = None,
    init_state: dict[str, torch.Tensor] | None = None,
    explicit_lookback: bool = False,
) -> TrainResult:
    """`fit` once, or once per ensemble member (seeds seed, seed + 1, ...), then calibrate.

    A time budget is shared: each member gets what is left divided by the members still to
    train. The result's model is an Ensemble when model_cfg.ensemble > 1; epochs, steps and
    seconds are totals, the validation loss is the members' mean.
    """
    emit = callback or (lambda event, info: None)
    n = model_cfg.ensemble
    if n < 1:
        raise UsageError(f"--ensemble {n}: expected 1 or more members")
    started = time.perf_counter()
    results = []
    for k in range(n):
        budget = train_cfg.time_budget
        if budget is not None:
            budget = max(0.0, budget - (time.perf_counter() - started)) / (n - k)
        member_cfg = dataclasses.replace(train_cfg, seed=train_cfg.seed + k, time_budget=budget)
        state = init_state
        if init_state is not None and n > 1:
            prefix = f"members.{k}."
            state = {
                key.removeprefix(prefix): v
                for key, v in init_state.items()
                if key.startswith(prefix)
            }

        def member_emit(event: str, info: dict, k: int = k) -> None:
            emit(event, {**info, "member": k + 1, "members": n} if event == "start" else info)

        results.append(fit(panel, model_cfg, member_cfg, member_emit, state, explicit_lookback))
    first = results[0]
    model = Ensemble([r.model for r in results]) if n > 1 else first.model
    model.eval()
    calibration = None
    if train_cfg.calibrate:  # on the verdict's rolling origins: more windows than early stopping
        calibration = calibrate_intervals(model, panel, *verdict_windows(panel, first.index))
    return TrainResult(
        model=model,
        index=first.index,
        best_val_loss=float(np.mean([r.best_val_loss for r in results])),
        epochs=sum(r.epochs for r in results),
        steps=sum(r.steps for r in results),
        seconds=time.perf_counter() - started,
        device=first.device,
        stop_reason=results[-1].stop_reason,
        history=[h for r in results for h in r.history],
        calibration=calibration,
    )


def _diverged(loss: float, where: str) -> TrainingError:
    return TrainingError(
        f"the training loss became {loss} {where}",
        hint="lower --lr (e.g. --lr 5e-4), or check the data for extreme values",
    )


def _over_budget(cfg: TrainConfig, started: float) -> bool:
    # Under torchrun rank 0's clock decides for all, so every rank stops at the same step.
    return cfg.time_budget is not None and distributed.rank0_decides(
        time.perf_counter() - started >= cfg.time_budget
    )


def _val_subset(index: WindowIndex, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    n = len(index.val_series)
    if n <= MAX_VAL_WINDOWS:
        return index.val_series, index.val_origin
    keep = np.sort(rng.choice(n, MAX_VAL_WINDOWS, replace=False))
    return index.val_series[keep], index.val_origin[keep]


@torch.no_grad()
def _validate(
    model: torch.nn.Module,
    loss_on: Callable[[Batch], torch.Tensor],
    batches: PanelBatches,
    series: torch.Tensor,
    origin: torch.Tensor,
    chunk: int,
) -> float:
    """Mean loss over the validation windows, `chunk` at a time, across every rank."""
    model.eval()
    total = 0.0
    for i in range(0, len(series), chunk):
        s, o = series[i : i + chunk], origin[i : i + chunk]
        total += loss_on(batches.gather(s, o)).item() * len(s)
    total, count = distributed.all_sum(total, len(series))  # each rank validated a shard
    val = total / count
    if not math.isfinite(val):
        raise TrainingError(
            "the validation loss is not finite",
            hint="lower --lr, or check the data for extreme values",
        )
    return val
