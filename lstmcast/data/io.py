"""Data tables: read CSV/Parquet, write CSV, TSV, JSON or Parquet (atomically, through `files`)."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pandas as pd

from lstmcast.config import ID_ALIASES
from lstmcast.data.lines import FIRST_LINE
from lstmcast.errors import DataError, UsageError
from lstmcast.files import atomic_write
from lstmcast.text import json_numbers, number_text, time_text

__all__ = [
    "read_table",
    "write_table",
    "table_format",
    "write_stream",
    "output_format",
    "text_frame",
    "records",
]

CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
JSON_SUFFIXES = {".json"}
# Compressed CSV, by the last suffix (data.csv.gz): pandas' name for each compression.
COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zst": "zstd"}
SPREADSHEET_SUFFIXES = {".xlsx", ".xls", ".xlsm", ".ods"}
READABLE = (
    ".csv, .tsv, .txt, .parquet, .pq, CSV compressed as .gz, .bz2, .xz or .zst "
    "(e.g. data.csv.gz), or - for standard input"
)
STDIN = "-"


def table_format(path: Path, allowed: tuple[str, ...] = ("csv", "parquet")) -> str:
    """The format named by a file's extension: 'csv', 'parquet' or 'json'."""
    suffix = path.suffix.lower()
    fmt = (
        "csv"
        if suffix in CSV_SUFFIXES
        else "parquet"
        if suffix in PARQUET_SUFFIXES
        else "json"
        if suffix in JSON_SUFFIXES
        else None
    )
    if fmt not in allowed:
        exts = ", ".join("." + a for a in allowed)
        raise DataError(
            f"{path}: unknown file type '{suffix or '(none)'}'",
            hint=f"lstmcast reads and writes {exts} files; rename the file or convert it",
        )
    return fmt


# pandas' default missing-value strings, applied to every column except id columns, where
# "NA" is Namibia or North America and "007" must stay "007".
NA_STRINGS = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
              "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"]  # fmt: skip


def read_table(
    path: str | os.PathLike, text_columns: tuple[str, ...] = ID_ALIASES, compact: bool = False
) -> pd.DataFrame:
    """Read a CSV (delimiter sniffed, UTF-8 with or without BOM) or Parquet file.

    CSV columns named in `text_columns` (any case; by default the id aliases) are read
    verbatim as text: "007" stays "007" and "NA" is an id, not a missing value.
    With `compact` (reading for a Panel, which keeps float32) floating columns come back as
    float32 and Parquet text columns of `text_columns` as categories: a 10 M row file then
    needs a few hundred MB rather than gigabytes.
    """
    path = Path(path)
    if str(path) == STDIN:
        fmt, compression = "csv", None
    else:
        if not path.exists():
            raise DataError(
                f"{path}: no such file",
                hint="check the path (it is relative to the current folder)",
            )
        if path.is_dir():
            raise DataError(f"{path}: is a folder, not a file")
        fmt, compression = _read_format(path)
    try:
        if fmt == "parquet":
            return _read_parquet(path, text_columns if compact else None)
        df = _read_csv(path, text_columns, compression)
        return _float32(df) if compact else df
    except DataError:
        raise
    except PermissionError as exc:
        raise DataError(f"{path}: permission denied", hint="check the file's permissions") from exc
    except (UnicodeDecodeError, pd.errors.ParserError, ValueError, OSError) as exc:
        raise DataError(f"{path}: cannot be read as {fmt.upper()}: {_first_line(exc)}") from exc


def _read_format(path: Path) -> tuple[str, str | None]:
    """('csv' or 'parquet', the compression or None) of a data file, by its suffixes."""
    suffix = path.suffix.lower()
    compression = COMPRESSIONS.get(suffix)
    inner = Path(path.stem).suffix.lower() if compression else suffix
    if inner in SPREADSHEET_SUFFIXES:
        raise DataError(
            f"{path}: is a spreadsheet; lstmcast reads CSV and Parquet files",
            hint="save it as CSV (File > Save As > CSV UTF-8) and pass that file",
        )
    if compression and inner in CSV_SUFFIXES | {""}:
        if compression == "zstd":
            try:
                import zstandard  # noqa: F401  (pandas reads .zst through it)
            except ImportError:
                raise DataError(
                    f"{path}: reading .zst files needs the Python package 'zstandard', "
                    "which is not installed",
                    hint="pip install zstandard, or decompress the file first (zstd -d)",
                ) from None
        return "csv", compression
    if not compression and inner in CSV_SUFFIXES:
        return "csv", None
    if not compression and inner in PARQUET_SUFFIXES:
        return "parquet", None
    raise DataError(
        f"{path}: unknown file type '{''.join(path.suffixes[-2:]) or '(none)'}'",
        hint=f"lstmcast reads {READABLE}; rename or convert the file",
    )


def _open_compressed(path: Path, compression: str | None):
    """A binary stream of the file's decompressed bytes (for sniffing its first lines)."""
    if compression == "gzip":
        import gzip

        return gzip.open(path, "rb")
    if compression == "bz2":
        import bz2

        return bz2.open(path, "rb")
    if compression == "xz":
        import lzma

        return lzma.open(path, "rb")
    if compression == "zstd":
        import zstandard

        return zstandard.open(path, "rb")
    return open(path, "rb")


def _read_csv(
    path: Path, text_columns: tuple[str, ...] = (), compression: str | None = None
) -> pd.DataFrame:
    name = "standard input" if str(path) == STDIN else str(path)
    if str(path) == STDIN:
        # Standard input can be read only once: it is held in memory and parsed from there.
        import io
        import sys

        data = sys.stdin.buffer.read()
        newline = data.find(b"\n", 0, MAX_FIRST_LINE_BYTES)
        head, source = data[: max(64 * 1024, newline + 1)], io.BytesIO(data)
    else:
        with _open_compressed(path, compression) as fh:
            head = fh.read(64 * 1024)
            while b"\n" not in head and len(head) < MAX_FIRST_LINE_BYTES:  # a very wide first line
                more = fh.read(1 << 20)
                if not more:
                    break
                head += more
        source = path
    if not head.strip():
        raise DataError(f"{name}: the file is empty", hint="a CSV needs a header row and data rows")
    if b"\x00" in head:
        raise DataError(f"{name}: looks like a binary file, not CSV text")
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        # The 64 KiB cut may split a multi-byte character; retry without the last bytes.
        try:
            text = head[:-4].decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DataError(
                f"{name}: is not UTF-8 text",
                hint="save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)",
            ) from exc
    lines = text.splitlines()
    blank = next((i for i, line in enumerate(lines) if line.strip()), 0)  # lines above the header
    first_line = lines[blank] if lines else ""
    sep = _sniff_separator(text, first_line)
    # Semicolon files come from locales that write decimal commas ("1,5"); a value written
    # with a point still parses later, as text, through pd.to_numeric.
    decimal = "," if sep == ";" else "."
    names = next(csv.reader([first_line], delimiter=sep), [])
    _check_width(name, len(names), complete="\n" in text or len(head) < MAX_FIRST_LINE_BYTES)
    _check_names(name, [c.strip() for c in names])
    wanted = {c.lower() for c in text_columns}
    text = [c for c in names if c.strip().lower() in wanted]
    df = pd.read_csv(
        source,
        sep=sep,
        compression=compression if source is path else None,  # pandas decompresses the file
        decimal=decimal,
        encoding="utf-8-sig",
        skipinitialspace=True,
        dtype=dict.fromkeys(text, str),
        keep_default_na=not text,
        na_values={c: NA_STRINGS for c in names if c not in text} if text else None,
        skiprows=blank,
        skip_blank_lines=False,  # kept, so that row i stays file line i + blank + 2 (data.lines)
    )
    df.columns = [str(c).strip() for c in df.columns]
    df.attrs[FIRST_LINE] = blank + 2
    if df.empty:
        raise DataError(f"{name}: has a header but no data rows")
    if decimal == ",":
        _thousands(df, skip=set(text))
    return df


# A number with a decimal comma and points between groups of three digits: 1.234,56
_GROUPED = r"^[+-]?\d{1,3}(?:\.\d{3})+(?:,\d+)?$|^[+-]?\d+(?:,\d+)?$"


def _thousands(df: pd.DataFrame, skip: set[str]) -> None:
    """Text columns of a decimal-comma file whose every value is written like `1.234,56`.

    pandas' own `thousands="."` would read the date `03.01.2022` as the number 3012022, so
    points are dropped only in columns where every value has this shape.
    """
    for i, col in enumerate(df.columns):
        s = df.iloc[:, i]
        if col in skip or pd.api.types.is_numeric_dtype(s) or not pd.api.types.is_string_dtype(s):
            continue
        text = s.astype("string").str.strip()
        present = text.notna() & (text != "")
        if not present.any() or not text[present].str.match(_GROUPED).all():
            continue
        plain = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        df.isetitem(i, pd.to_numeric(plain.where(present), errors="coerce").astype("float64"))


# Reading costs about 0.1 ms per column (pandas builds one Series per column), so the widest
# file read takes seconds; wider ones are refused from the column names line before anything is parsed.
MAX_COLUMNS = 20_000
MAX_FIRST_LINE_BYTES = 16 << 20  # a first line longer than this is no table lstmcast reads


def _check_width(path: Path | str, columns: int, complete: bool = True) -> None:
    """Refuse a table wider than MAX_COLUMNS (or with a first line that never ends)."""
    if columns > MAX_COLUMNS or not complete:
        counted = f"{columns:,}" if complete else f"more than {columns:,}"
        raise DataError(
            f"{path}: has {counted} columns; lstmcast reads at most {MAX_COLUMNS:,}",
            hint="with many series write the file in long format: columns unique_id, ds, y "
            "(one row per series and timestamp)",
        )


def _check_names(path: Path | str, names: list[str]) -> None:
    """Refuse repeated column names: pandas would silently rename the second `a` to `a.1`."""
    seen, repeated = set(), []
    for name in names:
        if name in seen and name not in repeated:
            repeated.append(name)
        seen.add(name)
    if repeated:
        shown = ", ".join(f"'{n}'" for n in repeated[:5]) + (" ..." if len(repeated) > 5 else "")
        raise DataError(
            f"{path}: the column {'name' if len(repeated) == 1 else 'names'} {shown} "
            f"{'appears' if len(repeated) == 1 else 'appear'} more than once in the header",
            hint="give every column its own name",
        )


def _sniff_separator(text: str, first_line: str) -> str:
    try:
        return csv.Sniffer().sniff(text[:8192], delimiters=",;\t").delimiter
    except csv.Error:
        # One column files and odd quoting defeat the sniffer: count candidates in the first line.
        counts = {sep: first_line.count(sep) for sep in (",", ";", "\t")}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


BATCH_ROWS = 1 << 20  # rows cast per step of compact Parquet reading


def _read_parquet(path: Path, text_columns: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Parquet through pyarrow; with `text_columns` (compact), batch by batch.

    Compact reading keeps only float32 copies of floating columns (cast one batch at a time,
    so the file's float64 column never exists whole) and reads the text columns named in
    `text_columns` as dictionaries, so each id is stored once rather than once per row.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        if text_columns is None:
            table = pq.read_table(path)
        else:
            wanted = {c.lower() for c in text_columns}
            schema = pq.read_schema(path)
            _check_width(path, len(schema.names))
            _check_names(path, [n.strip() for n in schema.names])
            ids = [
                f.name
                for f in schema
                if f.name.strip().lower() in wanted
                and (pa.types.is_string(f.type) or pa.types.is_large_string(f.type))
            ]
            pf = pq.ParquetFile(path, read_dictionary=ids)
            batches = [_float32_batch(b) for b in pf.iter_batches(batch_size=BATCH_ROWS)]
            table = (
                pa.Table.from_batches(batches)
                if batches
                else _float32_batch(pf.schema_arrow.empty_table())
            )
            del batches  # the table holds the only reference: self_destruct frees as it goes
    except DataError:
        raise
    except Exception as exc:  # pyarrow raises its own ArrowInvalid / OSError family
        raise DataError(f"{path}: cannot be read as Parquet: {_first_line(exc)}") from exc
    if table.num_rows == 0:
        raise DataError(f"{path}: has no data rows")
    if text_columns is None:
        return table.to_pandas()
    df = table.to_pandas(split_blocks=True, self_destruct=True)
    del table
    # Arrow's allocator keeps freed batches for reuse; nothing else will read Parquet now.
    pa.default_memory_pool().release_unused()
    return df


def _float32_batch(batch):
    """A record batch (or table) with every floating column cast to float32."""
    import pyarrow as pa

    for i, field in enumerate(batch.schema):
        if pa.types.is_floating(field.type) and field.type != pa.float32():
            batch = batch.set_column(i, field.name, batch.column(i).cast(pa.float32()))
    return batch


def _float32(df: pd.DataFrame) -> pd.DataFrame:
    """Cast float64 columns to float32 in place of the originals, one column at a time."""
    for i in np.flatnonzero((df.dtypes == "float64").to_numpy()):
        df.isetitem(int(i), df.iloc[:, i].astype("float32"))
    return df


# What an output file's extension selects; "-" (standard output) takes --format instead.
OUTPUT_FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "tsv", ".json": "json",
                  ".parquet": "parquet", ".pq": "parquet"}  # fmt: skip
SEPARATORS = {"csv": ",", "tsv": "\t"}


def output_format(path: str | os.PathLike, flag: str = "--output") -> str:
    """The format an output path's extension names: csv, tsv, json or parquet (else exit 2)."""
    suffix = Path(path).suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        hint = "name a .csv, .tsv, .json or .parquet file, or - for standard output"
        if suffix in (".xlsx", ".xls", ".ods"):
            hint += " (a spreadsheet opens .csv files)"
        raise UsageError(f"{flag} {path}: cannot write '{suffix or '(no extension)'}' files", hint)
    return OUTPUT_FORMATS[suffix]


def write_table(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write a DataFrame as CSV, TSV, JSON or Parquet (by extension), atomically."""
    path = Path(path)
    fmt = output_format(path)
    if fmt == "parquet":
        atomic_write(path, lambda fh: df.to_parquet(fh, index=False, engine="pyarrow"))
    else:
        atomic_write(path, lambda fh: write_stream(df, fh, fmt), text=True)


def write_stream(df: pd.DataFrame, fh, fmt: str) -> None:
    """CSV, TSV or JSON text of `df` to an open text stream (a file, or standard output).

    Numbers are the shortest decimals that read back to the same value (float32 columns from
    their float32 value), timestamps ISO 8601 (see time_text); JSON is a list of records.
    """
    if fmt == "json":
        rows = _json_rows(df)
        fh.write("[\n" + ",\n".join(rows.tolist()) + ("\n]\n" if len(rows) else "]\n"))
    else:
        text_frame(df).to_csv(fh, index=False, sep=SEPARATORS[fmt], lineterminator="\n")


def _is_time(col: pd.Series) -> bool:
    return pd.api.types.is_datetime64_any_dtype(col.dtype)


def text_frame(df: pd.DataFrame) -> pd.DataFrame:
    """`df` with float columns as number_text and timestamp columns as time_text."""
    out = df.copy(deep=False)
    for i, (_, col) in enumerate(df.items()):
        if pd.api.types.is_float_dtype(col.dtype):
            out.isetitem(i, number_text(col.to_numpy()))
        elif _is_time(col):
            out.isetitem(i, time_text(col))
    return out


def _json_rows(df: pd.DataFrame) -> np.ndarray:
    """One JSON object per row, as text, built column by column (vectorised, like to_csv)."""
    import json

    rows = None
    for name, col in df.items():
        if pd.api.types.is_float_dtype(col.dtype):
            text = json_numbers(col.to_numpy())
        elif _is_time(col):
            text = time_text(col)
            text = np.where(text == "", "null", np.strings.add(np.strings.add('"', text), '"'))
        elif pd.api.types.is_bool_dtype(col.dtype):
            text = np.where(col.to_numpy(), "true", "false")
        elif pd.api.types.is_integer_dtype(col.dtype):
            text = col.to_numpy().astype(str)
        else:  # text: each distinct value escaped once
            codes, uniques = pd.factorize(col)
            encoded = [
                json.dumps(u.item() if hasattr(u, "item") else u, default=str) for u in uniques
            ]
            text = np.array([*encoded, "null"])[codes]  # code -1 (missing) is the last
        field = np.strings.add(json.dumps(str(name)) + ": ", text.astype(str))
        rows = field if rows is None else np.strings.add(np.strings.add(rows, ", "), field)
    if rows is None:
        return np.array(["{}"] * len(df))
    return np.strings.add(np.strings.add("{", rows), "}")


def records(df: pd.DataFrame) -> list[dict]:
    """JSON-ready rows: timestamps as time_text, floats as json_numbers writes them (NaN: None)."""
    cols = {}
    for name, col in df.items():
        if pd.api.types.is_float_dtype(col.dtype):
            cols[name] = [None if t == "null" else float(t) for t in json_numbers(col.to_numpy())]
        elif _is_time(col):
            cols[name] = [t or None for t in time_text(col)]
        else:
            cols[name] = [None if v is pd.NA or v is pd.NaT or v != v else v for v in col.tolist()]
    names = [str(n) for n in cols]
    return [dict(zip(names, row, strict=True)) for row in zip(*cols.values(), strict=True)]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
