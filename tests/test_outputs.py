"""What lstmcast writes and prints: output types, number and timestamp text, and text from
files (series ids, column names, paths, model headers) shown literally, never as markup."""

import json
import re
from io import StringIO

import numpy as np
import pandas as pd
import pytest
from helpers import TINY, hourly_frame, invoke

from lstmcast.text import number_text, time_text

ISO_HOUR = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")


def predict(trained, *extra, ok=True):
    return invoke(
        "predict", trained.data, "--model", trained.model, "--as-of", "2024-01-08", *extra, ok=ok
    )


# --- numbers and timestamps --------------------------------------------------------------


def test_number_text_is_the_shortest_round_trip_without_exponent():
    values = np.array([80.0453, 1405334.0, 0.1, -2.5e-3, 3.0, np.nan, 1e20], dtype=np.float32)
    text = number_text(values)
    assert list(text[:6]) == ["80.0453", "1405334", "0.1", "-0.0025", "3", ""]
    assert "e" in text[6]  # only outside 1e-6..1e16
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        x = (rng.standard_normal(2000) * 10.0 ** rng.integers(-5, 12, 2000)).astype(dtype)
        back = np.array([float(t) for t in number_text(x)]).astype(dtype)
        assert (back == x).all()
        for t, v in zip(number_text(x), x, strict=True):
            digits = len(re.sub(r"e.*|[-.]", "", t).strip("0"))
            if digits > 1:  # shortest: one significant digit fewer no longer reads back
                assert dtype(f"{v:.{digits - 2}e}") != v, t


def test_time_text_one_rule():
    hours = pd.date_range("2024-05-01 21:00", periods=3, freq="h")
    assert list(time_text(hours)) == ["2024-05-01T21:00:00", "2024-05-01T22:00:00", "2024-05-01T23:00:00"]  # fmt: skip
    days = pd.date_range("2024-05-01", periods=2, freq="D")
    assert list(time_text(days)) == ["2024-05-01", "2024-05-02"]
    assert list(time_text(pd.DatetimeIndex(["2024-05-01 00:00:00.5", None]))) == [
        "2024-05-01T00:00:00.500",
        "",
    ]


@pytest.mark.slow
def test_csv_numbers_read_back_to_the_float32_forecast(tmp_path, trained):
    predict(trained, "-o", tmp_path / "f.parquet", "-q")
    predict(trained, "-o", tmp_path / "f.csv", "-q")
    typed = pd.read_parquet(tmp_path / "f.parquet")
    text = pd.read_csv(tmp_path / "f.csv", dtype=str)
    for col in ("yhat", "yhat_lower", "yhat_upper"):
        assert typed[col].dtype == np.float32
        assert (
            text[col].astype(float).astype(np.float32).to_numpy() == typed[col].to_numpy()
        ).all()
        assert not text[col].str.contains("e").any()
        assert list(text[col]) == list(number_text(typed[col].to_numpy()))


@pytest.mark.slow
def test_one_timestamp_style_in_csv_json_and_table(tmp_path, trained):
    csv = pd.read_csv(StringIO(predict(trained, "--format", "csv").stdout), dtype=str)
    doc = json.loads(predict(trained, "--json").stdout)
    table = predict(trained).stdout
    assert all(ISO_HOUR.match(t) for t in csv["ds"])
    assert [r["ds"] for r in doc["forecast"]] == list(csv["ds"])
    assert csv["ds"][0] in table and csv["ds"][0].replace("T", " ") not in table
    predict(trained, "-o", tmp_path / "f.json", "-q")
    assert [r["ds"] for r in json.loads((tmp_path / "f.json").read_text())] == list(csv["ds"])


@pytest.mark.slow
def test_daily_forecast_has_dates(tmp_path):
    days = pd.DataFrame(
        {"ds": pd.date_range("2024-01-01", periods=120, freq="D"), "y": np.sin(np.arange(120.0))}
    )
    days.to_csv(tmp_path / "d.csv", index=False)
    invoke("train", tmp_path / "d.csv", "--model", tmp_path / "d.lstmcast", *TINY, "-q")
    result = invoke(
        "predict", "--model", tmp_path / "d.lstmcast", "-o", "-", "--as-of", "2024-05-01"
    )
    assert result.stdout.splitlines()[1].split(",")[1] == "2024-04-30"


# --- output types and standard output -----------------------------------------------------


def test_tsv_output_is_tab_separated(tmp_path, trained):
    predict(trained, "-o", tmp_path / "f.tsv", "-q")
    lines = (tmp_path / "f.tsv").read_text().splitlines()
    assert lines[0] == "unique_id\tds\tyhat\tyhat_lower\tyhat_upper\tmodel"
    assert all(line.count("\t") == 5 and "," not in line for line in lines)


@pytest.mark.parametrize("name", ["f.xlsx", "f.xls", "forecast", "f.png"])
def test_unsupported_output_type_is_a_usage_error(tmp_path, trained, name):
    result = predict(trained, "-o", tmp_path / name, ok=False)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: --output {tmp_path / name}: cannot write")
    assert ".csv, .tsv, .json or .parquet" in result.stderr
    assert not (tmp_path / name).exists()


def test_evaluate_unsupported_output_type_fails_before_the_backtest(tmp_path, trained):
    result = invoke(
        "evaluate", trained.data, "--model", trained.model, "-o", tmp_path / "e.xlsx", ok=False
    )
    assert result.exit_code == 2 and "--output" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", ["CSV", "Csv", "TSV", "JSON", "Table"])
def test_format_is_case_insensitive(trained, fmt):
    out = predict(trained, "--format", fmt).stdout
    if fmt.lower() == "json":
        assert len(json.loads(out)) == 72
    elif fmt.lower() == "table":
        assert "Forecast (72 rows)" in out
    else:
        sep = "," if fmt.lower() == "csv" else "\t"
        assert out.splitlines()[0] == sep.join(
            ["unique_id", "ds", "yhat", "yhat_lower", "yhat_upper", "model"]
        )


@pytest.mark.slow
@pytest.mark.parametrize(("extra", "sep"), [((), ","), (("--format", "tsv"), "\t")])
def test_dash_output_writes_to_stdout(tmp_path, trained, extra, sep):
    result = predict(trained, "-o", "-", *extra)
    frame = pd.read_csv(StringIO(result.stdout), sep=sep)
    assert len(frame) == 72 and list(frame.columns)[:2] == ["unique_id", "ds"]
    assert not (tmp_path / "-").exists() and not (trained.folder / "-").exists()
    doc = json.loads(predict(trained, "-o", "-", "--format", "json").stdout)
    assert len(doc) == 72 and set(doc[0]) == {
        "unique_id",
        "ds",
        "yhat",
        "yhat_lower",
        "yhat_upper",
        "model",
    }


def test_evaluate_dash_output_writes_the_per_series_table_to_stdout(trained):
    result = invoke("evaluate", trained.data, "--model", trained.model, "--folds", "1", "-o", "-")
    frame = pd.read_csv(StringIO(result.stdout))
    assert sorted(frame["unique_id"]) == ["A", "B", "C"] and "lstm_mase" in frame
    assert "Backtest" not in result.stdout  # the tables would break the CSV


# --- text from files is data, never markup -------------------------------------------------

HOSTILE_IDS = ["[/]", "[bold]x", "x\x1b[2Jy", ":cat:"]


def hostile_frame() -> pd.DataFrame:
    spec = tuple((uid, "2024-01-01", 100) for uid in HOSTILE_IDS)
    return hourly_frame(spec).rename(columns={"y": "[red]sales"})


@pytest.fixture(scope="module")
def hostile(trained_model):
    """A model trained on series whose ids are markup, an escape sequence and an emoji code,
    from a file whose name is markup, with a target column named like markup."""
    options = ("--target", "[red]sales")
    run = trained_model("hostile", hostile_frame, options, "[bold]data.csv")
    return run.data, run.model


def test_hostile_ids_print_literally_in_the_forecast_table(hostile):
    data, model = hostile
    result = invoke("predict", data, "--model", model, "--as-of", "2024-01-06", "--horizon", "5")
    assert "\x1b" not in result.output
    for uid in ("[/]", "[bold]x", "x\\x1b[2Jy", ":cat:"):
        assert uid in result.stdout


def test_hostile_names_print_literally_in_inspect_and_info(hostile):
    data, model = hostile
    result = invoke("inspect", data, "--target", "[red]sales")
    assert "[red]sales" in result.stdout and "[bold]data.csv" in result.stdout
    result = invoke("info", model)
    assert "[red]sales" in result.stdout and "[bold]data.csv" in result.stdout


@pytest.mark.slow
def test_hostile_text_in_errors_and_warnings_is_escaped(tmp_path, hostile):
    data, model = hostile
    result = invoke("inspect", data, "--target", "[/]\x1b[2J", ok=False)
    assert result.exit_code == 3
    assert "\x1b" not in result.stderr
    assert "--target [/]\\x1b[2J" in result.stderr and "[red]sales" in result.stderr
    # a warning naming a series: its level left the training range
    frame = pd.read_csv(data, dtype={"unique_id": str})
    last = frame.index[frame["unique_id"] == "x\x1b[2Jy"][-1]
    frame.loc[last, "[red]sales"] = 1e6
    frame.to_csv(tmp_path / "shifted.csv", index=False)
    result = invoke(
        "predict", tmp_path / "shifted.csv", "--model", model, "--as-of", "2024-01-06",
        "-o", tmp_path / "f.csv",
    )  # fmt: skip
    assert "warning: series 'x\\x1b[2Jy' moved far outside its training range" in result.stderr
    assert "\x1b" not in result.stderr


def test_captions_keep_their_line_breaks(trained):
    result = invoke("info", trained.model)
    assert "coverage: share of actuals" in result.stdout
    assert "\\x0a" not in result.stdout


def test_escape_in_an_output_path_reaches_neither_terminal_nor_log(tmp_path, trained):
    out, log = tmp_path / "f\x1b[2J.csv", tmp_path / "runs.log"
    result = predict(trained, "-o", out, "--log-file", log)
    assert out.exists()
    assert "\x1b" not in result.stderr and "f\\x1b[2J.csv" in result.stderr
    line = log.read_text()
    assert "\x1b" not in line and 'output="' in line and "\\u001b[2J.csv" in line


@pytest.mark.slow
def test_a_reader_closing_stdout_early_is_exit_73_not_a_crash(trained):
    import subprocess
    import sys

    # about 700 KB of CSV: more than a pipe holds, so the writer meets the closed pipe
    proc = subprocess.Popen(
        [sys.executable, "-m", "lstmcast", "predict", str(trained.data), "--model", str(trained.model),
         "--horizon", "5000", "-o", "-", "--as-of", "2024-01-08", "-q"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout.readline().startswith(b"unique_id,ds,")
    proc.stdout.close()  # what `| head -1` does
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 73, stderr
    errors = [line for line in stderr.splitlines() if not line.startswith("warning: ")]
    assert errors[0].startswith("error: standard output was closed"), stderr
    assert "Traceback" not in stderr
    assert "unexpected" not in stderr and len(errors) == 2
