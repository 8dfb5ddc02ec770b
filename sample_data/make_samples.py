"""Generate the synthetic sample files in this folder (deterministic: numpy seed 20261128).

Run from the repository root:

    python sample_data/make_samples.py

Files written next to this script:

- prices.csv: ``Date,Close``, a daily stock-price-like geometric random walk (start near 100,
  mild drift, about 1.5 % daily volatility) on US market trading days 2022-01-03 .. 2024-12-31:
  weekends and the main NYSE holidays are absent.
- prices_ohlcv.csv: the same days and Close with ``Date,Open,High,Low,Close,Volume``.
- stores.csv: ``unique_id,ds,y``, hourly visitors of six stores (about 8 weeks each) with daily
  and weekly cycles, levels from about 20 to about 2,000, staggered starts and unequal lengths.
- stores.parquet: exactly the same data as stores.csv (ds timestamp, y float64, unique_id string).

Re-running the script rewrites byte-identical CSV files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pandas.tseries.holiday import (
    AbstractHolidayCalendar,
    GoodFriday,
    Holiday,
    USLaborDay,
    USMartinLutherKingJr,
    USMemorialDay,
    USPresidentsDay,
    USThanksgivingDay,
    nearest_workday,
    sunday_to_monday,
)

HERE = Path(__file__).resolve().parent
SEED = 20261128


class USMarketHolidays(AbstractHolidayCalendar):
    """The regular NYSE full-day holidays (weekend dates moved to the nearest weekday)."""

    rules = [
        Holiday("New Year's Day", month=1, day=1, observance=sunday_to_monday),
        USMartinLutherKingJr,
        USPresidentsDay,
        GoodFriday,
        USMemorialDay,
        Holiday("Juneteenth", month=6, day=19, start_date="2022-01-01", observance=nearest_workday),
        Holiday("Independence Day", month=7, day=4, observance=nearest_workday),
        USLaborDay,
        USThanksgivingDay,
        Holiday("Christmas Day", month=12, day=25, observance=nearest_workday),
    ]


def make_prices(rng: np.random.Generator) -> pd.DataFrame:
    """Daily OHLCV bars on trading days; Low <= Open, Close <= High after rounding."""
    trading_day = pd.offsets.CustomBusinessDay(calendar=USMarketHolidays())
    days = pd.date_range("2022-01-03", "2024-12-31", freq=trading_day)
    n = len(days)
    close = (100 * np.exp(np.cumsum(rng.normal(0.0003, 0.015, n)))).round(2)
    previous_close = np.r_[100.0, close[:-1]]
    open_ = (previous_close * np.exp(rng.normal(0, 0.004, n))).round(2)
    body_top, body_bottom = np.maximum(open_, close), np.minimum(open_, close)
    high = np.maximum((body_top * (1 + np.abs(rng.normal(0, 0.007, n)))).round(2), body_top)
    low = np.minimum((body_bottom * (1 - np.abs(rng.normal(0, 0.007, n)))).round(2), body_bottom)
    volume = rng.lognormal(14, 0.35, n).round().astype(np.int64)
    return pd.DataFrame(
        {"Date": days, "Open": open_, "High": high, "Low": low, "Close": close, "Volume": volume}
    )


# name, level, weekend factor, daily trend (log), first day
STORES = [
    ("store_A", 1800.0, 0.80, 0.0, "2024-03-04"),
    ("store_B", 420.0, 0.60, 0.002, "2024-03-06"),
    ("store_C", 95.0, 1.40, 0.0, "2024-03-08"),
    ("store_D", 22.0, 0.80, -0.001, "2024-03-11"),
    ("store_E", 650.0, 1.25, 0.001, "2024-03-13"),
    ("store_F", 160.0, 0.45, 0.0, "2024-03-15"),
]


def make_stores(rng: np.random.Generator) -> pd.DataFrame:
    """Six hourly series in long format: quiet nights, a midday and an evening peak."""
    frames = []
    for name, level, weekend_factor, trend, first_day in STORES:
        start = pd.Timestamp(first_day) + pd.Timedelta(hours=int(rng.integers(0, 24)))
        n = 8 * 7 * 24 - int(rng.integers(0, 72))
        ds = pd.date_range(start, periods=n, freq="h")
        hour = ds.hour.to_numpy() + rng.normal(0, 0.3)  # each store peaks a little differently
        daily = 0.12 + np.exp(-((hour - 12.5) ** 2) / 18) + 0.6 * np.exp(-((hour - 18) ** 2) / 6)
        weekly = np.where(ds.day_of_week.to_numpy() >= 5, weekend_factor, 1.0)
        growth = np.exp(trend * np.arange(n) / 24)
        noise = rng.lognormal(0, 0.08, n)
        y = np.clip(level * daily * weekly * growth * noise, 0, None).round(1)
        frames.append(pd.DataFrame({"unique_id": name, "ds": ds, "y": y}))
    return pd.concat(frames, ignore_index=True)


def main() -> None:
    rng = np.random.default_rng(SEED)
    csv = {"index": False, "lineterminator": "\n"}
    ohlcv = make_prices(rng)
    ohlcv.to_csv(HERE / "prices_ohlcv.csv", float_format="%.2f", date_format="%Y-%m-%d", **csv)
    prices = ohlcv[["Date", "Close"]]
    prices.to_csv(HERE / "prices.csv", float_format="%.2f", date_format="%Y-%m-%d", **csv)

    stores = make_stores(rng)
    stores.to_csv(HERE / "stores.csv", float_format="%.1f", date_format="%Y-%m-%d %H:%M:%S", **csv)
    schema = pa.schema(
        [("unique_id", pa.string()), ("ds", pa.timestamp("us")), ("y", pa.float64())]
    )
    table = pa.Table.from_pandas(stores, schema=schema, preserve_index=False)
    pq.write_table(table, HERE / "stores.parquet")


if __name__ == "__main__":
    main()
