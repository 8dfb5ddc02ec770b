"""Generate the sample files in this folder (synthetic, deterministic: seed 20261128).

    python sample_data/make_samples.py

prices.csv / prices_ohlcv.csv: a stock-price-like random walk on US market business days
(weekends and the main NYSE holidays absent). stores.csv / stores.parquet: hourly visitors of
six stores with daily and weekly cycles, different scales and staggered starts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
SEED = 20261128


def us_market_holidays(years: range) -> set[pd.Timestamp]:
    """New Year, MLK, Presidents, Good Friday, Memorial, Juneteenth, July 4, Labor, Thanksgiving, Christmas."""
    from pandas.tseries.holiday import (
        GoodFriday,
        USLaborDay,
        USMartinLutherKingJr,
        USMemorialDay,
        USPresidentsDay,
        USThanksgivingDay,
        nearest_workday,
    )

    days = set()
    for year in years:
        start, end = f"{year}-01-01", f"{year}-12-31"
        for rule in (USMartinLutherKingJr, USPresidentsDay, GoodFriday, USMemorialDay, USLaborDay, USThanksgivingDay):
            days.update(rule.dates(start, end))
        fixed = [(1, 1), (7, 4), (12, 25)] + ([(6, 19)] if year >= 2022 else [])
        days.update(nearest_workday(pd.Timestamp(year, m, d)) for m, d in fixed)
    return days


def prices(rng: np.random.Generator) -> pd.DataFrame:
    days = pd.bdate_range("2022-01-03", "2024-12-31")
    days = days[~days.isin(list(us_market_holidays(range(2022, 2025))))]
    returns = rng.normal(0.0003, 0.015, len(days))
    close = 100 * np.exp(np.cumsum(returns))
    open_ = np.r_[100.0, close[:-1]] * np.exp(rng.normal(0, 0.004, len(days)))
    spread = np.abs(rng.normal(0, 0.008, len(days)))
    high = np.maximum(open_, close) * (1 + spread)
    low = np.minimum(open_, close) * (1 - spread * rng.uniform(0.5, 1.0, len(days)))
    volume = rng.lognormal(14, 0.35, len(days)).astype(np.int64)
    return pd.DataFrame(
        {"Date": days.strftime("%Y-%m-%d"), "Open": open_.round(2), "High": high.round(2), "Low": low.round(2),
         "Close": close.round(2), "Volume": volume}
    )  # fmt: skip


def stores(rng: np.random.Generator) -> pd.DataFrame:
    """Six hourly series: a daily profile, weekends differ, levels from ~20 to ~2,000."""
    hour = np.arange(24)
    day_shape = 0.15 + np.exp(-((hour - 12.5) ** 2) / 18) + 0.6 * np.exp(-((hour - 18) ** 2) / 6)
    parts = []
    specs = [("store_A", 1800, 1.0, 0.0), ("store_B", 420, 0.6, 0.002), ("store_C", 95, 1.4, 0.0),
             ("store_D", 22, 0.8, -0.001), ("store_E", 650, 1.2, 0.001), ("store_F", 160, 0.4, 0.0)]  # fmt: skip
    for k, (name, level, weekend, trend) in enumerate(specs):
        start = pd.Timestamp("2024-03-04") + pd.Timedelta(days=2 * k, hours=int(rng.integers(0, 24)))
        n = 24 * 7 * 5 - int(rng.integers(0, 48))
        ds = pd.date_range(start, periods=n, freq="h")
        is_weekend = ds.day_of_week.to_numpy() >= 5
        profile = day_shape[ds.hour.to_numpy()] * np.where(is_weekend, weekend, 1.0)
        growth = np.exp(trend * np.arange(n) / 24)
        noise = rng.lognormal(0, 0.08, n)
        y = np.maximum(level * profile * growth * noise, 0).round(1)
        parts.append(pd.DataFrame({"unique_id": name, "ds": ds, "y": y}))
    return pd.concat(parts, ignore_index=True)


def main() -> None:
    rng = np.random.default_rng(SEED)
    ohlcv = prices(rng)
    ohlcv[["Date", "Close"]].to_csv(HERE / "prices.csv", index=False, lineterminator="\n")
    ohlcv.to_csv(HERE / "prices_ohlcv.csv", index=False, lineterminator="\n")
    frame = stores(rng)
    frame.to_csv(HERE / "stores.csv", index=False, lineterminator="\n", date_format="%Y-%m-%d %H:%M:%S")
    frame.astype({"unique_id": "string"}).to_parquet(HERE / "stores.parquet", index=False, engine="pyarrow")


if __name__ == "__main__":
    main()
