"""Property tests: any valid panel, rendered as long, single or wide (and through a CSV file),
comes back from load as the same Panel."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from lstmcast.config import ID_ALIASES, DataSpec
from lstmcast.data.columns import PRICE_COLUMNS, TARGET_ALIASES, TIME_ALIASES
from lstmcast.data.io import read_table
from lstmcast.data.load import load

# Property tests: many random tables each.
pytestmark = pytest.mark.slow

SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# Frequency → shortest series that still shows it: six business days always hold a
# Friday → Monday step, without which a business-day series is indistinguishable from daily.
MIN_LENGTH = {"h": 3, "15min": 3, "D": 3, "B": 6, "W-SUN": 3, "MS": 3, "QE-DEC": 3}
GRID_START = "2019-12-30"  # a Monday; date_range snaps it onto each calendar anchor

# Ids that would change what is inferred or that pandas would read as something else
# (a missing value, a boolean, a number) are not "valid panels"; they have their own tests.
RESERVED = {
    *ID_ALIASES, *TIME_ALIASES, *TARGET_ALIASES, *PRICE_COLUMNS, "unique_id", "ds", "y",
    "na", "nan", "null", "none", "inf", "infinity", "true", "false",
}  # fmt: skip
series_ids = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,5}", fullmatch=True).filter(
    lambda s: s.lower() not in RESERVED
)
values = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@dataclass
class Case:
    freq: str
    ids: list[str]
    times: list[pd.DatetimeIndex]
    values: list[np.ndarray]


@st.composite
def cases(
    draw, min_series: int = 1, max_series: int = 4, aligned: bool = False, freqs=tuple(MIN_LENGTH)
) -> Case:
    freq = draw(st.sampled_from(sorted(freqs)))
    n = draw(st.integers(min_series, max_series))
    ids = draw(st.lists(series_ids, min_size=n, max_size=n, unique_by=str.lower))
    grid = pd.date_range(GRID_START, periods=90, freq=freq)
    if aligned:
        start, length = draw(st.integers(0, 20)), draw(st.integers(MIN_LENGTH[freq], 60))
        spans = [(start, length)] * n
    else:
        spans = [
            (draw(st.integers(0, 20)), draw(st.integers(MIN_LENGTH[freq], 60))) for _ in range(n)
        ]
    times = [grid[s : s + length] for s, length in spans]
    ys = [np.array(draw(st.lists(values, min_size=len(t), max_size=len(t)))) for t in times]
    return Case(freq, ids, times, ys)


def long_frame(case: Case) -> pd.DataFrame:
    return pd.concat(
        [
            pd.DataFrame({"unique_id": i, "ds": t, "y": y})
            for i, t, y in zip(case.ids, case.times, case.values, strict=True)
        ],
        ignore_index=True,
    )


def wide_frame(case: Case) -> pd.DataFrame:
    """Time plus one column per series (also the single layout when there is one series)."""
    return pd.DataFrame(
        {"ds": case.times[0], **dict(zip(case.ids, case.values, strict=True))}
    ).reset_index(drop=True)


def assert_panel(panel, case: Case, ids_in_order: list[str]) -> None:
    """The panel holds exactly the case's series, in `ids_in_order`."""
    assert panel.ids.tolist() == ids_in_order
    assert panel.freq == case.freq
    assert panel.filled == 0
    assert panel.warnings == []
    by_id = {i: k for k, i in enumerate(case.ids)}
    for s, sid in enumerate(ids_in_order):
        k = by_id[sid]
        np.testing.assert_array_equal(panel.series(s), case.values[k].astype(np.float32))
        assert pd.Timestamp(panel.first[s]) == case.times[k][0]
        assert pd.Timestamp(panel.last[s]) == case.times[k][-1]
    assert panel.values.dtype == np.float32
    assert panel.offsets[-1] == sum(len(t) for t in case.times)


def write(df: pd.DataFrame, path, sep: str):
    df.to_csv(path, index=False, sep=sep, decimal="," if sep == ";" else ".")
    return path


seps = st.sampled_from([",", ";", "\t"])


@SETTINGS
@given(case=cases(), order=st.randoms(use_true_random=False))
def test_long_frame_in_any_row_order(case, order):
    df = long_frame(case)
    rows = list(range(len(df)))
    order.shuffle(rows)
    shuffled = df.iloc[rows].reset_index(drop=True)
    panel = load(shuffled)
    assert panel.columns.layout == "long"
    # Series keep the order in which their ids first appear in the file.
    assert_panel(panel, case, list(pd.unique(shuffled["unique_id"])))


@SETTINGS
@given(case=cases(max_series=1))
def test_single_series(case):
    panel = load(wide_frame(case))
    assert panel.columns.layout == "single"
    assert panel.columns.targets == (case.ids[0],)
    assert_panel(panel, case, case.ids)


@SETTINGS
@given(case=cases(min_series=2, aligned=True))
def test_wide_frame(case):
    panel = load(wide_frame(case))
    assert panel.columns.layout == "wide"
    assert_panel(panel, case, case.ids)  # column order


@SETTINGS
@given(case=cases(min_series=2, aligned=True))
def test_long_and_wide_give_the_same_panel(case):
    a, b = load(long_frame(case)), load(wide_frame(case))
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.offsets, b.offsets)
    np.testing.assert_array_equal(a.first, b.first)
    np.testing.assert_array_equal(a.last, b.last)
    assert a.ids.tolist() == b.ids.tolist()


@SETTINGS
@given(case=cases(), order=st.randoms(use_true_random=False), sep=seps)
def test_long_csv_round_trip(tmp_path_factory, case, order, sep):
    df = long_frame(case)
    rows = list(range(len(df)))
    order.shuffle(rows)
    df = df.iloc[rows]
    path = write(df, tmp_path_factory.mktemp("long") / "data.csv", sep)
    panel = load(read_table(path))
    assert_panel(panel, case, list(pd.unique(df["unique_id"])))


@SETTINGS
@given(case=cases(), order=st.randoms(use_true_random=False))
def test_long_parquet_round_trip_compact(tmp_path_factory, case, order):
    df = long_frame(case)
    rows = list(range(len(df)))
    order.shuffle(rows)
    df = df.iloc[rows]
    path = tmp_path_factory.mktemp("long") / "data.parquet"
    df.to_parquet(path, index=False, engine="pyarrow")
    panel = load(read_table(path, compact=True))
    assert_panel(panel, case, list(pd.unique(df["unique_id"])))


@SETTINGS
@given(case=cases(aligned=True), sep=seps)
def test_single_and_wide_csv_round_trip(tmp_path_factory, case, sep):
    path = write(wide_frame(case), tmp_path_factory.mktemp("wide") / "data.csv", sep)
    panel = load(read_table(path))
    assert panel.columns.layout == ("single" if len(case.ids) == 1 else "wide")
    assert_panel(panel, case, case.ids)


@SETTINGS
@given(
    case=cases(max_series=1),
    holes=st.sets(st.integers(1, 58), max_size=12),
)
def test_isolated_holes_are_filled_by_interpolation(case, holes):
    t, y = case.times[0], case.values[0]
    holes = sorted(h for h in holes if h < len(t) - 1)
    holes = [h for k, h in enumerate(holes) if k == 0 or holes[k - 1] != h - 1]  # isolated
    keep = np.setdiff1d(np.arange(len(t)), holes)
    assume(len(keep) >= 3 and len(holes) * 2 <= len(t))  # else: too short / mostly missing
    df = pd.DataFrame({"ds": t[keep], case.ids[0]: y[keep]})
    # The frequency is given: enough holes make two steps the most common gap, which is then
    # a fair reading of the data (the inference itself is tested on complete series above).
    panel = load(df, DataSpec(freq=case.freq))
    assert (panel.freq, panel.lengths.tolist(), panel.filled) == (case.freq, [len(t)], len(holes))
    got = panel.series(0)
    np.testing.assert_array_equal(got[keep], y[keep].astype(np.float32))
    for h in holes:  # each hole sits between two kept values: their midpoint
        expected = np.float32((y[h - 1] + y[h + 1]) / 2)
        np.testing.assert_allclose(got[h], expected, rtol=1e-6, atol=1e-3)
