"""Random walks: is the LSTM with default settings at least as good as naive on them?

Usage: python benchmarks/random_walks.py [--series N] [--length N] [--seed N] [--set NAME=VALUE ...]
       python benchmarks/random_walks.py --seeds 10 [--series N] [--length N] [--seed N]

Without --seeds: writes a panel of Gaussian random walks (20 of 300 daily points, so the
tool assumes a weekly season that is not there), trains through `lstmcast.api.train` with
default settings, and prints the validation table: the LSTM alone, naive, seasonal naive,
drift and the per-series choice on the same rolling origins, with the 80 % coverage of the
LSTM's band and how much the forecast's band widens from the first to the last horizon step.
`--set gate=false` trains the seasonal skip alone.

With --seeds N: for each of N seeds (from --seed on), one Gaussian random walk of 700
business days (as `sample_data/prices.csv` is one), trained by the real CLI in a subprocess,
`lstmcast train walk.csv --json --model m.lstmcast`, and prints the verdict of its JSON
(beats / ties / loses against the best baseline, its skill, the method that forecasts the
series), then in how many seeds it says "beats". On a random walk no method can beat naive
but by chance, so that count is how often the verdict is fooled.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from m4_hourly import overrides  # noqa: E402

from lstmcast import api  # noqa: E402
from lstmcast.config import ModelConfig, TrainConfig  # noqa: E402

PANEL = {"series": 20, "length": 300, "freq": "D"}  # without --seeds: the panel of BENCHMARKS.md
PER_SEED = {"series": 1, "length": 700, "freq": "B"}  # with --seeds: like sample_data/prices.csv


def walks(n_series: int, length: int, seed: int, freq: str = "D") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2022-01-01", periods=length, freq=freq)
    return pd.concat(
        pd.DataFrame(
            {
                "unique_id": f"walk{k}",
                "ds": ds,
                "y": 100 + np.cumsum(rng.normal(0, 1, length)),
            }
        )
        for k in range(n_series)
    )


def band_widths(result) -> pd.Series:
    """Mean width of the forecast band at each horizon step, over series."""
    fc = result.forecast
    step = fc.groupby("unique_id").cumcount() + 1
    return (fc["yhat_upper"] - fc["yhat_lower"]).groupby(step).mean()


def verdict(validation: dict) -> str:
    """The verdict against the best baseline, "beats", "ties" or "loses": the JSON's
    `verdict` where it has one, else from `beats_best_baseline` (which knows no tie);
    "no LSTM" where none was judged."""
    said = validation.get("verdict")
    if isinstance(said, str) and said:
        return said
    if validation.get("skill_vs_best_baseline") is None:
        return "no LSTM"
    return "beats" if validation.get("beats_best_baseline") else "loses"


def train_json(data: Path) -> dict:
    """`lstmcast train DATA --json --model m.lstmcast` in a subprocess, next to DATA."""
    exe = [sys.executable, "-m", "lstmcast", "train", data.name, "--json", "--model", "m.lstmcast"]
    proc = subprocess.run(exe, cwd=data.parent, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise SystemExit(f"lstmcast train exited {proc.returncode}: {' | '.join(tail)}")
    return json.loads(proc.stdout)


def seeds(n_seeds: int, first: int, n_series: int, length: int) -> int:
    """The verdict of `train --json` on fresh random walks, one training per seed."""
    print(
        f"{n_seeds} seeds from {first}: {n_series} Gaussian random walk(s) of {length} business "
        "days each, `lstmcast train --json` with default settings"
    )
    print(
        f"  {'seed':>4}  {'verdict':<8}{'skill':>8}  {'best baseline':<15}{'LSTM MASE':>10}"
        f"{'best MASE':>10}{'epochs':>7}{'train s':>8}  forecast by"
    )
    counts: dict[str, int] = {}
    for seed in range(first, first + n_seeds):
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "walk.csv"
            walks(n_series, length, seed, PER_SEED["freq"]).to_csv(data, index=False)
            doc = train_json(data)
        v = doc["validation"]
        said = verdict(v)
        counts[said] = counts.get(said, 0) + 1
        skill, best = v.get("skill_vs_best_baseline"), v.get("best_baseline")
        lstm = v["methods"].get("lstm", {}).get("mase")
        best_mase = v["methods"].get(best, {}).get("mase") if best else None
        print(
            f"  {seed:>4}  {said:<8}{'-' if skill is None else f'{skill:+.3f}':>8}  "
            f"{best or '-':<15}{'-' if lstm is None else f'{lstm:.3f}':>10}"
            f"{'-' if best_mase is None else f'{best_mase:.3f}':>10}{doc['epochs']:>7}"
            f"{doc['seconds']:>8.1f}  {', '.join(f'{k} {n}' for k, n in doc['forecast_by'].items())}",
            flush=True,
        )
    rest = ", ".join(f"{k} {n}" for k, n in sorted(counts.items()) if k != "beats")
    print(f"beats in {counts.get('beats', 0)} of {n_seeds} seeds ({rest or 'no other verdict'})")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=None, help="verdict per seed, N seeds")
    parser.add_argument("--series", type=int, default=None, help="default 20, 1 with --seeds")
    parser.add_argument("--length", type=int, default=None, help="default 300, 700 with --seeds")
    parser.add_argument("--seed", type=int, default=0, help="the (first) seed")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    mode = PANEL if args.seeds is None else PER_SEED
    args.series = args.series or mode["series"]
    args.length = args.length or mode["length"]
    if args.seeds is not None:
        if args.set:
            parser.error("--set applies without --seeds only (the CLI trains each seed)")
        return seeds(args.seeds, args.seed, args.series, args.length)
    model_cfg, train_cfg = overrides(ModelConfig(), TrainConfig(device="cpu"), args.set)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "walks.csv"
        walks(args.series, args.length, args.seed).to_csv(data, index=False)
        s = api.train(data, Path(tmp) / "m.lstmcast", model_cfg=model_cfg, train_cfg=train_cfg)
        widths = {
            fallback: band_widths(api.predict(Path(tmp) / "m.lstmcast", fallback=fallback))
            for fallback in ("auto", "none")
        }
    v = s.validation
    print(
        f"{args.series} random walks of {args.length} daily points, horizon {v['horizon']}, "
        f"{v['windows']} validation windows, overrides {args.set or 'none'}; "
        f"{s.epochs} epochs in {s.seconds:.0f} s ({s.stop_reason})"
    )
    print(f"  {'method':<18}{'MAE':>8}{'MASE':>8}{'coverage':>10}")
    for name, row in v["methods"].items():
        cover = "" if row.get("coverage") is None else f"{row['coverage']:10.3f}"
        print(f"  {name:<18}{row['mae']:8.3f}{row['mase']:8.3f}{cover}")
    naive = v["methods"]["naive"]["mase"]
    print(f"  LSTM MASE / naive MASE: {v['methods']['lstm']['mase'] / naive:.3f}")
    cal = v.get("calibration") or {}
    if cal.get("offsets_last_step"):
        print(
            f"  upper band offset (normalised units): step 1 {cal['offsets'][-1]:.3f}, "
            f"step {v['horizon']} {cal['offsets_last_step'][-1]:.3f}"
        )
    print(f"  forecast by: {s.forecast_by}")
    for fallback, label in (("auto", "default forecast"), ("none", "LSTM alone")):
        w = widths[fallback]
        print(
            f"  80 % band width, {label}: step 1 {w.iloc[0]:.2f}, step {len(w)} "
            f"{w.iloc[-1]:.2f} (x{w.iloc[-1] / w.iloc[0]:.2f}; a random walk's spread grows "
            f"x{np.sqrt(len(w)):.2f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
