"""Reading CSV/Parquet tables, clear errors for files that are not tables, atomic writes."""

import json
import os
import stat

import numpy as np
import pandas as pd
import pytest

from lstmcast.config import DataSpec
from lstmcast.data.io import read_table, table_format, write_table
from lstmcast.data.load import load
from lstmcast.errors import DataError, LstmcastError, OutputError
from lstmcast.files import atomic_write


def frame():
    return pd.DataFrame(
        {
            "unique_id": ["a", "a", "b"],
            "ds": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-01"]),
            "yhat": [1.5, -2.25, 1e-7],
        }
    )


# ---------------------------------------------------------------- reading CSV


@pytest.mark.parametrize(
    "text",
    [
        "ds,y\n2024-01-01,1.5\n2024-01-02,2\n",
        "ds;y\n2024-01-01;1,5\n2024-01-02;2\n",  # semicolon files use decimal commas
        "ds\ty\n2024-01-01\t1.5\n2024-01-02\t2\n",
        "ds,y\r\n2024-01-01,1.5\r\n2024-01-02,2\r\n",  # Windows line ends
    ],
    ids=["comma", "semicolon", "tab", "crlf"],
)
def test_csv_delimiter_is_sniffed(write_csv, text):
    df = read_table(write_csv(text))
    assert list(df.columns) == ["ds", "y"]
    assert list(df["ds"]) == ["2024-01-01", "2024-01-02"]
    assert df["y"].tolist() == [1.5, 2.0]


def test_semicolon_file_with_decimal_points_still_parses(write_csv):
    df = read_table(write_csv("ds;y\n2024-01-01;1.5\n2024-01-02;2.25\n2024-01-03;3\n"))
    assert list(df.columns) == ["ds", "y"]
    assert load(df).values.tolist() == [1.5, 2.25, 3.0]


@pytest.mark.parametrize("name", ["data.tsv", "data.txt", "DATA.CSV"])
def test_other_text_extensions_are_csv(write_csv, name):
    df = read_table(write_csv("ds\ty\n2024-01-01\t1\n", name=name))
    assert list(df.columns) == ["ds", "y"]


def test_utf8_bom_does_not_reach_the_first_column_name(write_csv):
    path = write_csv("\ufeffds,y\n2024-01-01,1\n2024-01-02,2\n".encode())
    df = read_table(path)
    assert list(df.columns) == ["ds", "y"]


def test_header_names_are_stripped(write_csv):
    df = read_table(write_csv(" ds , y \n2024-01-01, 1\n"))
    assert list(df.columns) == ["ds", "y"]
    assert df["y"].tolist() == [1]


def test_utf8_text_values_are_kept(write_csv):
    df = read_table(write_csv("city,ds,y\nZürich,2024-01-01,1\nKöln,2024-01-01,2\n"))
    assert df["city"].tolist() == ["Zürich", "Köln"]


# ---------------------------------------------------------------- reading Parquet


@pytest.mark.parametrize("name", ["data.parquet", "data.pq"])
def test_parquet_round_trips(write_parquet, name):
    df = frame()
    back = read_table(write_parquet(df, name))
    pd.testing.assert_frame_equal(back, df, check_dtype=False)
    assert pd.api.types.is_datetime64_any_dtype(back["ds"])


def test_parquet_without_rows_is_a_data_error(write_parquet):
    path = write_parquet(frame().iloc[:0])
    with pytest.raises(DataError, match="no data rows"):
        read_table(path)
    with pytest.raises(DataError, match="no data rows"):
        read_table(path, compact=True)


def test_compact_parquet_read_keeps_ids_as_categories_and_values_as_float32(write_parquet):
    df = pd.DataFrame(
        {
            "unique_id": ["007", "NA", "007", None],
            "ds": pd.date_range("2024-01-01", periods=4, freq="h"),
            "y": [1.5, -2.25, 1e-7, np.nan],
            "n": [1, 2, 3, 4],
            "note": ["x", "y", "z", "w"],
        }
    )
    path = write_parquet(df)
    back = read_table(path, compact=True)
    assert isinstance(back["unique_id"].dtype, pd.CategoricalDtype)
    assert back["unique_id"].astype(object).tolist()[:3] == ["007", "NA", "007"]
    assert back["unique_id"].isna().tolist() == [False, False, False, True]
    assert back["y"].dtype == np.float32 and back["n"].dtype == np.int64
    np.testing.assert_array_equal(back["y"].to_numpy(), df["y"].to_numpy(np.float32))
    assert not isinstance(back["note"].dtype, pd.CategoricalDtype)  # not an id column
    assert read_table(path)["y"].dtype == np.float64  # the plain read is unchanged


def test_compact_csv_read_has_float32_values_and_text_ids(write_csv):
    back = read_table(
        write_csv("unique_id,ds,y\n007,2024-01-01,1.5\nNA,2024-01-01,2\n"), compact=True
    )
    assert back["y"].dtype == np.float32
    assert back["unique_id"].tolist() == ["007", "NA"]


# ---------------------------------------------------------------- files that are not tables


@pytest.mark.parametrize("name", ["data.dat", "data.parquet.gz", "data.json"])
def test_unknown_extension_lists_every_accepted_form(write_csv, name):
    path = write_csv("ds,y\n2024-01-01,1\n", name=name)
    with pytest.raises(DataError, match=r"unknown file type '") as info:
        read_table(path)
    for form in (".csv", ".tsv", ".txt", ".parquet", ".pq", ".gz", ".bz2", ".xz", ".zst", "- for"):
        assert form in info.value.hint
    assert info.value.exit_code == 3


@pytest.mark.parametrize("name", ["data.xlsx", "data.xls", "data.ods"])
def test_spreadsheet_gets_a_save_as_csv_hint(write_csv, name):
    with pytest.raises(DataError, match="is a spreadsheet") as info:
        read_table(write_csv("ds,y\n2024-01-01,1\n", name=name))
    assert "save it as CSV" in info.value.hint


def test_no_extension(write_csv):
    with pytest.raises(DataError, match=r"unknown file type '\(none\)'"):
        read_table(write_csv("ds,y\n2024-01-01,1\n", name="data"))


def test_missing_file(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(DataError, match="no such file") as info:
        read_table(path)
    assert str(path) in info.value.message
    assert info.value.hint


@pytest.mark.parametrize("name", ["folder", "folder.csv"])
def test_folder(tmp_path, name):
    (tmp_path / name).mkdir()
    with pytest.raises(DataError, match="is a folder, not a file"):
        read_table(tmp_path / name)


@pytest.mark.parametrize("text", ["", "  \n\n"], ids=["empty", "blank-lines"])
def test_empty_file(write_csv, text):
    with pytest.raises(DataError, match="the file is empty"):
        read_table(write_csv(text))


def test_header_only(write_csv):
    with pytest.raises(DataError, match="has a header but no data rows"):
        read_table(write_csv("ds,y\n"))


def test_random_bytes_as_csv(write_csv):
    path = write_csv(os.urandom(4096), name="noise.csv")
    with pytest.raises(DataError) as info:
        read_table(path)
    assert str(path) in info.value.message


def test_random_bytes_without_nul_as_csv(write_csv):
    # Without NUL bytes the binary check passes; the UTF-8 check must catch it instead.
    data = os.urandom(4096).replace(b"\x00", b"\xff")
    path = write_csv(data, name="noise.csv")
    with pytest.raises(DataError) as info:
        read_table(path)
    assert str(path) in info.value.message


def test_random_bytes_as_parquet(write_csv):
    path = write_csv(os.urandom(4096), name="noise.parquet")
    with pytest.raises(DataError, match="cannot be read as Parquet"):
        read_table(path)


def test_empty_parquet_file(write_csv):
    with pytest.raises(DataError, match="cannot be read as Parquet"):
        read_table(write_csv(b"", name="empty.parquet"))


def test_latin1_bytes(write_csv):
    path = write_csv("ds,city,y\n2024-01-01,Zürich,1\n".encode("latin-1"))
    with pytest.raises(DataError, match="is not UTF-8 text") as info:
        read_table(path)
    assert "latin1" in info.value.hint


def test_latin1_bytes_after_the_sniffed_head(write_csv):
    # The first 64 KiB are clean UTF-8; the bad byte comes later, during the full read.
    rows = "".join(f"{i},2024-01-01,1\n" for i in range(8000))
    data = ("id,ds,y\n" + rows).encode() + "é,2024-01-02,2\n".encode("latin-1")
    assert len(data) > 64 * 1024
    with pytest.raises(DataError, match="cannot be read as CSV"):
        read_table(write_csv(data))


# ---------------------------------------------------------------- atomic_write


def listing(folder):
    return sorted(p.name for p in folder.iterdir())


def test_atomic_write_creates_the_file(tmp_path):
    path = tmp_path / "out.txt"
    atomic_write(path, lambda fh: fh.write("a\nb\n"), text=True)
    assert path.read_bytes() == b"a\nb\n"  # no newline translation
    assert listing(tmp_path) == ["out.txt"]
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_atomic_write_replaces_and_keeps_permissions(tmp_path):
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")
    path.chmod(0o640)
    atomic_write(path, lambda fh: fh.write(b"new contents"))
    assert path.read_bytes() == b"new contents"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert listing(tmp_path) == ["out.bin"]


@pytest.mark.parametrize(
    "exc, expected",
    [
        (RuntimeError("boom"), RuntimeError),
        (KeyboardInterrupt(), KeyboardInterrupt),
        (OSError(28, "No space left on device"), OutputError),
    ],
    ids=["error", "interrupt", "oserror"],
)
def test_atomic_write_failure_leaves_the_old_file(tmp_path, exc, expected):
    path = tmp_path / "forecast.csv"
    old = b"unique_id,ds,yhat\na,2024-01-01,1.0\n" * 100
    path.write_bytes(old)
    (tmp_path / "other.txt").write_text("untouched")

    def write(fh):
        fh.write(b"half a fi")
        fh.flush()
        raise exc

    with pytest.raises(expected):
        atomic_write(path, write)
    assert path.read_bytes() == old
    assert listing(tmp_path) == ["forecast.csv", "other.txt"]


def test_atomic_write_failure_without_an_old_file_leaves_nothing(tmp_path):
    def write(fh):
        fh.write("partial")
        raise ValueError("boom")

    with pytest.raises(ValueError):
        atomic_write(tmp_path / "new.csv", write, text=True)
    assert listing(tmp_path) == []


def test_atomic_write_oserror_becomes_output_error(tmp_path):
    def write(fh):
        raise OSError(28, "No space left on device")

    with pytest.raises(OutputError, match="no space left on the device") as info:
        atomic_write(tmp_path / "out.csv", write)
    assert info.value.exit_code == 73
    assert "nothing was changed" in info.value.hint


def test_atomic_write_into_a_missing_folder(tmp_path):
    path = tmp_path / "missing" / "out.csv"
    with pytest.raises(OutputError, match="the folder does not exist") as info:
        atomic_write(path, lambda fh: fh.write(b"x"))
    assert str(path) in info.value.message
    assert not (tmp_path / "missing").exists()


# ---------------------------------------------------------------- write_table


def test_write_table_csv_round_trip(tmp_path):
    df = frame()
    path = tmp_path / "out.csv"
    write_table(df, path)
    assert path.read_bytes().startswith(b"unique_id,ds,yhat\n")
    back = read_table(path)
    back["ds"] = pd.to_datetime(back["ds"])
    pd.testing.assert_frame_equal(back, df, check_dtype=False)
    assert back["yhat"].tolist() == df["yhat"].tolist()  # floats written exactly


def test_write_table_parquet_round_trip(tmp_path):
    df = frame()
    path = tmp_path / "out.parquet"
    write_table(df, path)
    pd.testing.assert_frame_equal(read_table(path), df, check_dtype=False)


def test_write_table_json_records(tmp_path):
    df = frame()
    path = tmp_path / "out.json"
    write_table(df, path)
    records = json.loads(path.read_text(encoding="utf-8"))
    assert [r["unique_id"] for r in records] == ["a", "a", "b"]
    assert [r["yhat"] for r in records] == [1.5, -2.25, 1e-7]
    assert pd.to_datetime([r["ds"] for r in records]).equals(pd.DatetimeIndex(df["ds"]))


def test_write_table_replaces_an_existing_file(tmp_path):
    path = tmp_path / "out.csv"
    path.write_text("old\n")
    write_table(frame(), path)
    assert read_table(path).shape == (3, 3)
    assert listing(tmp_path) == ["out.csv"]


def test_write_table_unknown_extension(tmp_path):
    with pytest.raises(LstmcastError, match=r"\.xlsx"):
        write_table(frame(), tmp_path / "out.xlsx")
    assert listing(tmp_path) == []


def test_table_format_by_extension(tmp_path):
    assert table_format(tmp_path / "a.CSV") == "csv"
    assert table_format(tmp_path / "a.pq") == "parquet"
    assert table_format(tmp_path / "a.json", allowed=("csv", "parquet", "json")) == "json"
    with pytest.raises(DataError):
        table_format(tmp_path / "a.json")  # inputs are CSV or Parquet only


def test_values_survive_a_float32_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {"ds": pd.date_range("2024-01-01", periods=50, freq="h"), "y": rng.normal(size=50)}
    )
    path = tmp_path / "out.csv"
    write_table(df, path)
    panel = load(read_table(path))
    np.testing.assert_array_equal(panel.values, df["y"].to_numpy(dtype=np.float32))


# ------------------------------------------------------------------ compressed, stdin, wide


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz"])
def test_compressed_csv_reads_like_the_plain_file(tmp_path, suffix):
    df = pd.DataFrame(
        {"ds": pd.date_range("2024-01-01", periods=5).astype(str), "y": [1.5, 2, 3, 4, 5]}
    )
    path = tmp_path / f"data.csv{suffix}"
    df.to_csv(path, index=False)  # pandas compresses by the suffix
    assert path.read_bytes()[:5] != b"ds,y\n"
    pd.testing.assert_frame_equal(read_table(path), df, check_dtype=False)


def test_zst_without_zstandard_names_the_missing_package(write_csv, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_zstandard(name, *args, **kwargs):
        if name == "zstandard":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_zstandard)
    with pytest.raises(DataError, match="needs the Python package 'zstandard'") as info:
        read_table(write_csv(b"\x28\xb5\x2f\xfd", name="data.csv.zst"))
    assert info.value.exit_code == 3 and "pip install zstandard" in info.value.hint


def test_repeated_column_names_are_named(write_csv):
    # pandas alone would read the second 'a' as 'a.1' and carry on.
    with pytest.raises(DataError, match=r"column names 'a', 'b' appear more than once"):
        read_table(write_csv("ds,a,b,a,c,b\n2024-01-01,1,2,3,4,5\n"))


@pytest.mark.slow
def test_a_header_wider_than_the_limit_is_refused_before_parsing(write_csv):
    from lstmcast.data.io import MAX_COLUMNS

    # 200,000 columns: the header alone is read, so this is quick however wide the file.
    header = "ds," + ",".join(f"s{i}" for i in range(200_000))
    path = write_csv(header + "\n2024-01-01" + ",1" * 200_000 + "\n")
    with pytest.raises(
        DataError, match=rf"has 200,001 columns; lstmcast reads at most {MAX_COLUMNS:,}"
    ) as info:
        read_table(path)
    assert "long format" in info.value.hint


def test_a_table_at_the_limit_is_read(write_csv, monkeypatch):
    import lstmcast.data.io as io_

    monkeypatch.setattr(io_, "MAX_COLUMNS", 300)
    wide = "ds," + ",".join(f"s{i}" for i in range(299)) + "\n"
    rows = "".join(
        f"2024-01-0{d}," + ",".join(str(d + i) for i in range(299)) + "\n" for d in range(1, 6)
    )
    panel = load(read_table(write_csv(wide + rows)))
    assert panel.columns.layout == "wide" and panel.n_series == 299
    np.testing.assert_allclose(panel.series(298), [299, 300, 301, 302, 303])
    with pytest.raises(DataError, match="has 301 columns"):
        read_table(write_csv(wide.replace("ds,", "ds,extra,") + rows, name="wider.csv"))


def test_an_all_empty_column_is_skipped_with_a_warning(write_csv):
    path = write_csv("ds,a,empty\n2024-01-01,1,\n2024-01-02,2,\n2024-01-03,3,\n")
    panel = load(read_table(path))
    assert panel.columns.layout == "single" and panel.ids.tolist() == ["a"]
    assert panel.warnings == ["skipped 1 column empty in every row: 'empty'"]
    with pytest.raises(DataError, match="^target column 'empty' is empty in every row$"):
        load(read_table(path), DataSpec(target="a,empty"))
    path = write_csv("ds,y\n,1\n,2\n,3\n", name="no_dates.csv")
    with pytest.raises(DataError, match="time column 'ds' is empty"):
        load(read_table(path))
