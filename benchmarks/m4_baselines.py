"""Check lstmcast.metrics and Naive2 (m4_metrics.py) against the official M4 Hourly scores.

Usage: python benchmarks/m4_baselines.py [DATA_DIR]

Forecasts the 48 test hours of all 414 series with Naive1, seasonal naive and Naive2 (m = 24),
scores them with sMAPE and MASE (scale from train, m = 24), averages over the series and
compares with the published figures at three decimals. Exits 1 if any differs. A few seconds.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from m4_metrics import naive2_forecast

from lstmcast import metrics
from lstmcast.methods import naive, seasonal_naive

HORIZON, SEASON = 48, 24
DEFAULT_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "benchmarks" / "m4_hourly"

# Official M4 Hourly (sMAPE, MASE), from the organisers' "Evaluation and Ranks.xlsx".
REFERENCE = {
    "seasonal_naive": (13.912, 1.193),
    "naive2": (18.383, 2.395),
    "naive1": (43.003, 11.608),
}
METHODS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "seasonal_naive": lambda x: seasonal_naive.forecast(x, HORIZON, SEASON),
    "naive2": lambda x: naive2_forecast(x, HORIZON, SEASON),
    "naive1": lambda x: naive.forecast(x, HORIZON),
}


def load(path: Path) -> dict[str, np.ndarray]:
    """Values of each series of a long `unique_id, ds, y` file, in file order."""
    df = pd.read_csv(path)
    return {str(k): g["y"].to_numpy(np.float64) for k, g in df.groupby("unique_id", sort=False)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", type=Path, default=DEFAULT_DIR)
    data = parser.parse_args().data_dir

    train, test = load(data / "train.csv"), load(data / "test.csv")
    ids = list(test)
    actual = np.stack([test[k] for k in ids])  # (414, 48)
    scale = metrics.mase_scales([train[k] for k in ids], SEASON)

    ok = True
    print(f"M4 Hourly, {len(ids)} series, h={HORIZON}, m={SEASON}: mean over series")
    print(f"  {'method':<16}{'sMAPE':>8}{'MASE':>8}   {'published':>15}")
    for name, forecast in METHODS.items():
        pred = np.stack([forecast(train[k]) for k in ids])
        s = float(np.mean(metrics.smape(actual, pred)))
        m = float(np.mean(metrics.mase(actual, pred, scale)))
        ref_s, ref_m = REFERENCE[name]
        match = abs(round(s, 3) - ref_s) <= 0.0005 and abs(round(m, 3) - ref_m) <= 0.0005
        ok &= match
        print(
            f"  {name:<16}{s:8.3f}{m:8.3f}   {ref_s:7.3f}{ref_m:8.3f}  {'ok' if match else 'DIFFERS'}"
        )
    print("all match the published figures" if ok else "MISMATCH against the published figures")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
