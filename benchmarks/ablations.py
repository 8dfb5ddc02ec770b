"""M4 Hourly ablations: one change at a time against the default settings.

Usage: python benchmarks/ablations.py [DATA_DIR] [--max-steps N] [--seed N] [--only NAME,...]
                                      [--out FILE]

Each variant is one run of benchmarks/m4_hourly.py (a fresh process) with that variant's
`--set` overrides, trained to early stopping as the defaults are (about 3-5 minutes a run
on 2 cores), or capped at `--max-steps N` for a quicker, rougher table. A change is judged
against the `default` row of the same table. Besides the M4 test figures each row prints
the model's validation skill over seasonal naive (the verdict `train` prints), which is
known before the test and so can choose a default without looking at it.
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
    "default": (
        "defaults: log scaling, calendar cycles, lookback 336 (14 days), skip mixing "
        "the 14 past days and the last value, pinball",
        [],
    ),
    "lookback-168": ("lookback 168 (7 days); the skip mixes 7", ["lookback=168"]),
    "skip-cycles-1": ("the skip copies the last day only (seasonal naive)", ["skip_cycles=1"]),
    "previous": (
        "the previous defaults: lookback 168, skip of the last day",
        ["lookback=168", "skip_cycles=1"],
    ),
    "no-gate": ("no last-value skip: the day mix alone", ["gate=false"]),
    "no-calendar": ("seasonal phase only (no day-of-week cycle)", ["calendar=false"]),
    "no-skip": ("no skip connection at all", ["skip=false"]),
    "huber": ("loss: quantile Huber", ["loss=huber"]),
    "lr-1e-3": ("peak learning rate 1e-3 (default 2e-3)", ["lr=0.001"]),
    "dropout-0": ("dropout 0 (default 0.1)", ["dropout=0.0"]),
    "ensemble-2": ("median of 2 seeds (2x the training time)", ["ensemble=2"]),
}


def run(data: str, sets: list[str], max_steps: int | None, seed: int) -> dict:
    cmd = [sys.executable, str(HERE / "m4_hourly.py"), data, "--json", "--seed", str(seed)]
    if max_steps:
        cmd += ["--max-steps", str(max_steps)]
    for s in sets:
        cmd += ["--set", s]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        raise SystemExit(
            f"{' '.join(sets) or 'default'}: m4_hourly.py failed:\n{proc.stderr[-2000:]}"
        )
    return json.loads(proc.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", default=str(DEFAULT_DIR))
    parser.add_argument("--max-steps", type=int, default=None, help="cap (default: none)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", default=None, help="comma-separated variant names")
    parser.add_argument("--out", default=str(HERE / "results" / "ablations.md"))
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(VARIANTS)
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        raise SystemExit(f"unknown variant {unknown[0]}; choose from {', '.join(VARIANTS)}")

    header = (
        "| variant | change | OWA default | OWA LSTM alone | sMAPE | MASE | coverage 80 % "
        "| validation skill | train s | steps |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    print(header, flush=True)
    rows = []
    for name in names:
        what, sets = VARIANTS[name]
        doc = run(args.data_dir, sets, args.max_steps, args.seed)
        r, alone = doc["lstmcast"], doc["lstm_alone"]
        row = (
            f"| {name} | {what} | {r['owa']:.4f} | {alone['owa']:.4f} | {r['smape']:.3f} | "
            f"{r['mase']:.3f} | {r['coverage_80']:.3f} | "
            f"{doc['verdict']['skill_vs_best_baseline']:.3f} | {doc['train_seconds']:.0f} | "
            f"{doc['steps']} |"
        )
        rows.append(row)
        print(row, flush=True)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    cap = f" --max-steps {args.max_steps}" if args.max_steps else ""
    only = f" --only {args.only}" if args.only else ""
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        f"# M4 Hourly ablations, seed {args.seed}\n\n"
        f"{dt.date.today()}, commit {commit}, {platform.machine()} {platform.processor()}, "
        f"command: `python benchmarks/ablations.py --seed {args.seed}{cap}{only}`\n\n"
        + header
        + "\n"
        + "\n".join(rows)
        + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
