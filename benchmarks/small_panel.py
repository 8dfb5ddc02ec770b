"""A small daily panel through `lstmcast train` with default settings: time and validation.

Usage: python benchmarks/small_panel.py [--series 50] [--length 550] [--seed 0] [--horizon H]
       [--train-seed N] [--lstmcast PATH]

Writes a seeded panel in long format (`unique_id, ds, y`) to a temporary folder: daily
series of about `--length` points (a few start up to 10 % later), a weekly cycle, one to
three level shifts, multiplicative noise, strictly positive values, and a few missing days
in a few series. Then runs the real CLI in a subprocess, as a user would:
`lstmcast train panel.csv --json --model m.lstmcast [--horizon H]`, and prints the wall
seconds of that whole command (start-up and model file included), the steps, epochs and
seconds the JSON reports, the validation MASE of each method and of the chosen forecast
(each series by its chosen method), the verdict and `forecast_by`.

For reference, in this process and timed apart: statsforecast's AutoETS and AutoTheta
(season 7, level=[80]) fit and forecast the same series, gaps filled by linear
interpolation as lstmcast fills them, over the horizon the training used.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers  # noqa: E402
from datasets import machine  # noqa: E402

START = pd.Timestamp("2023-01-01")
SEASON = 7  # weekly cycle of daily data, the season lstmcast infers for a daily grid
GAPPY_SHARE = 0.1  # share of series that miss a few days
LATE_SHARE = 0.2  # share of series that start up to 10 % later than `length` allows


def panel(n_series: int, length: int, seed: int) -> pd.DataFrame:
    """Seeded daily panel, long format; every series ends on the same day."""
    rng = np.random.default_rng(seed)
    end = START + pd.Timedelta(days=length - 1)
    frames = []
    for k in range(n_series):
        n = length
        if rng.random() < LATE_SHARE:
            n = int(length * rng.uniform(0.9, 1.0))
        t = np.arange(n)
        level = np.exp(rng.uniform(np.log(20), np.log(2_000)))  # levels spread over 2 decades
        weekly = 1 + rng.uniform(0.05, 0.4) * np.sin(2 * np.pi * t / SEASON + rng.uniform(0, 7))
        shifts = np.ones(n)
        for at in rng.integers(n // 10, n - n // 10, size=rng.integers(1, 4)):
            shifts[at:] *= rng.uniform(0.6, 1.6)  # a lasting step up or down
        noise = np.exp(rng.normal(0, rng.uniform(0.03, 0.15), n))
        y = level * weekly * shifts * noise  # a product of positives: strictly positive
        ds = pd.date_range(end=end, periods=n, freq="D")
        keep = np.ones(n, dtype=bool)
        if rng.random() < GAPPY_SHARE:  # one to three runs of 1-3 missing days, inside
            for at in rng.integers(SEASON, n - SEASON, size=rng.integers(1, 4)):
                keep[at : at + rng.integers(1, 4)] = False
        frames.append(pd.DataFrame({"unique_id": f"s{k:02d}", "ds": ds[keep], "y": y[keep]}))
    return pd.concat(frames, ignore_index=True)


def train(
    exe: Path, data: Path, horizon: int | None, seed: int | None = None
) -> tuple[dict, float]:
    """`lstmcast train DATA --json --model m.lstmcast`: the JSON and the command's wall s."""
    args = [str(exe), "train", data.name, "--json", "--model", "m.lstmcast"]
    if horizon is not None:
        args += ["--horizon", str(horizon)]
    if seed is not None:
        args += ["--seed", str(seed)]
    started = time.perf_counter()
    proc = subprocess.run(args, cwd=data.parent, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise SystemExit(f"lstmcast train exited {proc.returncode}: {' | '.join(tail)}")
    return json.loads(proc.stdout), wall


def time_peers(df: pd.DataFrame, horizon: int) -> dict[str, float]:
    """Seconds to import statsforecast and to fit and forecast every series with both peers
    (StatsForecast, one process), on the daily grid with gaps filled."""
    started = time.perf_counter()
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS, AutoTheta

    imported = time.perf_counter() - started
    filled = (
        df.set_index("ds")
        .groupby("unique_id")["y"]
        .apply(lambda s: s.asfreq("D").interpolate("linear"))
        .reset_index()
    )
    sf = StatsForecast(
        models=[AutoETS(season_length=SEASON), AutoTheta(season_length=SEASON)], freq="D", n_jobs=1
    )
    started = time.perf_counter()
    fc = sf.forecast(df=filled, h=horizon, level=[peers.LEVEL])
    fitted = time.perf_counter() - started
    assert len(fc) == horizon * df["unique_id"].nunique(), "a forecast per series and step"
    return {"import": imported, "fit_forecast": fitted}


def report(doc: dict, wall: float, horizon: int | None) -> list[str]:
    """The lines printed for one train: times, validation table, verdict, methods used."""
    v = doc["validation"]
    lines = [
        f"lstmcast train (defaults{'' if horizon is None else f', --horizon {horizon}'}): "
        f"{wall:.1f} s wall for the whole command; the JSON reports {doc['steps']} steps, "
        f"{doc['epochs']} epochs, {doc['seconds']:.1f} s ({doc['stop_reason']}), "
        f"horizon {v['horizon']}, season {v['season']}, {v['windows']} validation windows",
        f"  {'validation method':<20}{'MASE':>8}{'MAE':>10}",
    ]
    for name, row in v["methods"].items():
        label = "chosen per series" if name == "chosen" else name
        mase = "-" if row.get("mase") is None else f"{row['mase']:8.3f}"
        mae = "-" if row.get("mae") is None else f"{row['mae']:10.3f}"
        lines.append(f"  {label:<20}{mase:>8}{mae:>10}")
    skill = v.get("skill_vs_best_baseline")
    verdict = v.get("verdict") or ("beats" if v.get("beats_best_baseline") else "does not beat")
    lines.append(
        f"  verdict: {verdict} the best baseline ({v.get('best_baseline')}), skill "
        + ("-" if skill is None else f"{skill:+.3f}")
    )
    lines.append(f"  forecast_by: {doc.get('forecast_by')}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=50)
    parser.add_argument("--length", type=int, default=550, help="points of the longest series")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--horizon", type=int, default=None, help="passed to train")
    parser.add_argument(
        "--train-seed", type=int, default=None, help="passed to train as --seed (default: its own)"
    )
    parser.add_argument(
        "--lstmcast",
        type=Path,
        default=Path(sys.executable).parent / "lstmcast",
        help="the executable to time (default: the one next to this Python)",
    )
    parser.add_argument(
        "--no-peers", action="store_true", help="leave the statsforecast timing out"
    )
    args = parser.parse_args()
    if not args.lstmcast.exists():
        parser.error(f"--lstmcast {args.lstmcast}: no such file; pass the lstmcast to time")
    df = panel(args.series, args.length, args.seed)
    print(
        f"{args.series} daily series, {len(df)} rows ({df.groupby('unique_id').size().min()}-"
        f"{args.length} points), seed {args.seed}; machine: {machine()}; load average "
        f"{os.getloadavg()[0]:.1f} (other work on the cores slows every timing below)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "panel.csv"
        df.to_csv(data, index=False)
        doc, wall = train(args.lstmcast.resolve(), data, args.horizon, args.train_seed)
    for line in report(doc, wall, args.horizon):
        print(line)
    if args.no_peers:
        return 0
    if not peers.available():
        print(peers.MISSING, file=sys.stderr)
        return 0
    t = time_peers(df, doc["validation"]["horizon"])
    print(
        f"statsforecast AutoETS + AutoTheta (season {SEASON}), {args.series} series, horizon "
        f"{doc['validation']['horizon']}: fit + forecast {t['fit_forecast']:.1f} s "
        f"(n_jobs=1; import {t['import']:.1f} s apart)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
