"""Random walks: is the LSTM with default settings at least as good as naive on them?

Usage: python benchmarks/random_walks.py [--series N] [--length N] [--seed N] [--set NAME=VALUE ...]

Writes a panel of Gaussian random walks (daily, so the tool assumes a weekly season that is
not there), trains through `lstmcast.api.train` with default settings, and prints the
validation table: the LSTM alone, naive, seasonal naive, drift and the per-series choice on
the same rolling origins, with the 80 % coverage of the LSTM's band and how much the
forecast's band widens from the first to the last horizon step. `--set gate=false` trains
the seasonal skip alone.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from m4_hourly import overrides  # noqa: E402

from lstmcast import api  # noqa: E402
from lstmcast.config import ModelConfig, TrainConfig  # noqa: E402


def walks(n_series: int, length: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2022-01-01", periods=length, freq="D")
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=20)
    parser.add_argument("--length", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
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
