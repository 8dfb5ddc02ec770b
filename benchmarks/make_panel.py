"""Write a synthetic hourly panel in long format (unique_id, ds, y) as Parquet, streamed.

Usage: python benchmarks/make_panel.py --rows 10_000_000 --series 10_000 --out /tmp/panel.parquet

An --out name ending in .csv writes CSV instead, in the same batches.

Each row group holds a batch of whole series, so memory stays at one batch however large
the panel. The series look like real demand data: levels spread over five orders of
magnitude (log-uniform 1 to 100,000), a daily and a weekly cycle of random strength and
phase, a gentle trend, multiplicative noise, and about 3 % of series starting later (so
shorter) than the others. All series end at the same hour. Same options, same file.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

START = np.datetime64("2024-01-01T00:00", "ns")
HOUR_NS = 3_600 * 10**9
GROUP_ROWS = 200_000  # rows per row group (whole series): the memory the generator needs
LATE_SHARE = 0.03  # series that start later than the others
MIN_LATE_LENGTH = 0.3  # a late series keeps at least this share of the full length
SCHEMA = pa.schema([("unique_id", pa.string()), ("ds", pa.timestamp("ns")), ("y", pa.float64())])
CSV_SCHEMA = SCHEMA.set(1, pa.field("ds", pa.timestamp("s")))  # "2024-01-01 00:00:00"


def series_lengths(n_series: int, points: int, rng: np.random.Generator) -> np.ndarray:
    """Full length for most series; a few late starters keep 30-95 % of it."""
    lengths = np.full(n_series, points, dtype=np.int64)
    late = rng.random(n_series) < LATE_SHARE
    lengths[late] = (points * rng.uniform(MIN_LATE_LENGTH, 0.95, int(late.sum()))).astype(np.int64)
    return np.maximum(lengths, 1)


def batch_values(lengths: np.ndarray, points: int, rng: np.random.Generator) -> np.ndarray:
    """Values of a batch of series, back to back, each ending at the panel's last hour."""
    n = len(lengths)
    hour = np.arange(points)  # position on the common grid; series i starts at points - len
    level = 10 ** rng.uniform(0, 5, n)  # 1 to 100,000
    daily = rng.uniform(0.05, 0.6, n)  # amplitude as a share of the level
    weekly = rng.uniform(0.0, 0.3, n)
    phase_d = rng.uniform(0, 2 * np.pi, n)
    phase_w = rng.uniform(0, 2 * np.pi, n)
    trend = rng.normal(0, 0.3, n) / points  # up to about ±30 % over the whole span
    noise = rng.uniform(0.02, 0.15, n)
    t = hour[None, :]
    shape = (
        1
        + daily[:, None] * np.sin(2 * np.pi * t / 24 + phase_d[:, None])
        + 0.3 * daily[:, None] * np.sin(4 * np.pi * t / 24 + 2 * phase_d[:, None])
        + weekly[:, None] * np.sin(2 * np.pi * t / 168 + phase_w[:, None])
        + trend[:, None] * t
    )
    y = (
        level[:, None]
        * np.maximum(shape, 0.05)
        * (1 + noise[:, None] * rng.standard_normal((n, points)))
    )
    keep = hour[None, :] >= (points - lengths)[:, None]  # late starters: drop their first hours
    return np.round(y[keep], 3)


def write_panel(path: Path, rows: int, n_series: int, seed: int = 0) -> int:
    """Stream the panel to `path` in row groups of whole series; returns the rows written."""
    points = rows // n_series
    if points < 1:
        raise SystemExit(f"--rows {rows} gives fewer than one point for each of {n_series} series")
    batch = max(1, GROUP_ROWS // points)
    rng = np.random.default_rng(seed)
    lengths = series_lengths(n_series, points, rng)
    width = len(str(n_series - 1))
    written = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    csv = path.suffix.lower() == ".csv"
    schema = CSV_SCHEMA if csv else SCHEMA
    with (
        pacsv.CSVWriter(path, schema)
        if csv
        else pq.ParquetWriter(path, schema, compression="snappy")
    ) as writer:
        for lo in range(0, n_series, batch):
            lens = lengths[lo : lo + batch]
            ids = np.array([f"S{i:0{width}d}" for i in range(lo, lo + len(lens))])
            # Hours from the panel's start: series i covers the last lens[i] of `points` hours.
            offset = np.repeat(points - lens, lens) + _ranges(lens)
            table = pa.table(
                {
                    "unique_id": pa.array(np.repeat(ids, lens)),
                    "ds": pa.array(START + offset * np.timedelta64(HOUR_NS, "ns")),
                    "y": pa.array(batch_values(lens, points, rng)),
                }
            ).cast(schema)
            writer.write_table(table)
            written += table.num_rows
    return written


def _ranges(lengths: np.ndarray) -> np.ndarray:
    """0..n-1 for each n in `lengths`, concatenated."""
    ends = np.cumsum(lengths)
    return np.arange(ends[-1]) - np.repeat(ends - lengths, lengths)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows before late starts")
    parser.add_argument("--series", type=int, default=1_000)
    parser.add_argument(
        "--out", type=Path, required=True, help="the .parquet (or .csv) file to write"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started = time.perf_counter()
    written = write_panel(args.out, args.rows, args.series, args.seed)
    print(
        f"wrote {written:,} rows ({args.series:,} series) to {args.out} "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
