"""Training throughput on M4 Hourly: lstmcast's loop against a minimal loop and the matmul ceiling.

Usage: python benchmarks/throughput.py [DATA_DIR] [--steps N] [--warmup N] [--repeats N]
                                       [--threads N] [--device cpu|cuda] [--json]

Everything is measured in one process, interleaved repeat by repeat, so that the ratios
share whatever load other processes put on the machine; each figure is the median over
the repeats, each repeat timed after its own warm-up steps.

(a) lstmcast: `lstmcast.train.fit` with `max_steps`, the default model for horizon 48 as
    `resolve_model_config` derives it; a step's time is read between the callback's "step"
    events, so setup and the end-of-epoch validation are left out.
(b) minimal: the same LSTMForecaster, batch size and learning rate in a bare loop over
    batches gathered beforehand: forward, pinball loss, backward, plain AdamW step.
(c) LSTM GFLOP/s. Per sample and token, an LSTM layer with input size I and hidden size H
    computes its four gates as [x, h] (I + H) @ W (I + H, 4H): 4·H·(I + H) multiply-adds.
    Per step, forward:
        MAC_fwd = B · T · sum over layers of 4·H·(I_l + H),
        I_1 = patch + 2·K (the values and the sin/cos of K cycles), I_l = H above,
        T = lookback / patch.
    Backward does two products of the same size per forward product (gradient of the input
    and of the weights), so forward + backward is about 3 · MAC_fwd, and
        GFLOP/s = 2 · 3 · MAC_fwd / step seconds / 1e9.
    lstmcast.threads.lstm_step_gflop computes this from the LSTM's weight shapes. The gate
    non-linearities, the head and the loss are not counted: the figure is a floor.
    It is given for the steps of (a) and (b) and for the LSTM alone (nn.LSTM forward and
    backward on a batch of tokens).
(d) matmul GFLOP/s: torch.matmul on the same shapes, per layer the forward product
    (B, I + H) @ (I + H, 4H) and the two backward ones, (B, 4H) @ (4H, I + H) and
    (I + H, B) @ (B, 4H): the rate this machine reaches on the products an LSTM step is
    made of, so (c) / (d) is how much of it the LSTM gets.
"""

from __future__ import annotations

import lstmcast  # noqa: F401  # isort: skip  (first: sets the OpenMP wait policy torch reads)
import argparse
import dataclasses
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

from lstmcast import api
from lstmcast.batches import gather_windows
from lstmcast.config import ModelConfig, TrainConfig
from lstmcast.methods.lstm import LOSSES, TARGET_CLIP, LSTMForecaster
from lstmcast.threads import cpu_threads, lstm_step_gflop
from lstmcast.train import fit, resolve_model_config
from lstmcast.windows import build_index, default_val_size

HORIZON = 48
DEFAULT_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "benchmarks" / "m4_hourly"


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_lstmcast(panel, cfg: ModelConfig, tcfg: TrainConfig, warmup: int, steps: int) -> float:
    """Seconds per step of lstmcast's own loop, from the step callbacks after `warmup` steps."""
    stamps: dict[int, float] = {}
    device = torch.device(tcfg.device)

    def on_event(event: str, info: dict) -> None:
        if event == "step" and info["step"] in (warmup, warmup + steps):
            sync(device)  # an accelerator runs behind the loop: wait for it at both ends
            stamps[info["step"]] = time.perf_counter()

    fit(panel, cfg, dataclasses.replace(tcfg, max_steps=warmup + steps), on_event)
    return (stamps[warmup + steps] - stamps[warmup]) / steps


def gathered_batches(panel, cfg: ModelConfig, tcfg: TrainConfig, count: int, device):
    """`count` training batches gathered up front: (x, phase, y), contiguous, on the device."""
    index = build_index(panel, cfg.lookback, cfg.horizon, default_val_size(panel, cfg.horizon))
    rng = np.random.default_rng(tcfg.seed)
    values = torch.from_numpy(panel.values).to(device)
    starts = torch.from_numpy(panel.offsets[:-1].copy()).to(device)
    phase0 = torch.from_numpy(panel.phases(cfg.periods)).float().to(device)
    model = LSTMForecaster(cfg).to(device)  # for its phase_at
    batches = []
    for _ in range(count):
        s, o = (torch.from_numpy(a).to(device) for a in index.sample(rng, tcfg.batch_size))
        w = gather_windows(values, starts, s, o, cfg.lookback, cfg.horizon)
        phase = model.phase_at(phase0[s], o - cfg.lookback)
        batches.append(
            (w[:, : cfg.lookback].contiguous(), phase, w[:, cfg.lookback :].contiguous())
        )
    return batches


def time_minimal(cfg: ModelConfig, tcfg: TrainConfig, batches, warmup: int, device) -> float:
    """Seconds per step of a bare loop: forward, the training loss, backward, AdamW step."""
    torch.manual_seed(tcfg.seed)
    model = LSTMForecaster(cfg).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=tcfg.lr, weight_decay=tcfg.weight_decay)
    quantiles = torch.tensor(cfg.quantiles, device=device)
    loss_fn = LOSSES[tcfg.loss]
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda")
    started = 0.0
    for i, (x, phase, y) in enumerate(batches):
        if i == warmup:
            sync(device)
            started = time.perf_counter()
        with autocast:
            pred, loc, scale = model(x, phase)
        target = model.to_normal(y, loc, scale).clamp(-TARGET_CLIP, TARGET_CLIP)
        loss = loss_fn(pred.float(), target, quantiles)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    sync(device)
    return (time.perf_counter() - started) / (len(batches) - warmup)


def time_lstm_only(cfg: ModelConfig, batch: int, warmup: int, steps: int, device) -> float:
    """Seconds for nn.LSTM alone, forward and backward, on one batch of tokens."""
    torch.manual_seed(0)
    inputs = LSTMForecaster(cfg).lstm.input_size
    lstm = torch.nn.LSTM(inputs, cfg.hidden_size, cfg.layers, batch_first=True).to(device)
    x = torch.randn(batch, cfg.lookback // cfg.patch, inputs, device=device)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda")
    started = 0.0
    for i in range(warmup + steps):
        if i == warmup:
            sync(device)
            started = time.perf_counter()
        with autocast:
            out, _ = lstm(x)
        out[:, -1].float().sum().backward()
    sync(device)
    return (time.perf_counter() - started) / steps


def matmul_gflops(cfg: ModelConfig, batch: int, rounds: int, device) -> float:
    """GFLOP/s of torch.matmul on the forward and backward product shapes of the LSTM's layers."""
    H = cfg.hidden_size
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    sizes = [LSTMForecaster(cfg).lstm.input_size] + [H] * (cfg.layers - 1)
    shapes = []
    for i in sizes:
        k = i + H
        shapes += [(batch, k, 4 * H), (batch, 4 * H, k), (k, batch, 4 * H)]  # fwd, dX, dW
    pairs = [
        (
            torch.randn(m, k, device=device, dtype=dtype),
            torch.randn(k, n, device=device, dtype=dtype),
        )
        for m, k, n in shapes
    ]
    tokens = cfg.lookback // cfg.patch
    for a, b in pairs:  # warm-up
        torch.matmul(a, b)
    sync(device)
    started = time.perf_counter()
    for _ in range(rounds):
        for _ in range(tokens):
            for a, b in pairs:
                torch.matmul(a, b)
    sync(device)
    flops = 2 * rounds * tokens * sum(m * k * n for m, k, n in shapes)
    return flops / (time.perf_counter() - started) / 1e9


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", default=str(DEFAULT_DIR))
    parser.add_argument("--steps", type=int, default=30, help="timed steps per repeat")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps before each repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--threads", type=int, default=None, help="CPU threads (default: lstmcast's choice)"
    )
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        print("error: --device cuda: no CUDA device is available", file=sys.stderr)
        return 2
    device = torch.device(args.device)

    panel = api.load(Path(args.data_dir) / "train.csv")
    cfg = resolve_model_config(ModelConfig(horizon=HORIZON), panel)
    tcfg = TrainConfig(device=args.device, threads=args.threads)
    probe = LSTMForecaster(cfg)
    if device.type == "cpu":
        torch.set_num_threads(cpu_threads(probe, tcfg))  # what fit chooses, for every loop
    B, w, n = tcfg.batch_size, args.warmup, args.steps
    batches = gathered_batches(panel, cfg, tcfg, w + n, device)

    times: dict[str, list[float]] = {"lstmcast": [], "minimal": [], "lstm_only": []}
    mm: list[float] = []
    time_lstmcast(panel, cfg, tcfg, w, 2)  # one-off costs: allocator, kernel caches
    for _ in range(args.repeats):
        times["lstmcast"].append(time_lstmcast(panel, cfg, tcfg, w, n))
        times["minimal"].append(time_minimal(cfg, tcfg, batches, w, device))
        times["lstm_only"].append(time_lstm_only(cfg, B, w, n, device))
        mm.append(matmul_gflops(cfg, B, max(1, n // 3), device))
    step = {k: statistics.median(v) for k, v in times.items()}
    flop = lstm_step_gflop(probe, B) * 1e9
    gflops = {k: flop / s / 1e9 for k, s in step.items()}
    matmul = statistics.median(mm)
    doc = {
        "model": dataclasses.asdict(cfg),
        "batch_size": B,
        "device": args.device,
        "threads": torch.get_num_threads(),
        "cores": os.cpu_count(),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "torch": torch.__version__,
        "gflop_per_step": flop / 1e9,
        "step_seconds": step,
        "steps_per_second": {k: 1 / s for k, s in step.items()},
        "samples_per_second": {k: B / s for k, s in step.items()},
        "lstm_gflops": gflops,
        "matmul_gflops": matmul,
        "lstmcast_over_minimal": step["lstmcast"] / step["minimal"],
        "lstm_only_over_matmul": gflops["lstm_only"] / matmul,
        "lstmcast_over_matmul": gflops["lstmcast"] / matmul,
        "all_step_seconds": times,
        "all_matmul_gflops": mm,
    }
    if args.json:
        print(json.dumps(doc, indent=2))
        return 0
    print(
        f"M4 Hourly, h={HORIZON}: lookback {cfg.lookback}, patch {cfg.patch}, "
        f"{probe.lstm.input_size} inputs per token, hidden "
        f"{cfg.hidden_size} x {cfg.layers} layers, batch {B}; {args.device}, "
        f"{doc['threads']} threads, torch {torch.__version__}"
    )
    print(
        f"LSTM work per step (fwd+bwd): {flop / 1e9:.2f} GFLOP; medians of {args.repeats} "
        f"repeats of {n} steps after {w} warm-up"
    )
    print(f"  {'loop':<12}{'ms/step':>9}{'steps/s':>9}{'samples/s':>11}{'LSTM GFLOP/s':>14}")
    for k in ("lstmcast", "minimal", "lstm_only"):
        s = step[k]
        print(f"  {k:<12}{1e3 * s:9.1f}{1 / s:9.2f}{B / s:11.0f}{gflops[k]:14.1f}")
    print(f"  {'matmul':<12}{'':>29}{matmul:14.1f}")
    ratio = doc["lstmcast_over_minimal"]
    print(
        f"  lstmcast / minimal step time: {ratio:.3f} "
        f"(target <= 1.10: {'met' if ratio <= 1.10 else 'MISSED'})"
    )
    share = doc["lstm_only_over_matmul"]
    print(
        f"  LSTM alone / matmul GFLOP/s:  {share:.2f} "
        f"(target >= 0.50: {'met' if share >= 0.5 else 'MISSED'}); "
        f"whole lstmcast step / matmul: {doc['lstmcast_over_matmul']:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
