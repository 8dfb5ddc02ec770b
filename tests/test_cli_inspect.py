"""`lstmcast inspect` end to end: sample files, JSON output, every data error, help, startup."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lstmcast.cli import app

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_data"
SUMMARY_KEYS = {
    "data", "layout", "columns", "frequency", "frequency_name", "season_length", "series",
    "rows", "length", "first_timestamp", "last_timestamp", "values_filled", "warnings", "notes",
}  # fmt: skip


def sample(name: str) -> Path:
    path = SAMPLES / name
    if not path.exists():
        pytest.skip(f"{path.relative_to(ROOT)} is not there yet")
    return path


def inspect_json(runner, *args):
    result = runner.invoke(app, ["inspect", *map(str, args), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def assert_data_error(result, *fragments):
    """Exit code 3, `error: ...` (+ optional `  hint: ...`) on stderr; on stdout nothing, or
    (a problem past the columns) what inspect found beside the problem."""
    assert result.exit_code == 3, result.output
    lines = result.stderr.splitlines()
    if result.stdout:
        assert result.stdout.startswith("Detected, with a problem"), result.stdout
        assert f"problem      {lines[0].removeprefix('error: ')}" in result.stdout
    assert lines[0].startswith("error: ")
    assert len(lines) <= 2, result.stderr
    if len(lines) == 2:
        assert lines[1].startswith("  hint: ")
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


# ---------------------------------------------------------------- sample data


def test_inspect_prices(runner):
    doc = inspect_json(runner, sample("prices.csv"))
    assert SUMMARY_KEYS <= doc.keys()
    assert doc["layout"] == "single"
    assert doc["columns"] == {"time": "Date", "target": ["Close"], "id": None}
    assert doc["frequency"] == "B"
    assert doc["series"] == 1
    assert doc["first_timestamp"] == "2022-01-03"  # ISO 8601, a date: every value is at midnight
    assert doc["last_timestamp"] == "2024-12-31"
    assert doc["values_filled"] > 0  # market holidays
    assert doc["rows"] == doc["length"]["max"]


@pytest.mark.slow
def test_inspect_prices_table(runner):
    result = runner.invoke(app, ["inspect", str(sample("prices.csv"))])
    assert result.exit_code == 0, result.output
    assert "business days" in result.stdout
    assert "Close" in result.stdout
    assert "\x1b[" not in result.stdout  # NO_COLOR and a non-terminal: plain text
    assert result.stderr == ""


def test_inspect_ohlcv_is_ambiguous(runner):
    result = runner.invoke(app, ["inspect", str(sample("prices_ohlcv.csv"))])
    assert_data_error(result, "Open", "High", "Low", "Close", "Volume", "--target")


@pytest.mark.slow
def test_inspect_ohlcv_with_target(runner):
    doc = inspect_json(runner, sample("prices_ohlcv.csv"), "--target", "Close")
    assert doc["columns"]["target"] == ["Close"]
    assert doc["frequency"] == "B"


def test_inspect_ohlcv_with_several_targets_is_wide(runner):
    doc = inspect_json(runner, sample("prices_ohlcv.csv"), "--target", "Open,Close")
    assert doc["layout"] == "wide"
    assert doc["series"] == 2


@pytest.mark.slow
@pytest.mark.parametrize("name", ["stores.csv", "stores.parquet"])
def test_inspect_stores(runner, name):
    doc = inspect_json(runner, sample(name))
    assert doc["layout"] == "long"
    assert doc["columns"] == {"time": "ds", "target": ["y"], "id": "unique_id"}
    assert doc["frequency"] == "h"
    assert doc["season_length"] == 24
    assert doc["series"] == 6
    assert doc["data"] == str(SAMPLES / name)


@pytest.mark.slow
def test_csv_and_parquet_stores_agree(runner):
    a = inspect_json(runner, sample("stores.csv"))
    b = inspect_json(runner, sample("stores.parquet"))
    del a["data"], b["data"]
    assert a == b


def test_quiet_prints_nothing(runner):
    result = runner.invoke(app, ["inspect", str(sample("stores.csv")), "--quiet"])
    assert result.exit_code == 0, result.output
    assert result.output == ""


# ---------------------------------------------------------------- on tmp files


def daily(n=10, **cols):
    return pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=n).strftime("%Y-%m-%d"), **cols})


@pytest.mark.slow
def test_inspect_json_is_one_document(runner, write_csv):
    path = write_csv(daily(10, y=np.arange(10.0)))
    result = runner.invoke(app, ["inspect", str(path), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)  # would fail on anything before or after the document
    assert SUMMARY_KEYS <= doc.keys()
    assert doc["length"] == {"min": 10, "median": 10.0, "max": 10}
    assert doc["frequency"] == "D"
    assert result.stderr == ""


def test_overrides_reach_build_panel(runner, write_csv):
    df = pd.DataFrame(
        {
            "shop": ["a"] * 20 + ["b"] * 20,
            "when": list(pd.date_range("2024-01-01", periods=20).strftime("%Y-%m-%d")) * 2,
            "sales": np.arange(40.0),
            "price": 1.0,
        }
    )
    path = write_csv(df.drop(index=[3, 4, 5, 6, 7, 8, 9, 10]))  # an 8-day gap in shop a
    result = runner.invoke(
        app,
        ["inspect", str(path), "--time-col", "when", "--target", "sales", "--id-col", "shop",
         "--freq", "D", "--max-gap", "8", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["columns"] == {"time": "when", "target": ["sales"], "id": "shop"}
    assert doc["values_filled"] == 8
    assert doc["warnings"] == [
        "filled 8 missing steps by linear interpolation: 2024-01-04, 2024-01-05, 2024-01-06, "
        "2024-01-07, 2024-01-08 and 3 more"
    ]


@pytest.mark.slow
def test_json_error_document(runner, write_csv):
    path = write_csv(daily(5, y=["1", "2", "oops", "4", "5"]))
    result = runner.invoke(app, ["inspect", str(path), "--json"])
    assert result.exit_code == 3
    doc = json.loads(result.stdout)
    assert doc == {
        "command": "inspect",
        "schema_version": 1,
        "data": str(path),  # what inspect found, beside the problem
        "layout": "single",
        "columns": {"time": "ds", "target": ["y"], "id": None},
        "notes": [],
        "error": {
            "code": 3,
            "kind": "data",
            "message": "target column 'y' is not numeric: 'oops' in file line 4",
            "hint": "use --target to pick another column, or clean the file",
        },
    }
    assert result.stderr.startswith("error: target column 'y' is not numeric")


def bad_files():
    """(name, file content, extra args, fragments the error must contain)."""
    hourly = pd.date_range("2024-01-01", periods=10, freq="h").strftime("%Y-%m-%d %H:%M:%S")
    off = list(hourly)
    off[5] = "2024-01-01 05:17:00"
    gap = list(pd.date_range("2024-01-01", periods=30).delete(range(10, 18)).strftime("%Y-%m-%d"))
    sparse = list(pd.date_range("2024-01-01", periods=10).strftime("%Y-%m-%d")) + ["2024-01-31", "2024-02-01"]  # fmt: skip
    return [
        ("non-numeric", daily(4, y=["1", "2", "x7", "4"]), [], ["'y'", "'x7'"]),
        ("bad-date", pd.DataFrame({"ds": ["2024-01-01", "soon", "2024-01-03"], "y": 1.0}), [], ["'ds'", "'soon'"]),
        ("duplicate", pd.DataFrame({"unique_id": ["a"] * 3 + ["b"] * 3, "ds": ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-01", "2024-01-01", "2024-01-02"], "y": np.arange(6.0)}), [], ["series 'b' has two rows for 2024-01-01", "file lines 5 and 6"]),
        ("too-short", pd.DataFrame({"unique_id": ["a"] * 3 + ["b"] * 2, "ds": ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-01", "2024-01-02"], "y": 1.0}), [], ["series 'b'", "at least 3"]),
        ("long-gap", pd.DataFrame({"ds": gap, "y": np.arange(22.0)}), [], ["gap of 8", "--max-gap 8"]),
        ("mostly-missing", pd.DataFrame({"ds": sparse, "y": np.arange(12.0)}), [], ["series 'y'", "mostly missing"]),
        ("off-grid", pd.DataFrame({"ds": off, "y": np.arange(10.0)}), [], ["off the hourly grid", "05:17"]),
        ("all-empty", pd.DataFrame({"unique_id": ["a"] * 3 + ["b"] * 3, "ds": ["2024-01-01", "2024-01-02", "2024-01-03"] * 2, "y": [1.0, 2.0, 3.0, None, None, None]}), [], ["series 'b'", "no values"]),
        ("infinite", daily(4, y=["1", "inf", "3", "4"]), [], ["infinite", "file line 3"]),
        ("numeric-time", pd.DataFrame({"t": [1, 2, 3, 4], "y": 1.0}), ["--time-col", "t"], ["holds numbers, not dates"]),
        ("ohlcv", pd.DataFrame({"Date": ["2024-01-01", "2024-01-02", "2024-01-03"], "Open": 1.0, "High": 2.0, "Low": 0.5, "Close": 1.5, "Volume": 10}), [], ["Open", "Close", "--target"]),
        ("no-such-column", daily(4, y=1.0), ["--target", "sales"], ["--target sales: no such column"]),
        ("header-only", "ds,y\n", [], ["no data rows"]),
        ("empty", "", [], ["empty"]),
    ]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(
    "content, args, fragments",
    [case[1:] for case in bad_files()],
    ids=[case[0] for case in bad_files()],
)
def test_data_errors_exit_3(runner, write_csv, content, args, fragments):
    path = write_csv(content)
    result = runner.invoke(app, ["inspect", str(path), *args])
    assert_data_error(result, *fragments)
    as_json = runner.invoke(app, ["inspect", str(path), *args, "--json"])
    assert as_json.exit_code == 3
    doc = json.loads(as_json.stdout)
    assert doc["error"]["code"] == 3
    assert doc["error"]["kind"] == "data"
    assert doc["error"]["message"] in result.stderr


@pytest.mark.parametrize(
    "name, content, fragment",
    [
        ("missing.csv", None, "no such file"),
        ("data.xlsx", b"PK\x03\x04", "is a spreadsheet"),
        ("noise.csv", bytes(range(256)) * 8, "binary"),
        ("noise.parquet", b"\x01\x02not parquet", "cannot be read as Parquet"),
        ("latin.csv", "ds,city,y\n2024-01-01,Zürich,1\n".encode("latin-1"), "not UTF-8"),
    ],
)
def test_unreadable_files_exit_3(runner, write_csv, tmp_path, name, content, fragment):
    path = tmp_path / name if content is None else write_csv(content, name=name)
    assert_data_error(runner.invoke(app, ["inspect", str(path)]), fragment, name)


def test_folder_exits_3(runner, tmp_path):
    assert_data_error(runner.invoke(app, ["inspect", str(tmp_path)]), "is a folder")


@pytest.mark.slow
def test_usage_errors_exit_2(runner, write_csv):
    path = write_csv(daily(5, y=1.0))
    result = runner.invoke(app, ["inspect", str(path), "--freq", "fortnightly"])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: --freq fortnightly: not a pandas frequency")
    result = runner.invoke(app, ["inspect", str(path), "--max-gap", "-1"])
    assert result.exit_code == 2, result.output


def test_debug_shows_the_traceback(runner, write_csv):
    path = write_csv(daily(4, y=["1", "2", "x", "4"]))
    result = runner.invoke(app, ["inspect", str(path), "--debug"])
    assert result.exit_code == 3
    assert "Traceback" in result.stderr
    assert "error: target column 'y' is not numeric" in result.stderr


# ---------------------------------------------------------------- help


@pytest.mark.parametrize("flag", ["--help", "-h"])
@pytest.mark.parametrize("command", [[], ["inspect"]], ids=["app", "inspect"])
def test_help(runner, command, flag):
    result = runner.invoke(app, [*command, flag])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.stdout
    if command:
        assert "Example: lstmcast inspect" in result.stdout
        for option in ("--time-col", "--target", "--id-col", "--freq", "--max-gap", "--json"):
            assert option in result.stdout
    else:
        assert "inspect" in result.stdout


# ---------------------------------------------------------------- real processes

HELP_WITHOUT_TORCH = """
import sys
from lstmcast.cli import app
for args in (["--help"], ["inspect", "--help"]):
    try:
        app(args, prog_name="lstmcast")
    except SystemExit as exc:
        assert exc.code == 0, (args, exc.code)
print("TORCH-LOADED" if "torch" in sys.modules else "NO-TORCH")
"""


def env():
    return {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}


@pytest.mark.slow
def test_help_does_not_import_torch():
    proc = subprocess.run(
        [sys.executable, "-c", HELP_WITHOUT_TORCH],
        capture_output=True, text=True, timeout=60, cwd=ROOT, env=env(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("NO-TORCH")
    assert "Usage:" in proc.stdout


def entry_point() -> str:
    local = Path(sys.executable).parent / "lstmcast"
    found = str(local) if local.exists() else shutil.which("lstmcast")
    if found is None:
        pytest.skip("the lstmcast entry point is not installed (pip install -e .)")
    return found


@pytest.mark.slow
def test_installed_entry_point(tmp_path):
    path = tmp_path / "visits.csv"
    hours = pd.date_range("2024-05-01", periods=48, freq="h")
    pd.DataFrame({"timestamp": hours, "visits": np.arange(48.0)}).to_csv(path, index=False)
    exe = entry_point()
    proc = subprocess.run(
        [exe, "inspect", str(path), "--json"], capture_output=True, text=True, timeout=60, env=env()
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert (doc["layout"], doc["frequency"], doc["series"]) == ("single", "h", 1)
    bad = tmp_path / "bad.csv"
    bad.write_text("ds,y\n2024-01-01,1\n2024-01-02,nope\n2024-01-03,3\n")
    proc = subprocess.run([exe, "inspect", str(bad)], capture_output=True, text=True, timeout=60, env=env())  # fmt: skip
    assert proc.returncode == 3
    assert proc.stdout.startswith("Detected, with a problem")  # the layout beside the problem
    assert proc.stderr.startswith("error: target column 'y' is not numeric: 'nope' in file line 3")
