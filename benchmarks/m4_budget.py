"""M4 Hourly accuracy against the wall-clock training budget: how much OWA a second buys.

Usage: python benchmarks/m4_budget.py [DATA_DIR] [--budgets 30,60,120,300] [--output PATH]

Runs `benchmarks/m4_hourly.py DATA_DIR --time-budget B --json` once per budget, one after
the other in fresh subprocesses (so no run inherits another's warm caches or threads), and
tabulates budget -> training seconds, epochs, steps, sMAPE, MASE, OWA, 80 % coverage and
wall seconds. Writes the table, with date, machine and command, to
benchmarks/results/m4_budget.md. Run it on an otherwise idle machine: a budget is wall-clock
time, so a busy CPU buys fewer steps for the same budget.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HARNESS = ROOT / "benchmarks" / "m4_hourly.py"
DEFAULT_DIR = ROOT / ".." / "shared" / "benchmarks" / "m4_hourly"
DEFAULT_OUTPUT = ROOT / "benchmarks" / "results" / "m4_budget.md"


def budgets(text: str) -> list[float]:
    """Parse "30,60,120" into positive seconds."""
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--budgets {text!r}: comma-separated seconds") from None
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"--budgets {text!r}: every budget must be > 0 seconds")
    return values


def run_one(data_dir: Path, budget: float, seed: int) -> dict:
    """One harness run with `--time-budget budget`; its JSON document."""
    cmd = [sys.executable, str(HARNESS), str(data_dir), "--time-budget", str(budget)]
    proc = subprocess.run(
        [*cmd, "--seed", str(seed), "--json"], cwd=ROOT, capture_output=True, text=True
    )
    try:
        return json.loads(proc.stdout)  # exit 1 only flags a failed baseline check: keep it
    except json.JSONDecodeError:
        tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
        raise RuntimeError(
            f"budget {budget:g} s: harness exited {proc.returncode}: {tail}"
        ) from None


def table(results: list[tuple[float, dict]]) -> str:
    lines = [
        "| budget s | training s | epochs | steps | stopped by | sMAPE | MASE | OWA "
        "| 80 % coverage | wall s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for budget, doc in results:
        m = doc["lstmcast"]
        lines.append(
            f"| {budget:g} | {doc['train_seconds']:.1f} | {doc['epochs']} | {doc['steps']} "
            f"| {doc['stop_reason']} | {m['smape']:.3f} | {m['mase']:.3f} | {m['owa']:.3f} "
            f"| {m['coverage_80']:.3f} | {doc['wall_seconds']:.1f} |"
        )
    if results:
        sn = results[0][1]["baselines"]["seasonal_naive"]
        lines.append(
            f"| seasonal naive | - | - | - | - | {sn['smape']:.3f} | {sn['mase']:.3f} "
            f"| {sn['owa']:.3f} | - | - |"
        )
    return "\n".join(lines)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    torch = importlib.metadata.version("torch")
    threads = os.environ.get("OMP_NUM_THREADS")  # inherited by the runs; it changes timings
    extra = f", OMP_NUM_THREADS={threads}" if threads else ""
    return f"{os.cpu_count()} vCPU {cpu}, torch {torch}, Python {platform.python_version()}{extra}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--budgets", type=budgets, default=[30.0, 60.0, 120.0, 300.0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()

    results = []
    for b in args.budgets:
        print(f"budget {b:g} s ...", file=sys.stderr, flush=True)
        doc = run_one(args.data_dir, b, args.seed)
        results.append((b, doc))
        owa, steps, wall = doc["lstmcast"]["owa"], doc["steps"], doc["wall_seconds"]
        print(f"  OWA {owa:.3f}, {steps} steps, wall {wall:.1f} s", file=sys.stderr, flush=True)
    first = results[0][1]
    checks = all(doc["baseline_checks_passed"] for _, doc in results)
    text = "\n".join(
        [
            "# M4 Hourly: accuracy against the training budget",
            "",
            f"Date {dt.date.today().isoformat()}, commit {first['commit']}, machine: {machine()}.",
            "Command: `python benchmarks/m4_budget.py "
            + shlex.join(sys.argv[1:])
            + "` (one `benchmarks/m4_hourly.py --time-budget B --json` run per budget, in turn).",
            "",
            f"Default settings (trained horizon {first.get('trained_horizon') or 48}, forecast"
            f" 48 steps, each series by the method `predict` uses), seed {args.seed}; OWA against the published Naive2 (18.383 / 2.395). Training seconds"
            " are the trainer's own; wall covers training and the 48-step forecast. Baseline"
            f" check against the published figures: {'passed' if checks else 'FAILED'}.",
            "",
            table(results),
        ]
    )
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text + "\n", encoding="utf-8")
    print(f"written to {args.output}", file=sys.stderr)
    return 0 if checks else 1


if __name__ == "__main__":
    sys.exit(main())
