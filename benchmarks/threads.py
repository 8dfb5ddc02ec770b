"""Training step time by model size, torch thread count and OpenMP wait policy, on M4 Hourly.

Usage: python benchmarks/threads.py [DATA_DIR] [--models 8:1:32,32:2:256,128:2:256]
                                    [--threads 1,2] [--policies spin,passive] [--steps N]
                                    [--repeats N] [--busy N]

Each model is HIDDEN:LAYERS:BATCH (8:1:32 is the test suite's TINY model, 128:2:256 the
default). The OpenMP wait policy is read once, when torch loads its OpenMP runtime, so
each policy runs in its own child process: `spin` is libgomp's default (a thread waiting
at a barrier spins 300,000 times before it sleeps: GOMP_SPINCOUNT=300000), `passive`
sleeps at once (OMP_WAIT_POLICY=PASSIVE). Inside a child, thread counts and models are
interleaved repeat by repeat; each figure is the median ms per step of lstmcast's own
loop (see throughput.py). `--busy N` runs N single-core busy loops meanwhile, to see
what a machine shared with other work does to each setting.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
POLICIES = {
    "spin": {"GOMP_SPINCOUNT": "300000"},
    "passive": {"OMP_WAIT_POLICY": "PASSIVE"},
}


def child(args: argparse.Namespace) -> None:
    """Time every (model, threads) pair in this process's OpenMP setting; print JSON."""
    import lstmcast  # noqa: F401  # isort: skip  (before torch, as in the command)
    import torch

    sys.path.insert(0, str(HERE))
    from throughput import HORIZON, time_lstmcast

    from lstmcast import api
    from lstmcast.config import ModelConfig, TrainConfig
    from lstmcast.train import resolve_model_config

    panel = api.load(Path(args.data_dir) / "train.csv")
    runs = []
    for spec in args.models.split(","):
        hidden, layers, batch = (int(v) for v in spec.split(":"))
        cfg = resolve_model_config(
            ModelConfig(horizon=HORIZON, hidden_size=hidden, layers=layers), panel
        )
        runs.append((spec, cfg, TrainConfig(batch_size=batch, device="cpu")))
    threads = [int(t) for t in args.threads.split(",")]
    times: dict[str, list[float]] = {}
    for _, cfg, tcfg in runs:  # warm-up: one-off allocations and kernel choices
        for n in threads:
            torch.set_num_threads(n)
            time_lstmcast(panel, cfg, dataclasses.replace(tcfg, threads=n), 2, 2)
    for _ in range(args.repeats):
        for spec, cfg, tcfg in runs:
            for n in threads:
                torch.set_num_threads(n)
                step = time_lstmcast(
                    panel, cfg, dataclasses.replace(tcfg, threads=n), 3, args.steps
                )
                times.setdefault(f"{spec}/{n}", []).append(1e3 * step)
    print(json.dumps({k: statistics.median(v) for k, v in times.items()}))


def busy() -> None:
    while True:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "data_dir",
        nargs="?",
        default=str(HERE.parent / ".." / "shared" / "benchmarks" / "m4_hourly"),
    )
    parser.add_argument("--models", default="8:1:32,32:2:256,128:2:256")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--policies", default="spin,passive")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--busy", type=int, default=0, help="single-core busy loops meanwhile")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return 0

    hogs = [multiprocessing.Process(target=busy, daemon=True) for _ in range(args.busy)]
    for h in hogs:
        h.start()
    results = {}
    try:
        for policy in args.policies.split(","):
            env = {
                k: v
                for k, v in os.environ.items()
                if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_NUM_THREADS")
            }
            env.update(POLICIES[policy])
            started = time.perf_counter()
            out = subprocess.run(
                [sys.executable, __file__, *sys.argv[1:], "--child"],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            results[policy] = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"# {policy}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    finally:
        for h in hogs:
            h.terminate()
    load = os.getloadavg()[0]
    print(
        f"ms per step of lstmcast's loop (median of {args.repeats}), {os.cpu_count()} cores, "
        f"{args.busy} busy loops, load average at the end {load:.1f}"
    )
    keys = list(next(iter(results.values())))
    print(f"  {'hidden:layers:batch/threads':<30}" + "".join(f"{p:>10}" for p in results))
    for k in keys:
        print(f"  {k:<30}" + "".join(f"{results[p][k]:10.1f}" for p in results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
