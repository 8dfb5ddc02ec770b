"""Files as spreadsheets write them: empty rows, repeated rows, a store column with no
standard name, an empty column. Every reader (CSV, TSV, compressed, standard input,
Parquet) and layout (long, single, wide) takes them the same way, and errors name the line
of the file (data.lines, data.grid, data.columns through the real CLI)."""

from __future__ import annotations

import gzip
import io
import json

import numpy as np
import pandas as pd
import pytest
from helpers import TINY, invoke, runner

from lstmcast.cli import app
from lstmcast.config import DataSpec
from lstmcast.data.columns import guess_id
from lstmcast.data.lines import Where, drop_blank_rows
from lstmcast.data.load import load
from lstmcast.errors import DataError

DAYS = pd.date_range("2024-01-01", periods=40, freq="D").strftime("%Y-%m-%d")


def stores(n_stores=3, by_date=True, codes=False) -> pd.DataFrame:
    """Daily sales of a few stores in long form, as exported: sorted by date, then store."""
    rng = np.random.default_rng(0)
    frame = pd.concat(
        pd.DataFrame(
            {
                "store": k + 1 if codes else f"shop {k + 1}",
                "date": DAYS,
                "sales": np.round(50 + 10 * k + rng.normal(0, 2, len(DAYS)), 2),
            }
        )
        for k in range(n_stores)
    )
    return frame.sort_values(["date", "store"], kind="stable") if by_date else frame


def layout_frame(layout: str) -> pd.DataFrame:
    frame = stores()
    if layout == "single":
        return frame[frame.store == "shop 1"].drop(columns="store")
    if layout == "wide":
        return frame.pivot(index="date", columns="store", values="sales").reset_index()
    return frame.rename(columns={"store": "unique_id"})


def write(tmp_path, frame: pd.DataFrame, reader: str, blank_after=(), repeat=()):
    """Write `frame` as `reader` reads it, with an empty row after each data row in
    `blank_after` and a copy of each data row in `repeat` at the end (CSV: plus two
    trailing blank lines). Returns (path or '-', the text for standard input or None)."""
    rows = frame.astype(object).where(frame.notna(), None).values.tolist()
    out = []
    for i, row in enumerate(rows):
        out.append(row)
        if i in blank_after:
            out.append([None] * len(row))
    out += [rows[i] for i in repeat]
    if reader == "parquet":
        path = tmp_path / "data.parquet"
        table = pd.DataFrame(out, columns=frame.columns)
        numbers = frame.select_dtypes("number").columns
        table.astype(dict.fromkeys(numbers, "float64")).to_parquet(path)
        return path, None
    sep = "\t" if reader == "tsv" else ","
    text = sep.join(frame.columns) + "\n"
    for row in out:
        cells = ["" if v is None else str(v) for v in row]
        text += (sep.join(cells) if any(cells) else sep * (len(row) - 1) + "  ") + "\n"
    text += "\n\n"  # a spreadsheet's trailing blank lines
    if reader == "stdin":
        return "-", text
    path = tmp_path / {"csv": "data.csv", "tsv": "data.tsv", "gz": "data.csv.gz"}[reader]
    path.write_bytes(gzip.compress(text.encode()) if reader == "gz" else text.encode())
    return path, None


def inspect(path, text=None, *args):
    result = runner.invoke(app, ["inspect", str(path), "--json", *args], input=text)
    return result, (json.loads(result.stdout) if result.stdout else None)


READERS = ["csv", "tsv", "gz", "stdin", "parquet"]


@pytest.mark.parametrize("layout", ["long", "single", "wide"])
@pytest.mark.parametrize("reader", READERS)
def test_empty_rows_are_skipped_and_exact_repeats_dropped_by_every_reader(tmp_path, reader, layout):
    frame = layout_frame(layout)
    path, text = write(tmp_path, frame, reader, blank_after=(4, 9), repeat=(2, 7))
    result, doc = inspect(path, text)
    assert result.exit_code == 0, result.output
    clean = load(frame, DataSpec(id_col="unique_id") if layout == "long" else DataSpec())
    assert doc["series"] == clean.n_series and doc["rows"] == int(clean.lengths.sum())
    assert doc["layout"] == layout and doc["values_filled"] == 0
    # Data row 6 follows data row 5 (file line 6): the blank is file line 7, or data row 6.
    text_file = reader != "parquet"
    blanks = 2 + (2 if text_file else 0)  # CSV: the two trailing blank lines too
    where = "file line 7" if text_file else "data row 6"
    assert f"skipped {blanks} empty rows (the first at {where})" in doc["notes"]
    # The copies come after the frame's rows and the two blank ones.
    first_copy = len(frame) + 2 + 1 + (1 if text_file else 0)
    where = f"file line {first_copy}" if text_file else f"data row {first_copy}"
    assert f"dropped 2 rows repeating another row exactly (the first at {where})" in doc["warnings"]


@pytest.mark.parametrize("reader", READERS)
def test_conflicting_duplicates_name_both_rows_and_inspect_shows_the_layout(tmp_path, reader):
    frame = layout_frame("long")
    changed = frame.iloc[[5]].assign(sales=999.0)  # data row 6 again, another value
    path, text = write(tmp_path, pd.concat([frame, changed]), reader, blank_after=(0,))
    result = runner.invoke(app, ["inspect", str(path)], input=text)
    assert result.exit_code == 3, result.output
    unit, a, b = (
        ("file lines", 8, len(frame) + 3)
        if reader != "parquet"
        else ("data rows", 7, len(frame) + 2)
    )
    message = f"series '{frame.unique_id.iloc[5]}' has two rows for {frame.date.iloc[5]} with different values ({unit} {a} and {b})"
    assert result.stderr.splitlines()[0] == f"error: {message}"
    assert len(result.stderr.splitlines()) == 2  # the error and its hint
    # Beside the problem, what inspect found: the layout and the columns.
    assert "Detected, with a problem" in result.stdout
    for row in ("layout       long", "id column    unique_id", "target       sales", message):
        assert row in result.stdout, result.stdout
    result, doc = inspect(path, text)  # --json: the same, in the error document
    assert result.exit_code == 3
    assert (doc["layout"], doc["columns"]["id"], doc["error"]["message"]) == (
        "long",
        "unique_id",
        message,
    )


@pytest.mark.parametrize("reader", ["csv", "gz", "parquet"])
def test_an_empty_time_in_a_row_with_values_names_its_line(tmp_path, reader):
    frame = layout_frame("single")
    frame.iloc[20, 0] = None
    path, text = write(tmp_path, frame, reader, blank_after=(3,))
    result = runner.invoke(app, ["inspect", str(path)], input=text)
    assert result.exit_code == 3, result.output
    where = "file line 23" if reader != "parquet" else "data row 22"
    assert result.stderr.startswith(f"error: time column 'date' is empty in {where}\n")
    assert "problem      time column 'date' is empty" in result.stdout


@pytest.mark.slow
def test_train_and_predict_take_a_file_with_spreadsheet_leftovers(tmp_path):
    path, _ = write(tmp_path, layout_frame("long"), "csv", blank_after=(10,), repeat=(3,))
    model = tmp_path / "m.lstmcast"
    result = invoke("train", path, "--model", model, *TINY, "--max-steps", "20", "--seed", "1")
    copy = len(layout_frame("long")) + 3  # after the rows, one blank line and the header
    assert (
        f"warning: dropped 1 row repeating another row exactly (the first at file line {copy})"
        in (result.stderr)
    )
    result = invoke("predict", path, "--model", model, "--horizon", "3", "--format", "csv")
    forecast = pd.read_csv(io.StringIO(result.stdout))
    assert sorted(forecast.unique_id.unique()) == ["shop 1", "shop 2", "shop 3"]
    assert (forecast.ds.min(), forecast.ds.max()) == ("2024-02-10", "2024-02-12")


# ------------------------------------------------------------------ the id column guessed


@pytest.mark.parametrize("codes", [False, True], ids=["text", "integer-codes"])
def test_a_column_that_splits_timestamps_into_series_is_taken_as_the_id(tmp_path, codes):
    path = tmp_path / "sales.csv"
    stores(codes=codes).to_csv(path, index=False)
    result, doc = inspect(path)
    assert result.exit_code == 0, result.output
    assert (doc["layout"], doc["columns"]["id"], doc["columns"]["target"]) == (
        "long",
        "store",
        ["sales"],
    )
    assert doc["series"] == 3 and doc["length"]["min"] == len(DAYS)
    assert doc["notes"] == ["taking 'store' as the series id (3 series); pass --id-col to choose"]
    table = runner.invoke(app, ["inspect", str(path)])
    assert "note" in table.stdout and "taking 'store' as the series id" in table.stdout


@pytest.mark.slow
def test_a_guessed_id_trains_a_model_that_predict_reads(tmp_path):
    path, model = tmp_path / "sales.csv", tmp_path / "m.lstmcast"
    stores().to_csv(path, index=False)
    invoke("train", path, "--model", model, *TINY, "--max-steps", "20", "--seed", "1")
    result = invoke("predict", path, "--model", model, "--horizon", "2", "--json")
    doc = json.loads(result.stdout)
    assert sorted({r["unique_id"] for r in doc["forecast"]}) == ["shop 1", "shop 2", "shop 3"]


def test_when_two_columns_could_be_the_id_the_error_leads_with_the_fix(tmp_path):
    path = tmp_path / "sales.csv"
    frame = stores()
    frame.insert(1, "city", frame.store.map({"shop 1": "Lyon", "shop 2": "Nice", "shop 3": "Metz"}))
    frame.to_csv(path, index=False)
    result = runner.invoke(app, ["inspect", str(path)])
    assert result.exit_code == 3, result.output
    assert result.stderr.startswith("error: looks like several series: pass --id-col store\n")
    result, doc = inspect(path, None, "--id-col", "city")
    assert result.exit_code == 0 and doc["series"] == 3 and doc["notes"] == []


def test_when_only_two_columns_together_name_a_series_the_error_says_so(tmp_path):
    path = tmp_path / "sales.csv"
    frame = pd.concat([stores(2).assign(product=p) for p in ("tea", "cake")])
    frame.to_csv(path, index=False)
    result = runner.invoke(app, ["inspect", str(path)])
    assert result.exit_code == 3, result.output
    assert result.stderr.splitlines()[0] == (
        "error: looks like several series, but no one column tells them apart "
        "(columns store, product repeat timestamps)"
    )


def test_an_empty_column_of_a_wide_file_is_skipped_with_a_warning(tmp_path):
    path = tmp_path / "wide.csv"
    frame = layout_frame("wide").assign(C=np.nan)
    frame.to_csv(path, index=False)
    result, doc = inspect(path)
    assert result.exit_code == 0, result.output
    assert doc["columns"]["target"] == ["shop 1", "shop 2", "shop 3"] and doc["series"] == 3
    assert doc["warnings"] == ["skipped 1 column empty in every row: 'C'"]
    result = runner.invoke(app, ["inspect", str(path), "--target", "shop 1,C"])
    assert result.exit_code == 3
    assert result.stderr.startswith("error: target column 'C' is empty in every row\n")
    assert "shop 1" not in result.stderr.splitlines()[0]


# ------------------------------------------------------------------ the pieces


def test_drop_blank_rows_keeps_the_file_numbering():
    table = pd.DataFrame({"a": ["x", " ", "y", None], "b": [1.0, np.nan, 2.0, np.nan]})
    table.attrs["lstmcast_first_line"] = 2
    kept, where, notes = drop_blank_rows(table)
    assert kept["a"].tolist() == ["x", "y"]
    assert (where(0), where(1)) == ("file line 2", "file line 4")
    assert notes == ["skipped 2 empty rows (the first at file line 3)"]
    same, where, notes = drop_blank_rows(pd.DataFrame({"a": ["x", "y"]}))  # no file: rows
    assert len(same) == 2 and notes == [] and where == Where()
    with pytest.raises(DataError, match="every data row is empty"):
        drop_blank_rows(pd.DataFrame({"a": [None, ""], "b": [np.nan, np.nan]}))


def test_guess_id_only_when_timestamps_repeat():
    frame = stores()
    cols = ["store", "sales"]
    assert guess_id(frame, cols, "date", None) == "store"
    one = frame[frame.store == "shop 1"].assign(note="ok")
    assert guess_id(one, ["store", "note", "sales"], "date", None) is None  # no repeats
    repeated = pd.concat([one, one.iloc[:2]])  # exact repeats are no sign of series
    assert guess_id(repeated, ["store", "note", "sales"], "date", None) is None
    assert guess_id(frame, cols, "date", "store") is None  # the target is no id


def test_blank_lines_above_the_header_count_in_the_line_numbers(write_csv):
    path = write_csv("\n \nds,y\n2024-01-01,1\n\n2024-01-02,2\n2024-01-03,x\n")
    result = runner.invoke(app, ["inspect", str(path)])
    assert result.exit_code == 3, result.output
    assert result.stderr.startswith("error: target column 'y' is not numeric: 'x' in file line 7\n")
    assert "skipped 1 empty row (the first at file line 5)" in result.stdout


def test_repeats_with_covariates_compare_the_covariates_too(tmp_path):
    frame = layout_frame("long").assign(promo=lambda d: (d.index % 2).astype(float))
    spec = ("--covariates", "promo")
    path, _ = write(tmp_path, frame, "csv", repeat=(4,))
    result, doc = inspect(path, None, *spec)
    assert result.exit_code == 0, result.output
    assert doc["rows"] == len(frame) and doc["columns"]["covariates"] == ["promo"]
    assert any(w.startswith("dropped 1 row repeating another row exactly") for w in doc["warnings"])
    other = pd.concat([frame, frame.iloc[[4]].assign(promo=7.0)])  # same target, other promo
    path, _ = write(tmp_path, other, "csv")
    result = runner.invoke(app, ["inspect", str(path), *spec])
    assert result.exit_code == 3
    assert f"with different values (file lines 6 and {len(frame) + 2})" in result.stderr


def test_an_id_column_with_empty_cells_is_not_guessed_but_named_first(tmp_path):
    path = tmp_path / "sales.csv"
    frame = stores()
    frame.iloc[7, 0] = None
    frame.to_csv(path, index=False)
    result = runner.invoke(app, ["inspect", str(path)])
    assert result.exit_code == 3, result.output
    assert result.stderr.startswith("error: looks like several series: pass --id-col store\n")
    result = runner.invoke(app, ["inspect", str(path), "--id-col", "store"])
    assert result.exit_code == 3  # the next fix, named by its line
    assert result.stderr.startswith("error: id column 'store' is empty in file line 9\n")
