"""Default settings on real public datasets: lstmcast against naive baselines on a held-out tail.

Usage: python benchmarks/datasets.py [--only NAME,...] [--time-budget S] [--output PATH]
       [--json PATH] [--no-peers] [--folds K] [--list]

Every dataset ships inside a Python package's wheel (statsmodels, vega_datasets: install with
`pip install -e '.[bench]'`), so nothing is downloaded at run time; the repository's sample
files are run too. Protocol, the same for each dataset:

1. Put each series on its regular grid; missing steps stay missing.
2. Hold out the last H grid steps of every series as the test set.
3. Write the rest (observed rows only, long format `unique_id, ds, y`) to a CSV and run the
   real CLI on it in a subprocess with default settings plus `--horizon H`:
   `lstmcast train train.csv --horizon H --model m.lstmcast --json`, then
   `lstmcast predict --model m.lstmcast train.csv --output forecast.csv` (each series by
   the method that won on it at validation) and again with `--fallback none` (the LSTM alone).
4. Score the forecasts on the observed test steps: MASE (scale: the in-sample mean absolute
   error of seasonal naive, m = the dataset's season), sMAPE (0-200) and the share of actuals
   inside the 80 % interval, each the mean over series, beside seasonal naive, naive and drift
   forecast from the same training part (gaps filled by linear interpolation, as lstmcast
   fills them).
5. Peers, when statsforecast is installed (it comes with the `bench` extra): AutoETS and
   AutoTheta (`season_length` = the dataset's season, 1 where it has none) fit in this
   process on the same filled training part of each series, scored on the same test steps
   with the same MASE scale, their 80 % intervals (level=[80]) beside lstmcast's.

A summary follows the table: the geometric mean over datasets of the default's MASE over
each peer's (and the LSTM alone's), per dataset the default's MASE over the better of naive
and seasonal naive (flagged above 1.10) and the default's 80 % coverage with the number of
held-out points (flagged below 0.60 where there are 8 or more), and the pooled coverage.
It counts the datasets (those with 3 folds or more, when any has) whose coverage lands within
0.70-0.90 for the default, the LSTM alone and each peer; gives the chance that an exactly
calibrated band would land there on each and on all (its points independent, the most
favourable case, and with errors that move together within a window, as random walks'
do); and names the coverages whose 90 % bootstrap interval (whole windows resampled, one
per series and fold) leaves out 0.80: those miss by more than their noise.

With `--folds K` the whole protocol is a refit backtest: it runs K times per dataset, the
k-th time on the data without its last (k - 1) H steps, so the K test windows tile the last
K H steps and each is forecast by a model trained on its past alone. Scores are averaged over
folds and coverages pooled over every held-out point: K times the evidence of one split.

Prints a markdown table and writes it, with date, machine and command, to
benchmarks/results/datasets.md (a run with --only writes nothing unless --output is given).
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import importlib.metadata
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers as peer_models  # noqa: E402

from lstmcast import metrics  # noqa: E402

try:  # the methods registry; older versions kept the baselines in metrics
    from lstmcast.methods import drift, naive, seasonal_naive  # noqa: E402

    def _snaive(x, h, m):
        return seasonal_naive.forecast(x, h, m)

    _naive, _drift = naive.forecast, drift.forecast
except ImportError:  # pragma: no cover - an older checkout
    _snaive, _naive, _drift = (
        metrics.seasonal_naive_forecast,
        metrics.naive_forecast,
        metrics.drift_forecast,
    )

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = ROOT / "benchmarks" / "results" / "datasets.md"
NOTES_HEADING = "## Notes"  # hand-written notes below this heading survive a re-run
WORSE_THAN_NAIVE = 1.10  # flag: default MASE over the better of naive and seasonal naive
LOW_COVERAGE = 0.60  # flag: the default's 80 % band holds fewer of the held-out points
MIN_POINTS_FOR_COVERAGE = 8  # fewer held-out points say too little about coverage
CALIBRATED = (0.70, 0.90)  # where an 80 % band's coverage of one dataset is asked to land
CALIBRATION_FOLDS = 3  # ... on each dataset with this many folds or more


@dataclass(frozen=True)
class Dataset:
    """One benchmark dataset: where it comes from, its grid, horizon and season."""

    name: str
    source: str  # package and dataset name
    licence: str
    grid: str  # pandas alias of the regular grid the series lie on
    horizon: int
    season: int  # seasonal period for the MASE scale and seasonal naive
    load: Callable[[], pd.DataFrame]  # long frame: unique_id (str), ds, y


def _long(df: pd.DataFrame, time_col: str, value_cols: list[str]) -> pd.DataFrame:
    """Wide frame (one column per series) to long `unique_id, ds, y`."""
    out = df.melt(id_vars=[time_col], value_vars=value_cols, var_name="unique_id", value_name="y")
    out = out.rename(columns={time_col: "ds"})
    out["unique_id"] = out["unique_id"].astype(str)
    out["ds"] = pd.to_datetime(out["ds"])
    return out[["unique_id", "ds", "y"]]


def _vega(name: str) -> pd.DataFrame:
    from vega_datasets import local_data  # only the bundled files: never the network

    return getattr(local_data, name)()


def _statsmodels(name: str) -> pd.DataFrame:
    import statsmodels.datasets

    return getattr(statsmodels.datasets, name).load_pandas().data


def load_hourly_temps() -> pd.DataFrame:
    sf = _vega("sf_temps").assign(unique_id="san_francisco")
    se = _vega("seattle_temps").assign(unique_id="seattle")
    both = pd.concat([sf, se]).rename(columns={"date": "ds", "temp": "y"})
    return both[["unique_id", "ds", "y"]]


def load_seattle_weather() -> pd.DataFrame:
    # Precipitation is left out: mostly zeros, where sMAPE is 200 for any non-zero forecast.
    return _long(_vega("seattle_weather"), "date", ["temp_max", "temp_min", "wind"])


def load_co2() -> pd.DataFrame:
    df = _statsmodels("co2").rename_axis("ds").reset_index()
    return _long(df, "ds", ["co2"])


def load_elnino() -> pd.DataFrame:
    df = _statsmodels("elnino")
    long = df.melt(id_vars=["YEAR"], var_name="month", value_name="y")
    month = pd.to_datetime(long["month"], format="%b").dt.month
    long["ds"] = pd.to_datetime({"year": long["YEAR"].astype(int), "month": month, "day": 1})
    long["unique_id"] = "nino12_sst"
    return long[["unique_id", "ds", "y"]].sort_values("ds")


def load_us_employment() -> pd.DataFrame:
    df = _vega("us_employment")
    # nonfarm_change is a month-on-month difference (signed, near zero): not a level series.
    cols = [c for c in df.columns if c not in ("month", "nonfarm_change")]
    return _long(df, "month", cols)


def load_stocks() -> pd.DataFrame:
    df = _vega("stocks").rename(columns={"symbol": "unique_id", "date": "ds", "price": "y"})
    df["unique_id"] = df["unique_id"].astype(str)
    return df[["unique_id", "ds", "y"]]


def load_macrodata() -> pd.DataFrame:
    df = _statsmodels("macrodata")
    df["ds"] = pd.to_datetime(
        {"year": df["year"].astype(int), "month": 3 * df["quarter"].astype(int) - 2, "day": 1}
    )
    # Positive level series only: inflation, the real interest rate and the T-bill rate cross
    # or touch zero, where sMAPE says nothing useful.
    cols = ["realgdp", "realcons", "realinv", "realgovt", "realdpi", "cpi", "m1", "unemp", "pop"]
    return _long(df, "ds", cols)


def load_sunspots() -> pd.DataFrame:
    df = _statsmodels("sunspots")
    df["ds"] = pd.to_datetime(df["YEAR"].astype(int).astype(str), format="%Y")
    return _long(df, "ds", ["SUNACTIVITY"])


def load_ohlc() -> pd.DataFrame:
    # One stock, business days, June-July 2009: a short random walk.
    return _long(_vega("ohlc"), "date", ["open", "close"])


def load_seattle_weekly() -> pd.DataFrame:
    df = _vega("seattle_weather").set_index("date")[["temp_max", "temp_min", "wind"]]
    weekly = df.resample("W-SUN").mean().iloc[1:-1].reset_index()  # whole weeks only
    return _long(weekly, "date", ["temp_max", "temp_min", "wind"])


def load_danish() -> pd.DataFrame:
    df = _statsmodels("danish_data").rename_axis("ds").reset_index()
    # lpy (log prices) crosses zero, where sMAPE says nothing useful.
    return _long(df, "ds", ["lrm", "lry", "ibo", "ide"])


def load_iowa_electricity() -> pd.DataFrame:
    df = _vega("iowa_electricity").rename(
        columns={"year": "ds", "source": "unique_id", "net_generation": "y"}
    )
    return df[["unique_id", "ds", "y"]]


def load_nile() -> pd.DataFrame:
    df = _statsmodels("nile")
    df["ds"] = pd.to_datetime(df["year"].astype(int).astype(str), format="%Y")
    return _long(df, "ds", ["volume"])


def load_stocks_short() -> pd.DataFrame:
    # Three years of monthly prices per stock: 24 to train, 12 to forecast.
    df = load_stocks()
    return df.sort_values("ds").groupby("unique_id").tail(36)


def load_stores() -> pd.DataFrame:
    df = pd.read_csv(ROOT / "sample_data" / "stores.csv", dtype={"unique_id": str})
    df["ds"] = pd.to_datetime(df["ds"])
    return df


def load_prices() -> pd.DataFrame:
    df = pd.read_csv(ROOT / "sample_data" / "prices.csv")
    return _long(df, "Date", ["Close"])


NOAA = "public domain (NOAA data)"
DATASETS = [
    Dataset("hourly-temps", "vega_datasets sf-temps + seattle-temps", NOAA, "h", 24, 24, load_hourly_temps),
    Dataset("seattle-weather", "vega_datasets seattle-weather", NOAA, "D", 14, 7, load_seattle_weather),
    Dataset("co2", "statsmodels co2 (Mauna Loa, weekly)", "public domain", "W-SAT", 13, 52, load_co2),
    Dataset("elnino", "statsmodels elnino (Nino 1+2 SST)", "public domain", "MS", 12, 12, load_elnino),
    Dataset("us-employment", "vega_datasets us-employment (BLS)", "public domain (US BLS)", "MS", 12, 12, load_us_employment),
    Dataset("stocks", "vega_datasets stocks", "unstated", "MS", 12, 12, load_stocks),
    Dataset("macrodata", "statsmodels macrodata (FRED)", "public domain", "QS-JAN", 8, 4, load_macrodata),
    Dataset("sunspots", "statsmodels sunspots (yearly)", "public domain", "YS-JAN", 6, 1, load_sunspots),
    Dataset("stock-ohlc", "vega_datasets ohlc (one stock, business days)", "unstated", "B", 5, 5, load_ohlc),
    Dataset("seattle-weekly", "vega_datasets seattle-weather, weekly means", NOAA, "W-SUN", 8, 52, load_seattle_weekly),
    Dataset("danish-quarterly", "statsmodels danish_data", "public domain", "QS-JAN", 4, 4, load_danish),
    Dataset("iowa-electricity", "vega_datasets iowa-electricity (yearly, EIA)", "public domain (US EIA)", "YS-JAN", 3, 1, load_iowa_electricity),
    Dataset("nile", "statsmodels nile (yearly flow)", "public domain", "YS-JAN", 10, 1, load_nile),
    Dataset("stocks-short", "vega_datasets stocks, last 36 months", "unstated", "MS", 12, 12, load_stocks_short),
    Dataset("sample:stores", "sample_data/stores.csv", "this repository", "h", 24, 24, load_stores),
    Dataset("sample:prices", "sample_data/prices.csv", "this repository", "B", 5, 5, load_prices),
]  # fmt: skip


@dataclass
class Split:
    """Per series: the training part (gaps filled) and the test part with its observed mask."""

    ids: list[str]
    train: dict[str, np.ndarray]
    test: dict[str, np.ndarray]
    observed: dict[str, np.ndarray]
    test_ds: dict[str, pd.DatetimeIndex]
    train_rows: pd.DataFrame  # observed training rows, what lstmcast reads


def split(df: pd.DataFrame, grid: str, horizon: int, before: int = 0) -> Split:
    """Regular grid per series, then the last `horizon` grid steps of each series are the test;
    with `before`, the last `before` grid steps are dropped first (an earlier fold's origin)."""
    ids, train, test, observed, test_ds, rows = [], {}, {}, {}, {}, []
    for uid, g in df.groupby("unique_id", sort=False):
        s = g.set_index("ds")["y"].astype(float).sort_index()
        s = s[~s.index.duplicated()].asfreq(grid)  # missing steps become NaN
        s = s.iloc[: len(s) - before]
        filled = s.interpolate("linear", limit_area="inside")
        head, tail = s.iloc[:-horizon], s.iloc[-horizon:]
        if tail.isna().all():
            raise ValueError(f"series {uid!r}: no observed value in its last {horizon} steps")
        ids.append(str(uid))
        train[uid] = filled.iloc[:-horizon].to_numpy()
        test[uid] = tail.to_numpy()
        observed[uid] = tail.notna().to_numpy()
        test_ds[uid] = tail.index
        head = head.dropna()
        rows.append(pd.DataFrame({"unique_id": str(uid), "ds": head.index, "y": head.to_numpy()}))
    return Split(ids, train, test, observed, test_ds, pd.concat(rows, ignore_index=True))


def run_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """`lstmcast ARGS` in a subprocess, the entry point a user runs; raises on a non-zero exit."""
    proc = subprocess.run(
        [sys.executable, "-m", "lstmcast", *args], cwd=cwd, capture_output=True, text=True
    )
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"lstmcast {args[0]} exited {proc.returncode}: {' | '.join(tail)}")
    return proc


def forecast_lstm(sp: Split, horizon: int, time_budget: float | None) -> tuple[dict, dict, dict]:
    """Train and predict through the CLI: (train JSON, default forecast per series, the LSTM
    alone per series). The default forecasts each series by the method that won on it at
    validation; --fallback none forces the LSTM (the same as the default where no LSTM was
    trained: then there is none to force)."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        sp.train_rows.to_csv(tmp / "train.csv", index=False)
        budget = [] if time_budget is None else ["--time-budget", str(time_budget)]
        started = time.perf_counter()
        proc = run_cli(
            ["train", "train.csv", "--horizon", str(horizon), "--model", "m.lstmcast", "--json"]
            + budget,
            tmp,
        )
        summary = json.loads(proc.stdout)
        summary["wall_seconds"] = time.perf_counter() - started
        run_cli(["predict", "--model", "m.lstmcast", "train.csv", "--output", "f.csv"], tmp)
        fc = pd.read_csv(tmp / "f.csv", dtype={"unique_id": str}, parse_dates=["ds"])
        alone = fc
        if summary.get("lstm_trained", True):
            args = [
                "predict",
                "--model",
                "m.lstmcast",
                "train.csv",
                "-o",
                "a.csv",
                "--fallback",
                "none",
            ]
            run_cli(args, tmp)
            alone = pd.read_csv(tmp / "a.csv", dtype={"unique_id": str}, parse_dates=["ds"])
    by_id = {uid: g.set_index("ds") for uid, g in fc.groupby("unique_id", sort=False)}
    lstm = {uid: g.set_index("ds") for uid, g in alone.groupby("unique_id", sort=False)}
    return summary, by_id, lstm


BASELINE_NAMES = ("snaive", "naive", "drift")


def evaluate(
    ds: Dataset, time_budget: float | None, with_peers: bool = True, before: int = 0
) -> dict:
    """Run one dataset through the protocol, the last `before` grid steps dropped first;
    returns the row of the results table."""
    sp = split(ds.load(), ds.grid, ds.horizon, before)
    summary, fc, alone = forecast_lstm(sp, ds.horizon, time_budget)
    trained = summary.get("lstm_trained", True)
    h, m = ds.horizon, ds.season
    peer_names = peer_models.PEERS if with_peers else ()
    scores: dict[str, dict[str, list[float]]] = {
        k: {"mase": [], "smape": []} for k in ("lstm", "chosen", *BASELINE_NAMES, *peer_names)
    }
    hits, points, lstm_hits = 0, 0, 0
    windows: list[list[int]] = []  # per series (one window per fold): [hits, points]
    peer_hits = dict.fromkeys(peer_names, 0)
    peer_failures: list[str] = []
    peer_seconds = 0.0
    for uid in sp.ids:
        if uid not in fc:
            raise RuntimeError(f"{ds.name}: no forecast for series {uid!r}")
        f, a = fc[uid].reindex(sp.test_ds[uid]), alone[uid].reindex(sp.test_ds[uid])
        obs = sp.observed[uid]
        if f["yhat"][obs].isna().any():
            raise RuntimeError(f"{ds.name}: forecast dates of {uid!r} miss the test dates")
        y, x = sp.test[uid][obs], sp.train[uid]
        scale = metrics.mase_scale(x, m)
        preds = {
            "lstm": a["yhat"].to_numpy(float)[obs] if trained else np.full(len(y), np.nan),
            "chosen": f["yhat"].to_numpy(float)[obs],
            "snaive": _snaive(x, h, m)[obs],
            "naive": _naive(x, h)[obs],
            "drift": _drift(x, h)[obs],
        }
        if with_peers:
            started = time.perf_counter()
            peer_fc = peer_models.forecast_peers(x, h, m)
            peer_seconds += time.perf_counter() - started
            for name, pf in peer_fc.items():
                if isinstance(pf, str):  # failed on this series: scored as missing
                    peer_failures.append(f"{name} on {uid!r}: {pf}")
                    preds[name] = np.full(len(y), np.nan)
                    continue
                preds[name] = pf.mean[obs]
                peer_hits[name] += int(((y >= pf.lo[obs]) & (y <= pf.hi[obs])).sum())
        for name, p in preds.items():
            scores[name]["mase"].append(metrics.mase(y, p, scale))
            scores[name]["smape"].append(metrics.smape(y, p))
        lo, hi = f["yhat_lower"].to_numpy(float)[obs], f["yhat_upper"].to_numpy(float)[obs]
        windows.append([int(((y >= lo) & (y <= hi)).sum()), len(y)])
        hits += windows[-1][0]
        lo, hi = a["yhat_lower"].to_numpy(float)[obs], a["yhat_upper"].to_numpy(float)[obs]
        lstm_hits += int(((y >= lo) & (y <= hi)).sum())
        points += len(y)
    lstm_mase, sn_mase = np.array(scores["lstm"]["mase"]), np.array(scores["snaive"]["mase"])
    lengths = [len(sp.train[u]) for u in sp.ids]
    means = {
        f"{k}_{s}": float(np.nanmean(v[s])) if trained or k != "lstm" else float("nan")
        for k, v in scores.items()
        for s in ("mase", "smape")
    }
    best = min(BASELINE_NAMES, key=lambda k: means[f"{k}_mase"])
    validation = summary["validation"]
    return {
        "dataset": ds.name,
        "freq": ds.grid,
        "series": len(sp.ids),
        "length": f"{min(lengths)}" if min(lengths) == max(lengths) else f"{min(lengths)}-{max(lengths)}",
        "horizon": h,
        "season": m,
        **means,
        "best_baseline": best,
        "coverage": hits / points,
        "lstm_coverage": lstm_hits / points if trained else float("nan"),
        **{f"{k}_coverage": v / points for k, v in peer_hits.items()},
        "peers": list(peer_names),
        "peer_failures": peer_failures,
        "peer_seconds": peer_seconds,
        "wins": int((lstm_mase < sn_mase).sum()),
        "scored_points": points,
        "coverage_windows": windows,
        "forecast_by": summary.get("forecast_by", {}),
        "lstm_trained": trained,
        "train_seconds": summary["seconds"],
        "train_wall": summary["wall_seconds"],
        "epochs": summary["epochs"],
        "steps": summary["steps"],
        "stop_reason": summary["stop_reason"],
        "model": summary["model_config"],
        "val_best_baseline": validation.get("best_baseline"),
        "val_skill": validation.get("skill_vs_best_baseline"),
        "val_coverage": validation["methods"].get("lstm", {}).get("coverage"),
        "per_series_mase": {
            uid: {k: v["mase"][i] for k, v in scores.items()} for i, uid in enumerate(sp.ids)
        },
        "warnings": summary.get("warnings", []),
    }  # fmt: skip


NAMES = {"snaive": "seasonal naive", "naive": "naive", "drift": "drift"}


def combine_folds(rows: list[dict]) -> dict:
    """One dataset's row over its folds (`rows[0]` the latest): MASE and sMAPE averaged over
    folds (each a mean over series), coverages pooled over every held-out point, counts and
    training seconds summed; the rest (model, warnings) is the latest fold's."""
    if len(rows) == 1:
        return {**rows[0], "folds": 1}
    out = dict(rows[0])
    for key in out:
        if key.endswith(("_mase", "_smape")) and isinstance(out[key], float):
            vals = [r[key] for r in rows if np.isfinite(r[key])]
            out[key] = float(np.mean(vals)) if vals else float("nan")
    points = sum(r["scored_points"] for r in rows)
    for key in [k for k in out if k == "coverage" or k.endswith("_coverage")]:
        if key == "val_coverage":
            continue
        have = [r for r in rows if np.isfinite(r.get(key, float("nan")))]
        n = sum(r["scored_points"] for r in have)
        out[key] = sum(r[key] * r["scored_points"] for r in have) / n if n else float("nan")
    by: dict[str, int] = {}
    for r in rows:
        for k, v in r["forecast_by"].items():
            by[k] = by.get(k, 0) + v
    out.update(
        folds=len(rows),
        scored_points=points,
        coverage_windows=[w for r in rows for w in r.get("coverage_windows", [])],
        wins=sum(r["wins"] for r in rows),
        series=rows[0]["series"] * len(rows),  # series × folds: what `wins` counts over
        forecast_by=by,
        train_seconds=sum(r["train_seconds"] for r in rows),
        peer_failures=[f for r in rows for f in r.get("peer_failures", [])],
        best_baseline=min(BASELINE_NAMES, key=lambda k: out[f"{k}_mase"]),
        lstm_trained=any(r["lstm_trained"] for r in rows),
    )
    return out


def _pair(r: dict, k: str) -> str:
    v = r[f"{k}_mase"]
    return "-" if not np.isfinite(v) else f"{v:.3f} / {r[f'{k}_smape']:.2f}"


def _peer(r: dict, k: str) -> str:
    """A peer's cell: MASE / sMAPE / 80 % coverage, '-' where it was not run."""
    if k not in r.get("peers", ()):
        return "-"
    return f"{_pair(r, k)} / {r[f'{k}_coverage']:.3f}"


def _h(r: dict) -> str:
    """The horizon, and over how many folds when more than one (series then counts each
    series once per fold)."""
    folds = r.get("folds", 1)
    if r.get("asked_folds", 1) == 1:
        return f"{r['horizon']}"
    return f"{r['horizon']} × {folds} fold{'s' if folds > 1 else ''}"


def table(rows: list[dict]) -> str:
    """The main results table, markdown: the best baseline on the test, the LSTM alone and
    the default forecast (each series by the method that won at validation), then the
    statsforecast peers where they were run."""
    peer_head = "".join(f"| {k} MASE / sMAPE / 80 % cov " for k in peer_models.PEERS)
    head = (
        "| dataset | freq | series | length | H | best baseline MASE / sMAPE | LSTM alone MASE / sMAPE "
        "| default (chosen per series) MASE / sMAPE | default vs best baseline | LSTM alone beats s-naive "
        f"| 80 % coverage (default / LSTM) | forecast by | train s {peer_head}|\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|" + "---|" * len(peer_models.PEERS)
    )
    lines = [head]
    for r in rows:
        best = r["best_baseline"]
        ratio = r["chosen_mase"] / r[f"{best}_mase"] if r[f"{best}_mase"] else float("nan")
        beats = (
            "-" if not r["lstm_trained"] else
            ("yes" if r["lstm_mase"] < r["snaive_mase"] else "**no**") + f" ({r['wins']}/{r['series']})"
        )  # fmt: skip
        by = ", ".join(f"{k} {v}" for k, v in r["forecast_by"].items())
        cover = f"{r['coverage']:.3f}" + (
            f" / {r['lstm_coverage']:.3f}" if np.isfinite(r["lstm_coverage"]) else ""
        )
        lines.append(
            f"| {r['dataset']} | {r['freq']} | {r['series']} | {r['length']} | {_h(r)} "
            f"| {NAMES[best]} {_pair(r, best)} | {_pair(r, 'lstm')} | {_pair(r, 'chosen')} "
            f"| {'**' if ratio > 1 else ''}{ratio:.3f}{'**' if ratio > 1 else ''} | {beats} "
            f"| {cover} | {by} | {r['train_seconds']:.1f} "
            + "".join(f"| {_peer(r, k)} " for k in peer_models.PEERS)
            + "|"
        )
    return "\n".join(lines)


def _ratio(a: float, b: float) -> float:
    return a / b if np.isfinite(a) and np.isfinite(b) and b > 0 else float("nan")


def geometric_mean(ratios: list[float]) -> tuple[float, int]:
    """exp(mean log r) over the finite, positive ratios, and how many there were."""
    r = np.array([x for x in ratios if np.isfinite(x) and x > 0], dtype=np.float64)
    return (float(np.exp(np.log(r).mean())) if len(r) else float("nan")), len(r)


def pooled(rows: list[dict], key: str) -> tuple[float, int]:
    """Share of the scored actuals, over the datasets that have `key` (a coverage), inside
    that 80 % interval, and the number of actuals."""
    have = [r for r in rows if np.isfinite(r.get(key, float("nan")))]
    points = sum(r["scored_points"] for r in have)
    hits = sum(r[key] * r["scored_points"] for r in have)
    return (hits / points if points else float("nan")), points


def coverage_interval(windows: list[list[int]], level: float = 0.9) -> tuple[float, float] | None:
    """The `level` bootstrap interval of a coverage pooled over windows `[hits, points]`,
    whole windows resampled (the steps of one window err together); None with fewer than 5."""
    w = np.asarray(windows, dtype=np.float64).reshape(-1, 2)
    w = w[w[:, 1] > 0]
    if len(w) < 5:
        return None
    draw = np.random.default_rng(0).integers(0, len(w), size=(2000, len(w)))
    cover = w[draw, 0].sum(axis=1) / w[draw, 1].sum(axis=1)
    low, high = np.quantile(cover, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def calibrated_chance(points: int, p: float = 0.8) -> float:
    """The chance that a band holding each of `points` actuals independently with probability
    `p` covers a share within CALIBRATED: the most an exactly calibrated band can hope for,
    as errors of one window, moving together, only widen the spread of its coverage."""
    from scipy.stats import binom

    if points <= 0:
        return float("nan")
    low = int(np.ceil(CALIBRATED[0] * points - 1e-9))
    high = int(np.floor(CALIBRATED[1] * points + 1e-9))
    return float(binom.cdf(high, points, p) - binom.cdf(low - 1, points, p))


@functools.cache  # the summary's line and its table ask for the same
def calibrated_walk_chance(windows: int, horizon: int, draws: int = 4000) -> float:
    """The chance that an exactly calibrated 80 % band lands within CALIBRATED over `windows`
    windows of `horizon` steps whose errors move together as multi-step errors do: naive
    forecasts of Gaussian random walks, the band +-z sqrt(h), a fixed seed."""
    if windows <= 0 or horizon <= 0:
        return float("nan")
    z = 1.2815515655446004  # the normal's 90 % quantile
    rng = np.random.default_rng(0)
    walks = rng.standard_normal((draws, windows, horizon)).cumsum(axis=2)
    cover = (np.abs(walks) <= z * np.sqrt(np.arange(1, horizon + 1))).mean(axis=(1, 2))
    return float(np.mean([_in_calibrated(c) for c in cover]))


def _in_calibrated(value: float) -> bool:
    return bool(np.isfinite(value)) and CALIBRATED[0] <= round(value, 3) <= CALIBRATED[1]


def calibration(rows: list[dict]) -> list[str]:
    """How many datasets (those with CALIBRATION_FOLDS folds or more, when any has) each
    forecaster's 80 % band covers within CALIBRATED, the chance an exactly calibrated band
    would manage it on all of them, and the coverages further from 0.80 than their noise."""
    asked = [r for r in rows if r.get("folds", 1) >= CALIBRATION_FOLDS]
    which = f"{len(asked)} datasets with {CALIBRATION_FOLDS} folds or more"
    if not asked:
        asked, which = rows, f"{len(rows)} datasets"
    low, high = CALIBRATED
    keys = [("coverage", "default"), ("lstm_coverage", "LSTM alone")]
    keys += [(f"{k}_coverage", k) for k in peer_models.PEERS if f"{k}_coverage" in asked[0]]
    counts = []
    for key, label in keys:
        have = [r[key] for r in asked if np.isfinite(r.get(key, float("nan")))]
        counts.append(f"{label} {sum(map(_in_calibrated, have))} of {len(have)}")
    chances = [calibrated_chance(r["scored_points"]) for r in asked]
    walks = [
        calibrated_walk_chance(len(r.get("coverage_windows", [])), r.get("horizon", 0))
        for r in asked
    ]
    off = []
    for r in asked:
        interval = coverage_interval(r.get("coverage_windows", []))
        if interval is not None and not interval[0] <= 0.8 <= interval[1]:
            off.append(f"{r['dataset']} {r['coverage']:.3f} [{interval[0]:.3f}, {interval[1]:.3f}]")
    walked = ""
    if all(np.isfinite(walks)):
        walked = (
            "; with errors that move together within a window (naive forecasts of random "
            f"walks, the same windows and horizons), on {sum(walks):.1f} on average, and on "
            f"all with probability {float(np.prod(walks)):.3f}"
        )
    return [
        f"- 80 % coverage within {low:.2f}-{high:.2f}, over {which}: " + ", ".join(counts),
        f"- An exactly calibrated band (each held-out point inside with probability 0.80, "
        f"independently: the most favourable case) would land within {low:.2f}-{high:.2f} on "
        f"{sum(chances):.1f} of these {len(asked)} datasets on average, and on all of them "
        f"with probability {float(np.prod(chances)):.3f}{walked}",
        "- Default coverage further from 0.80 than its noise (0.80 outside its 90 % interval, "
        "windows resampled): " + ("; ".join(off) or "none"),
    ]


def summary(rows: list[dict]) -> str:
    """Against the peers over all datasets, then per dataset against naive and the band's
    coverage, each flag named in the line it marks."""
    lines = ["## Summary", ""]
    run = [k for k in peer_models.PEERS if any(k in r.get("peers", ()) for r in rows)]
    for peer in run:
        for key, label in (("chosen", "default"), ("lstm", "LSTM alone")):
            gm, n = geometric_mean(
                [_ratio(r[f"{key}_mase"], r.get(f"{peer}_mase", np.nan)) for r in rows]
            )
            lines.append(
                f"- Geometric mean over {n} datasets of {label} MASE / {peer} MASE: {gm:.3f}"
                + (" (below 1: better than the peer)" if key == "chosen" else "")
            )
    if not run:
        lines.append(f"- Peers not run ({peer_models.MISSING.split(',')[0]}, or --no-peers).")
    failures = [f"{r['dataset']}: {f}" for r in rows for f in r.get("peer_failures", [])]
    if failures:
        lines.append(f"- Peer failures (scored as missing): {'; '.join(failures)}")
    for key, label in (
        ("coverage", "default"),
        ("lstm_coverage", "LSTM alone"),
        *((f"{k}_coverage", k) for k in run),
    ):
        cov, points = pooled(rows, key)
        lines.append(f"- Pooled 80 % coverage, {label}: {cov:.3f} over {points} held-out points")
    lines += calibration(rows)
    lines += [
        "",
        f"| dataset | default MASE | min(naive, s-naive) MASE | ratio | > {WORSE_THAN_NAIVE:.2f} "
        f"| default 80 % coverage | held-out points | coverage < {LOW_COVERAGE:.2f} "
        f"(≥ {MIN_POINTS_FOR_COVERAGE} points) | 90 % interval (windows resampled) "
        f"| chance within {CALIBRATED[0]:.2f}-{CALIBRATED[1]:.2f} if calibrated "
        "(independent points / random walks) |",
        "|---|---:|---:|---:|---|---:|---:|---|---|---:|",
    ]
    for r in rows:
        floor = min(r["naive_mase"], r["snaive_mase"])
        ratio = _ratio(r["chosen_mase"], floor)
        worse = "**FLAG**" if ratio > WORSE_THAN_NAIVE else ""
        low = r["scored_points"] >= MIN_POINTS_FOR_COVERAGE and r["coverage"] < LOW_COVERAGE
        interval = coverage_interval(r.get("coverage_windows", []))
        spread = "-" if interval is None else f"{interval[0]:.3f}-{interval[1]:.3f}"
        walk = calibrated_walk_chance(len(r.get("coverage_windows", [])), r.get("horizon", 0))
        walk = "-" if not np.isfinite(walk) else f"{walk:.2f}"
        lines.append(
            f"| {r['dataset']} | {r['chosen_mase']:.3f} | {floor:.3f} | {ratio:.3f} | {worse} "
            f"| {r['coverage']:.3f} | {r['scored_points']} | {'**FLAG**' if low else ''} "
            f"| {spread} | {calibrated_chance(r['scored_points']):.2f} / {walk} |"
        )
    return "\n".join(lines)


def pooled_coverage(rows: list[dict]) -> float:
    """Share of all scored actuals, over every dataset, inside the default's 80 % interval."""
    hits = sum(r["coverage"] * r["scored_points"] for r in rows)
    return hits / sum(r["scored_points"] for r in rows)


def details(rows: list[dict]) -> str:
    """What the defaults chose and how training ended, for diagnosing a loss."""
    lines = [
        "| dataset | season (tool / metric) | lookback | patch | epochs | steps | stopped by "
        "| validation: best baseline, LSTM skill vs it | validation coverage | train warnings |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        mdl = r["model"]
        warn = "; ".join(r["warnings"]) or "-"
        skill = "-" if r["val_skill"] is None else f"{r['val_skill']:+.3f}"
        cover = "-" if r["val_coverage"] is None else f"{r['val_coverage']:.3f}"
        lines.append(
            f"| {r['dataset']} | {mdl['season']} / {r['season']} | {mdl['lookback']} | {mdl['patch']} "
            f"| {r['epochs']} | {r['steps']} | {r['stop_reason']} | {r['val_best_baseline'] or '-'}, {skill} "
            f"| {cover} | {warn} |"
        )
    return "\n".join(lines)


def peer_version() -> str:
    try:
        return "statsforecast " + importlib.metadata.version("statsforecast")
    except importlib.metadata.PackageNotFoundError:
        return "statsforecast not installed"


def provenance(selected: list[Dataset]) -> str:
    versions = {}
    for pkg in ("statsmodels", "vega_datasets"):
        try:
            versions[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            versions[pkg] = "not installed"
    lines = ["| dataset | source | licence |", "|---|---|---|"]
    for d in selected:
        pkg = d.source.split()[0]
        src = f"{d.source}, {pkg} {versions[pkg]}" if pkg in versions else d.source
        lines.append(f"| {d.name} | {src} | {d.licence} |")
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


def commit() -> str:
    """HEAD, and the last commit that changed the product (lstmcast/) when that is older."""

    def git(*args: str) -> str:
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return out.stdout.strip() or "?"

    head, product = (
        git("rev-parse", "--short", "HEAD"),
        git("log", "-1", "--format=%h", "--", "lstmcast"),
    )
    return head if head == product else f"{head} (lstmcast/ as of {product})"


def report(
    rows: list[dict], selected: list[Dataset], command: str, failed: list[str], folds: int = 1
) -> str:
    parts = [
        "# Default settings on public datasets",
        "",
        f"Date {dt.date.today().isoformat()}, commit {commit()}, machine: {machine()}.",
        f"Command: `{command}`",
        "",
        "Protocol (see `benchmarks/datasets.py`): the last H steps of every series are held out;"
        " the CLI trains with default settings plus `--horizon H` on the rest and predicts H steps;"
        " MASE (scale: in-sample seasonal naive MAE, m = the dataset's season) and sMAPE are"
        " means over series; coverage is the share of test actuals inside the 80 % interval."
        " The best baseline is the best of seasonal naive, naive and drift on the test itself"
        " (a hindsight choice); the default forecasts each series by the method that won on it"
        " at validation (`model` column), the LSTM alone is `predict --fallback none`."
        " 'default vs best baseline' is the MASE ratio, bold above 1 (worse)."
        " Peers: statsforecast's AutoETS and AutoTheta (`season_length` = the dataset's"
        " season) fit on the same filled training part, same test steps and MASE scale;"
        f" their 80 % interval is level=[80] ({peer_version()}).",
        "",
        *(
            [
                f"Refit backtest over {folds} folds: the protocol runs once per origin, the"
                " latest at the end of the data and each earlier one a horizon before the"
                " next (the steps after an origin are never seen); MASE and sMAPE are means"
                " over folds, coverages pool every held-out point, 'series' counts each"
                " series once per fold and 'train s' sums the folds.",
                "",
            ]
            if folds > 1
            else []
        ),
        table(rows),
        "",
        f"Pooled 80 % coverage of the default forecast: {pooled_coverage(rows):.3f}"
        if rows
        else "",
        "",
        summary(rows) if rows else "",
        "",
        details(rows),
        "",
        provenance(selected),
    ]
    if failed:
        parts += ["", "Not run: " + "; ".join(failed)]
    return "\n".join(parts) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated dataset names (see --list)")
    parser.add_argument("--time-budget", type=float, default=None, help="passed to train")
    parser.add_argument("--output", type=Path, default=None, help="markdown file to write")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON")
    parser.add_argument("--no-peers", action="store_true", help="leave AutoETS and Theta out")
    parser.add_argument("--list", action="store_true", help="list the datasets and exit")
    parser.add_argument(
        "--folds",
        type=int,
        default=1,
        help="refit backtest: origins a horizon apart, each trained from scratch on its past",
    )
    args = parser.parse_args()
    if args.folds < 1:
        parser.error("--folds must be at least 1")
    with_peers = not args.no_peers and peer_models.available()
    if not args.no_peers and not with_peers:
        print(peer_models.MISSING, file=sys.stderr)
    if args.list:
        for d in DATASETS:
            print(f"{d.name:<18}{d.grid:<8}H={d.horizon:<4}{d.source}")
        return 0
    selected = DATASETS
    if args.only:
        names = [n.strip() for n in args.only.split(",")]
        unknown = sorted(set(names) - {d.name for d in DATASETS})
        if unknown:
            parser.error(f"unknown dataset(s) {', '.join(unknown)}; --list shows the names")
        selected = [d for d in DATASETS if d.name in names]
    output = args.output or (None if args.only else DEFAULT_OUTPUT)

    rows, failed = [], []
    for d in selected:
        print(f"{d.name} ...", file=sys.stderr, flush=True)
        try:
            folds = [evaluate(d, args.time_budget, with_peers)]
            for k in range(1, args.folds):  # earlier origins, while the data reaches back
                try:
                    folds.append(evaluate(d, args.time_budget, with_peers, before=k * d.horizon))
                except (RuntimeError, ValueError) as exc:
                    print(f"  fold {k + 1} not run: {exc}", file=sys.stderr)
                    break
            rows.append({**combine_folds(folds), "asked_folds": args.folds})
        except ModuleNotFoundError as exc:
            failed.append(f"{d.name} ({exc.name} not installed: pip install -e '.[bench]')")
        except (RuntimeError, ValueError) as exc:
            failed.append(f"{d.name} ({exc})")
        if failed and failed[-1].startswith(d.name):
            print(f"  not run: {failed[-1]}", file=sys.stderr)
    command = "python benchmarks/datasets.py " + shlex.join(sys.argv[1:])
    text = report(rows, selected, command.strip(), failed, args.folds)
    print(text)
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    if output is not None:
        notes = ""
        if output.exists():
            old = output.read_text(encoding="utf-8")
            notes = old[old.index(NOTES_HEADING) :] if NOTES_HEADING in old else ""
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text + ("\n" + notes if notes else ""), encoding="utf-8")
        print(f"written to {output}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
