"""How values are written (lstmcast.text), and that the commands write them so: ISO 8601
timestamps, singular and plural counts, JSON floats as the shortest text of their float32 value."""

import json

import numpy as np
import pandas as pd
from helpers import invoke

from lstmcast.text import json_float, json_numbers, plural, timestamp


def test_timestamp_is_iso_8601():
    assert timestamp("2024-05-07 19:00:00") == "2024-05-07T19:00:00"
    assert timestamp(pd.Timestamp("2024-05-07")) == "2024-05-07"
    assert timestamp(np.datetime64("2024-05-07T19:00:00.250")) == "2024-05-07T19:00:00.250"


def test_plural_is_singular_for_one():
    assert plural(1, "held-out window") == "1 held-out window"
    assert plural(0, "duplicate") == "0 duplicates"
    assert plural(1200, "row") == "1,200 rows"
    assert plural(2, "process", "processes") == "2 processes"
    assert plural(9.0, "window") == "9 windows" and plural(2.5, "fold") == "2.5 folds"


def test_json_floats_are_the_shortest_text_of_their_float32_value():
    assert json_float(788.8986206054688) == 788.8986
    assert json.dumps(json_float(float(np.float32(0.1)))) == "0.1"
    assert json_float(float("nan")) is None and json_float(float("inf")) is None
    assert list(json_numbers([1e300, 3.0, np.nan])) == ["1e+300", "3", "null"]
    x = np.random.default_rng(0).normal(0, 1e3, 200).astype(np.float32)
    back = np.array([json_float(float(v)) for v in x], dtype=np.float32)
    assert (back == x).all()


def test_info_writes_iso_timestamps_and_json_floats(trained):
    """`info` shows the last timestamp in ISO 8601, and every float of its JSON document is
    the shortest text of its float32 value (no 17-digit tails)."""
    out = invoke("info", trained.model).stdout
    last = trained.frame["ds"].max()
    assert f"last timestamp      {last.isoformat()}" in out, out
    assert str(last) not in out  # '2024-01-07 11:00:00', the old form
    text = invoke("evaluate", trained.data, "--model", trained.model, "--json").stdout
    floats = _floats(text)
    assert floats and all(len(t.replace("-", "").replace(".", "")) <= 10 for t in floats), floats


def _floats(text: str) -> list[str]:
    found = []
    json.loads(text, parse_float=lambda t: found.append(t) or float(t))
    return [t for t in found if "e" not in t]


def test_counts_of_one_are_singular(tmp_path):
    """A one-window validation says '1 held-out window', not '1 held-out windows'."""
    from helpers import TINY, seasonal_frame

    data, model = tmp_path / "d.csv", tmp_path / "m.lstmcast"
    seasonal_frame(n_series=1, n=80).to_csv(data, index=False)
    out = invoke("train", data, "--model", model, *TINY, "--horizon", "7", "--val-size", "7")
    assert "Validation: 1 held-out window of 7 steps" in out.stdout, out.stdout
    assert "9 windows a horizon apart" in out.stdout and "9.0" not in out.stdout


def test_duplicate_error_writes_iso_and_singular(write_csv):
    """A repeated hourly timestamp with another value is named in ISO 8601, with both lines."""
    rows = ["unique_id,ds,y"] + [f"a,2024-01-01T{h:02d}:00:00,{h}" for h in range(12)]
    path = write_csv("\n".join([*rows, "a,2024-01-01T05:00:00,7"]) + "\n")
    result = invoke("inspect", path, ok=False)
    assert result.exit_code == 3, result.output
    assert "two rows for 2024-01-01T05:00:00 with different values (file lines 7 and 14)" in (
        result.output
    )
