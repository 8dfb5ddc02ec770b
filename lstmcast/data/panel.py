"""`Panel`: the validated dataset every module takes, the last step of loading (lstmcast.data.load)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lstmcast.data.columns import ColumnRoles
from lstmcast.data.freq import describe_freq, grid_ordinals, season_length
from lstmcast.text import time_text

__all__ = ["Panel", "columns_summary"]


@dataclass
class Panel:
    """Every series on one regular grid: a flat float32 array with per-series offsets.

    Series i is `values[offsets[i]:offsets[i + 1]]`, observed at `first[i]`, `first[i] + 1
    step`, …, `last[i]` on the `freq` grid. Missing steps have already been filled.
    """

    ids: np.ndarray  # (S,) str
    values: np.ndarray  # (N,) float32, all series back to back
    offsets: np.ndarray  # (S + 1,) int64
    first: np.ndarray  # (S,) datetime64[ns]
    last: np.ndarray  # (S,) datetime64[ns]
    freq: str
    columns: ColumnRoles  # what each used column of the file is
    filled: int = 0
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what inspect tells besides the warnings
    source_columns: tuple[str, ...] = ()  # every column of the file read, used or not
    # (N, C) float32 beside `values`: columns.covariates then columns.past_covariates, gaps
    # filled. None without covariates (see lstmcast.data.covariates).
    covariates: np.ndarray | None = None
    # (S, F, len(columns.covariates)) float32: known values of the F steps after each
    # series' last target; NaN where the file gave none.
    future: np.ndarray | None = None
    date_format: str | None = None  # the one format the text time column was read with

    @property
    def n_series(self) -> int:
        return len(self.ids)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @property
    def season(self) -> int:
        return season_length(self.freq)

    def phases(self, periods: tuple[float, ...]) -> np.ndarray:
        """Position of each series' first step in each cycle: (S, K) floats in [0, period).

        For hourly data and period 24 that is the hour of day; for daily data and period 7
        the weekday; for monthly data and period 12 the month (see freq.calendar_periods).
        """
        ordinal, _ = grid_ordinals(self.first, self.freq)
        periods_ = np.maximum(np.asarray(periods, dtype=np.float64), 1.0)
        return np.mod(ordinal[:, None].astype(np.float64), periods_[None, :])

    def series(self, i: int) -> np.ndarray:
        return self.values[self.offsets[i] : self.offsets[i + 1]]

    def head(self, lengths: np.ndarray) -> Panel:
        """A panel with each series cut to its first `lengths[i]` steps (a backtest's past)."""
        lengths = np.minimum(np.asarray(lengths, dtype=np.int64), self.lengths)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        idx = np.repeat(self.offsets[:-1] - offsets[:-1], lengths) + np.arange(offsets[-1])
        step = pd.tseries.frequencies.to_offset(self.freq)
        last = np.array(
            [pd.Timestamp(f) + (n - 1) * step for f, n in zip(self.first, lengths, strict=True)],
            dtype="datetime64[ns]",
        )
        covariates = None if self.covariates is None else self.covariates[idx]
        return dataclasses.replace(
            self, values=self.values[idx], offsets=offsets, last=last, warnings=list(self.warnings),
            covariates=covariates, future=None,
        )  # fmt: skip

    def to_frame(self) -> pd.DataFrame:
        """The panel as a long `unique_id, ds, y` table on its regular grid."""
        parts = [
            pd.DataFrame(
                {
                    "unique_id": self.ids[i],
                    "ds": pd.date_range(self.first[i], periods=n, freq=self.freq),
                    "y": self.series(i),
                }
            )
            for i, n in enumerate(self.lengths)
        ]
        return pd.concat(parts, ignore_index=True)

    def summary(self) -> dict:
        """What was detected, as plain data for tables and JSON."""
        lengths = self.lengths
        # ISO 8601 as in outputs; dates only when every series starts and ends at midnight.
        ends = np.concatenate([[self.first.min(), self.last.max()], self.first, self.last])
        first_last = time_text(ends)[:2]
        return {
            "layout": self.columns.layout,
            "columns": columns_summary(self.columns),
            "frequency": self.freq,
            "frequency_name": describe_freq(self.freq),
            "season_length": self.season,
            "series": self.n_series,
            "rows": int(lengths.sum()),
            "length": {
                "min": int(lengths.min()),
                "median": float(np.median(lengths)),
                "max": int(lengths.max()),
            },
            "first_timestamp": first_last[0],
            "last_timestamp": first_last[1],
            "values_filled": int(self.filled),
            "warnings": list(self.warnings),
            "notes": list(self.notes),
        }


def columns_summary(cols: ColumnRoles) -> dict:
    """What each used column is, as plain data (inspect's `columns`)."""
    return {
        "time": cols.time_col,
        "target": list(cols.targets),
        "id": cols.id_col,
        **_covariate_summary(cols),
    }


def _covariate_summary(cols: ColumnRoles) -> dict:
    if not (cols.covariates or cols.past_covariates):
        return {}
    return {"covariates": list(cols.covariates), "past_covariates": list(cols.past_covariates)}
