"""What a known-ahead covariate buys: default settings with and without `--covariates promo`.

Usage: python benchmarks/covariates_synthetic.py [--series N] [--time-budget S] [--seed N]

Hourly series with a daily cycle, noise, and promotions on random hours (10 %) that lift
the value by 30 % of the series' level. Both models train through `lstmcast.api.train` on
all but the last 48 hours, then forecast those 48 hours with `lstmcast.api.predict`; the
file given to predict carries the 48 promotion flags in rows with an empty target. Scores
are sMAPE and MASE (m = 24) of the median against the held-out values, beside seasonal
naive.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from lstmcast import api, metrics
from lstmcast.config import DataSpec, ModelConfig, TrainConfig
from lstmcast.methods import seasonal_naive

HORIZON, SEASON = 48, 24


def make(series: int, length: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for k in range(series):
        ds = pd.date_range("2024-01-01", periods=length, freq="h")
        level = rng.uniform(20, 200)
        daily = np.sin(2 * np.pi * (ds.hour.to_numpy() + rng.integers(24)) / 24)
        promo = (rng.random(length) < 0.1).astype(int)
        y = level * (1 + 0.2 * daily + 0.3 * promo + rng.normal(0, 0.05, length))
        parts.append(pd.DataFrame({"unique_id": f"S{k}", "ds": ds, "y": y, "promo": promo}))
    return pd.concat(parts, ignore_index=True)


def score(forecast: pd.DataFrame, truth: pd.DataFrame, train: pd.DataFrame) -> tuple[float, float]:
    smape, mase = [], []
    for uid, part in truth.groupby("unique_id", sort=False):
        actual = part["y"].to_numpy()
        pred = forecast.loc[forecast["unique_id"] == uid, "yhat"].to_numpy(dtype=np.float64)
        history = train.loc[train["unique_id"] == uid, "y"].to_numpy()
        smape.append(metrics.smape(actual[None], pred[None])[0])
        mase.append(metrics.mase(actual[None], pred[None], np.array([metrics.mase_scale(history, SEASON)]))[0])  # fmt: skip
    return float(np.mean(smape)), float(np.mean(mase))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=50)
    parser.add_argument("--length", type=int, default=1500)
    parser.add_argument("--time-budget", type=float, default=120.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    frame = make(args.series, args.length, args.seed)
    last = frame.groupby("unique_id")["ds"].transform("max") - pd.Timedelta(hours=HORIZON)
    train, truth = frame[frame["ds"] <= last], frame[frame["ds"] > last]
    with_future = pd.concat([train, truth.assign(y=np.nan)]).sort_values(["unique_id", "ds"])
    naive = pd.concat(
        [
            pd.DataFrame(
                {
                    "unique_id": uid,
                    "yhat": seasonal_naive.forecast(part["y"].to_numpy(), HORIZON, SEASON),
                }
            )  # fmt: skip
            for uid, part in train.groupby("unique_id", sort=False)
        ]
    )
    rows = [("seasonal naive", *score(naive, truth, train), 0.0, 0)]
    with tempfile.TemporaryDirectory() as tmp:
        data, future = Path(tmp, "train.csv"), Path(tmp, "future.csv")
        train.to_csv(data, index=False)
        with_future.to_csv(future, index=False)
        for name, covariates in (("lstm", ()), ("lstm --covariates promo", ("promo",))):
            model = Path(tmp, "m.lstmcast")
            started = time.perf_counter()
            summary = api.train(
                data,
                model,
                DataSpec(covariates=covariates),
                ModelConfig(horizon=HORIZON),
                TrainConfig(time_budget=args.time_budget, seed=args.seed, device="cpu"),
            )
            seconds = time.perf_counter() - started
            source = future if covariates else data
            forecast = api.predict(model, source, HORIZON).forecast
            rows.append((name, *score(forecast, truth, train), seconds, summary.steps))
    print(f"{'method':<26}{'sMAPE':>8}{'MASE':>8}{'train s':>9}{'steps':>7}")
    for name, smape, mase, seconds, steps in rows:
        print(f"{name:<26}{smape:>8.3f}{mase:>8.3f}{seconds:>9.0f}{steps:>7}")


if __name__ == "__main__":
    main()
