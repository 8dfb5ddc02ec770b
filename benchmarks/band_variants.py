"""The per-series methods' bands on public datasets: ways to make them, over refit folds.

For every dataset of `benchmarks/datasets.py` and each of K folds (the k-th on the data
without its last (k - 1) H steps, the last H of what is left held out), every per-series
method forecasts its validation windows as `train` makes them
(`lstmcast.verdict.gather_evidence`, no LSTM involved) and the held-out steps from the end
of the training part. Its 80 % band is made from its validation errors (in band-scale
units, `lstmcast.metrics.band_scale`) in each of these ways:

- `now`: as `train` makes it (`lstmcast.verdict._widths`: the conformal quantile of the
  absolute errors per horizon step, then the running maximum over the steps);
- `half`: the same from the windows with at least half of the series' history before them;
- `recent2`, `recent4`: windows weighted by 0.5 ** (age / half-life), age in horizons from
  the series' end and the half-life 2 or 4 windows: the weighted quantile (the smallest
  error whose share of the weight reaches the level), the conformal level from the
  effective number of windows;
- `isotonic`: the per-step quantiles made non-decreasing by isotonic regression (the
  least-squares non-decreasing fit) instead of their running maximum.

Prints, per dataset and method, the share of held-out points inside each band over the
folds, and the pooled share per way.

    python benchmarks/band_variants.py [--only NAME,NAME] [--folds K]
"""

from __future__ import annotations

import argparse
import datetime as dt
import shlex
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import datasets as D  # noqa: E402

from lstmcast import metrics  # noqa: E402
from lstmcast.data.load import load  # noqa: E402
from lstmcast.errors import LstmcastError  # noqa: E402
from lstmcast.evaluate import local_forecasts, mase_scales  # noqa: E402
from lstmcast.forecast import MIN_STEP_WINDOWS  # noqa: E402
from lstmcast.verdict import _widths, gather_evidence  # noqa: E402

LEVEL = 0.8  # the band: quantiles 0.1 and 0.9
WAYS = ("now", "half", "recent2", "recent4", "isotonic")


def isotonic(y: np.ndarray) -> np.ndarray:
    """The least-squares non-decreasing fit to `y` (scikit-learn's pool adjacent violators)."""
    from sklearn.isotonic import isotonic_regression

    return isotonic_regression(np.asarray(y, dtype=np.float64))


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    """The smallest x whose share of the total weight at or below it reaches q."""
    order = np.argsort(x)
    share = np.cumsum(w[order]) / w.sum()
    return float(x[order][min(int(np.searchsorted(share, q - 1e-12)), len(x) - 1)])


def raw_widths(err: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
    """Per-step conformal quantiles (H,) of |error| (V, H) as _widths takes them, before
    its running maximum: per step from MIN_STEP_WINDOWS windows, else one quantile of
    |error| / sqrt(h) pooled over the steps and grown by sqrt(h). With `weight` (V,), the
    weighted quantile (weighted_quantile) at the level of the effective number of windows."""
    horizon = err.shape[1]
    root = np.sqrt(np.arange(1, horizon + 1))
    pooled = len(err) < MIN_STEP_WINDOWS
    if weight is None:  # _widths' own: numpy's interpolated quantile
        if pooled:
            x = (err / root).ravel()
            return np.quantile(x, min(1.0, LEVEL * (1 + 1 / len(x)))) * root
        return np.quantile(err, min(1.0, LEVEL * (1 + 1 / len(err))), axis=0)
    n = weight.sum() ** 2 / (weight**2).sum()  # the effective number of windows
    if pooled:
        level = min(1.0, LEVEL * (1 + 1 / (n * horizon)))
        return weighted_quantile((err / root).ravel(), np.repeat(weight, horizon), level) * root
    level = min(1.0, LEVEL * (1 + 1 / n))
    return np.array([weighted_quantile(err[:, h], weight, level) for h in range(horizon)])


def band(way: str, err: np.ndarray, age: np.ndarray, history: np.ndarray, length: np.ndarray):
    """The upper offsets (H,) of one way from the windows' |errors| (V, H), their age in
    horizons, the history before each window and its series' length; None without windows."""
    keep = np.isfinite(err).all(axis=1)
    if way == "half":
        keep &= history >= length / 2
    err, age = err[keep], age[keep]
    if not len(err):
        return None
    if way == "now":
        return np.asarray(_widths(err, err.shape[1], (0.1, 0.5, 0.9)))[:, 2]
    weight = 0.5 ** (age / float(way[len("recent") :])) if way.startswith("recent") else None
    raw = raw_widths(err, weight)
    return isotonic(raw) if way == "isotonic" else np.maximum.accumulate(raw)


def fold_hits(ds, before: int) -> dict[tuple[str, str], list[int]]:
    """(method, way) -> [hits, points] on one fold of one dataset."""
    sp = D.split(ds.load(), ds.grid, ds.horizon, before)
    panel = load(sp.train_rows)
    h, m = ds.horizon, ds.season
    ev = gather_evidence(panel, h, m, np.zeros(0, np.int64), np.zeros(0, np.int64))

    def scale(x, season):
        return metrics.band_scale(x, season, h)

    unit = mase_scales(panel, ev.series, ev.origin, m, scale)
    last = np.arange(panel.n_series)
    final_unit = mase_scales(panel, last, panel.lengths, m, scale)
    final = local_forecasts(
        panel, last, panel.lengths, h, m, ev.names, np.ones(panel.n_series, dtype=bool), None
    )
    age = (panel.lengths[ev.series] - ev.origin) / h
    length = panel.lengths[ev.series]
    out: dict[tuple[str, str], list[int]] = {}
    for name in ev.names:
        with np.errstate(divide="ignore", invalid="ignore"):
            err = np.abs(ev.actual - ev.preds[name]) / unit[:, None]
        for way in WAYS:
            upper = band(way, err, age, ev.origin, length)
            hits = points = 0
            for i, uid in enumerate(sp.ids):
                y, seen = np.asarray(sp.test[uid], dtype=np.float64), sp.observed[uid]
                if upper is None:
                    continue
                inside = np.abs(y - final[name][i][: len(y)]) <= upper[: len(y)] * final_unit[i]
                hits += int(inside[seen].sum())
                points += int(seen.sum())
            out[(name, way)] = [hits, points]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated dataset names")
    parser.add_argument("--folds", type=int, default=3, help="refit folds a horizon apart")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    only = set(args.only.split(",")) if args.only else None
    command = "python benchmarks/band_variants.py " + shlex.join(sys.argv[1:])
    print(f"Date {dt.date.today().isoformat()}, commit {D.commit()}, machine: {D.machine()}.")
    print(f"Command: `{command.strip()}`\n")
    print("| dataset | method | points | " + " | ".join(WAYS) + " |")
    print("|---|---|---:|" + "---:|" * len(WAYS))
    pooled = {way: [0, 0] for way in WAYS}
    for ds in D.DATASETS:
        if only and ds.name not in only:
            continue
        total: dict[tuple[str, str], list[int]] = {}
        for k in range(args.folds):
            try:
                hits = fold_hits(ds, k * ds.horizon)
            except ModuleNotFoundError as exc:  # its loader's package: the bench extra
                print(
                    f"{ds.name}: {exc.name} not installed (pip install -e '.[bench]')",
                    file=sys.stderr,
                )
                break
            except (RuntimeError, ValueError, LstmcastError):  # too short for an earlier fold
                break
            for key, (a, b) in hits.items():
                total.setdefault(key, [0, 0])
                total[key][0] += a
                total[key][1] += b
        for name in dict.fromkeys(n for n, _ in total):
            points = total[(name, "now")][1]
            if not points:
                continue
            cells = [
                f"{total[(name, w)][0] / total[(name, w)][1]:.3f}" if total[(name, w)][1] else "-"
                for w in WAYS
            ]
            print(f"| {ds.name} | {name} | {points} | " + " | ".join(cells) + " |", flush=True)
            for way in WAYS:
                pooled[way][0] += total[(name, way)][0]
                pooled[way][1] += total[(name, way)][1]
    cells = [f"{a / b:.3f}" if b else "-" for a, b in pooled.values()]
    print("| pooled, every method | | | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
