"""M4 Hourly ablations: one change at a time against the default settings, same step budget.

Usage: python benchmarks/ablations.py [DATA_DIR] [--max-steps N] [--only NAME,...] [--out FILE]

Each variant is one run of benchmarks/m4_hourly.py (a fresh process, seed 0) with
`--max-steps N` and that variant's `--set` overrides. The step cap (default 800) keeps a
run to a minute or two on 2 cores, so the whole table takes about half an hour; a change
is judged against the `default` row of the same table, not against a full-length run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_DIR = HERE.parent / ".." / "shared" / "benchmarks" / "m4_hourly"

# name -> (what changes, --set overrides)
VARIANTS: dict[str, tuple[str, list[str]]] = {
    "default": ("defaults: z-score, calendar cycles, seasonal skip, lookback 168, pinball", []),
    "no-calendar": ("seasonal phase only (no day-of-week cycle)", ["calendar=false"]),
    "meanabs": ("scaling: mean |y| instead of z-score", ["scaling=meanabs"]),
    "log": ("scaling: z-score of log y", ["scaling=log"]),
    "no-skip": ("no seasonal-naive skip connection", ["skip=false"]),
    "lookback-24": ("lookback 1 cycle (24)", ["lookback=24"]),
    "lookback-72": ("lookback 3 cycles (72)", ["lookback=72"]),
    "huber": ("loss: quantile Huber", ["loss=huber"]),
    "mae": ("loss: MAE (median only, no interval)", ["quantiles=0.5"]),
    "lr-1e-3": ("peak learning rate 1e-3 (default 2e-3)", ["lr=0.001"]),
    "lr-4e-3": ("peak learning rate 4e-3", ["lr=0.004"]),
    "batch-512": ("batch 512 (default 256)", ["batch_size=512"]),
    "dropout-0": ("dropout 0 (default 0.1)", ["dropout=0.0"]),
    "no-calibrate": ("intervals not calibrated", ["calibrate=false"]),
    "ensemble-3": ("ensemble of 3 seeds (3x the steps)", ["ensemble=3"]),
}


def run(data: str, name: str, sets: list[str], max_steps: int) -> dict:
    cmd = [
        sys.executable,
        str(HERE / "m4_hourly.py"),
        data,
        "--json",
        "--max-steps",
        str(max_steps),
    ]
    for s in sets:
        cmd += ["--set", s]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{name}: m4_hourly.py failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", default=str(DEFAULT_DIR))
    parser.add_argument("--max-steps", type=int, default=800)
    parser.add_argument("--only", default=None, help="comma-separated variant names")
    parser.add_argument("--out", default=str(HERE / "results" / "ablations.md"))
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(VARIANTS)
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        raise SystemExit(f"unknown variant {unknown[0]}; choose from {', '.join(VARIANTS)}")

    header = (
        "| variant | change | sMAPE | MASE | OWA | coverage 80 % | train s | steps |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|"
    )
    print(header, flush=True)
    rows = []
    for name in names:
        what, sets = VARIANTS[name]
        doc = run(args.data_dir, name, sets, args.max_steps)
        r = doc["lstmcast"]
        row = (
            f"| {name} | {what} | {r['smape']:.3f} | {r['mase']:.3f} | {r['owa']:.3f} | "
            f"{r['coverage_80']:.3f} | {doc['train_seconds']:.0f} | {doc['steps']} |"
        )
        rows.append(row)
        print(row, flush=True)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        f"# M4 Hourly ablations, {args.max_steps} steps per member\n\n"
        f"{dt.date.today()}, commit {commit}, {platform.machine()} {platform.processor()}, "
        f"command: `python benchmarks/ablations.py --max-steps {args.max_steps}"
        + (f" --only {args.only}" if args.only else "")
        + "`\n\n"
        + header
        + "\n"
        + "\n".join(rows)
        + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
