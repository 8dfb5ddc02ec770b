"""The per-series methods' bands on public datasets: which unit and how many windows.

For every dataset of `benchmarks/datasets.py` (same split: the last H steps of each series
held out), the per-series method with the lowest mean validation MASE over the latest 10
windows a horizon apart (all series pooled; no LSTM involved) forecasts the held-out part,
with an 80 % band made as `train` makes it (`lstmcast.verdict._widths`: the conformal
quantile of its absolute window errors per step, never narrower further ahead) in one of
these units, calibrated on the latest 10 windows per series or on 40 windows in all:

- `mase`: the history's mean absolute seasonal difference (the MASE scale);
- `level`: that, grown by the recent level over the mean level of positive data
  (`lstmcast.metrics.band_scale`, the default);
- `recent`: the larger of the MASE scale and that of the recent history alone (the last
  max(2 H, 3 m + 1, 12) values): a scale that follows recent volatility.

Prints the share of held-out points inside the band per dataset and pooled, and which
datasets with at least 8 held-out points fall under 0.60.

    python benchmarks/bands.py [--only NAME,NAME]
"""

from __future__ import annotations

import argparse
import math
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import datasets as D  # noqa: E402

from lstmcast import methods, metrics  # noqa: E402
from lstmcast.verdict import MAX_FOLDS, _widths  # noqa: E402

QUANTILES = (0.1, 0.5, 0.9)
BAND_WINDOWS = 40
UNITS = ("mase", "level", "recent")


def unit(x: np.ndarray, season: int, horizon: int, kind: str) -> float:
    if kind == "mase":
        return metrics.band_scale(x, season, horizon, follow_level=False)
    if kind == "level":
        return metrics.band_scale(x, season, horizon)
    recent = x[-max(2 * horizon, 3 * season + 1, 12) :]
    return max(metrics.mase_scale(x, season), metrics.mase_scale(recent, season))


def windows(ds) -> tuple:
    """Every method's forecast from each origin n - k H (k up to the band's reach) and
    from the end of each series' training part."""
    sp = D.split(ds.load(), ds.grid, ds.horizon)
    h, m = ds.horizon, ds.season
    names = methods.candidates(m)
    reach = max(MAX_FOLDS, math.ceil(BAND_WINDOWS / len(sp.ids)))
    rows = []
    for uid in sp.ids:
        x = sp.train[uid]
        least = int(np.clip(min(2 * max(m, 1), (len(x) - h) // 2), 2, None))
        for k in range(0, reach + 1):
            o = len(x) - k * h
            if k and o < least:
                break
            rows.append((uid, k, o, {n: methods.get(n).forecast(x[:o], h, m) for n in names}))
    return sp, names, rows


def coverage(ds, sp, names, rows, kind: str, reach: int) -> tuple[int, int, str]:
    h, m = ds.horizon, ds.season
    mase = {n: [] for n in names}
    for uid, k, o, preds in rows:
        if 1 <= k <= MAX_FOLDS:
            x = sp.train[uid]
            for n in names:
                mase[n].append(
                    np.mean(np.abs(x[o : o + h] - preds[n])) / metrics.mase_scale(x[:o], m)
                )
    best = min(names, key=lambda n: np.nanmean(mase[n]) if mase[n] else np.inf)
    err, final = [], {}
    for uid, k, o, preds in rows:
        x = sp.train[uid]
        if k == 0:
            final[uid] = preds[best]
        elif k <= reach:
            err.append(np.abs(x[o : o + h] - preds[best]) / unit(x[:o], m, h, kind))
    w = np.array(_widths(np.array(err) if err else np.zeros((0, h)), h, QUANTILES))
    hits = points = 0
    for uid in sp.ids:
        x, y, seen = sp.train[uid], sp.test[uid], sp.observed[uid]
        scale = unit(x, m, h, kind)
        lo, hi = final[uid] + w[:, 0] * scale, final[uid] + w[:, -1] * scale
        if x.min() > 0:
            lo = np.maximum(lo, 0)
        hits += int(((y >= lo) & (y <= hi))[seen].sum())
        points += int(seen.sum())
    return hits, points, best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated dataset names")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    only = set(args.only.split(",")) if args.only else None
    variants = [(kind, reach) for kind in UNITS for reach in ("10 per series", "40 in all")]
    total = {v: [0, 0] for v in variants}
    low = {v: [] for v in variants}
    print("| dataset | method | points | " + " | ".join(f"{k}, {r}" for k, r in variants) + " |")
    print("|---|---|---:|" + "---:|" * len(variants))
    for ds in D.DATASETS:
        if only and ds.name not in only:
            continue
        sp, names, rows = windows(ds)
        cells = []
        for kind, reach in variants:
            folds = MAX_FOLDS if reach == "10 per series" else 10**6
            hits, points, best = coverage(ds, sp, names, rows, kind, folds)
            total[(kind, reach)][0] += hits
            total[(kind, reach)][1] += points
            if points >= 8 and hits / points < 0.6:
                low[(kind, reach)].append(ds.name)
            cells.append(f"{hits / points:.3f}")
        print(f"| {ds.name} | {best} | {points} | " + " | ".join(cells) + " |", flush=True)
    pooled = " | ".join(f"{a / b:.3f}" for a, b in total.values())
    print(f"| pooled | | {next(iter(total.values()))[1]} | {pooled} |")
    for v, names in low.items():
        print(f"under 0.60 ({v[0]}, {v[1]}): {', '.join(names) or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
