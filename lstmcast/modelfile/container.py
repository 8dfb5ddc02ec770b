"""The model file: a JSON header and raw little-endian tensors. Loading never executes code.

Layout: b"LSTMCAST" | format version (uint32 LE) | header length (uint64 LE) | header JSON |
payload. The header lists each tensor's dtype, shape and byte range in the payload and the
payload's SHA-256, so a truncated or altered file is refused instead of half-loaded.
No pickle is involved anywhere, and `info` can read the header without importing torch.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import stat
import struct
from pathlib import Path

import numpy as np

from lstmcast.errors import ModelFileError, OutputError, UsageError
from lstmcast.files import atomic_write

__all__ = [
    "FORMAT_VERSION",
    "save_artifact",
    "load_artifact",
    "read_header",
    "open_model_file",
    "check_model_path",
    "check_model_target",
]

MAGIC = b"LSTMCAST"
# 2: bands of per-series methods in the unit named by the header's `band_scale`, and each
# series' last timestamp (`data.last`). A reader of format 1 would misread both, so it is told
# the file is newer; this reader still reads format 1 (bands in plain MASE units).
FORMAT_VERSION = 2
DTYPES = {"float32": np.float32, "float64": np.float64, "int64": np.int64, "int32": np.int32}
MAX_HEADER = 64 * 1024 * 1024  # a header larger than this is corrupt, not big (ids of ~2M series)
MAX_DEPTH = 16  # lstmcast writes headers 5 levels deep; deeper is not ours
MAX_PAYLOAD = 2**31  # bytes of tensors: ~500 M float32 parameters, far beyond any model here
MAX_TENSORS = 100_000
MAX_DIMS = 8


def save_artifact(path: str | os.PathLike, header: dict, tensors: dict[str, np.ndarray]) -> None:
    """Write header and tensors to `path` atomically (temp file, fsync, rename)."""
    manifest, chunks, offset = {}, [], 0
    for name, array in tensors.items():
        array = np.asarray(array)  # ascontiguousarray would turn a 0-d array into shape (1,)
        dtype = str(array.dtype)
        if dtype not in DTYPES:
            raise TypeError(f"tensor {name}: unsupported dtype {dtype}")
        data = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        manifest[name] = {
            "dtype": dtype,
            "shape": list(array.shape),
            "offset": offset,
            "nbytes": len(data),
        }
        chunks.append(data)
        offset += len(data)
    payload = b"".join(chunks)
    doc = {**header, "tensors": manifest, "payload_sha256": hashlib.sha256(payload).hexdigest()}
    head = json.dumps(doc, separators=(",", ":"), sort_keys=True).encode("utf-8")
    if len(head) > MAX_HEADER:  # read_header would refuse it: write nothing instead
        raise OutputError(
            f"{path}: the model file's header would be {len(head):,} bytes, more than the "
            f"{MAX_HEADER:,} lstmcast reads",
            hint="train on fewer series per model, or with a shorter --horizon",
        )

    def write(fh):
        fh.write(MAGIC + struct.pack("<IQ", FORMAT_VERSION, len(head)))
        fh.write(head)
        fh.write(payload)

    atomic_write(path, write)


def read_header(path: str | os.PathLike) -> tuple[dict, int]:
    """The JSON header of a model file and the payload's start offset.

    Validates the framing and the whole tensor table against the file's size before
    anything is allocated: see check_tensor_table.
    """
    header, start, _ = _read_header(path)
    return header, start


def _read_header(path) -> tuple[dict, int, int]:
    path = Path(path)
    fd = open_model_file(path)
    with os.fdopen(fd, "rb") as fh:
        size = os.fstat(fd).st_size
        start = fh.read(len(MAGIC) + 12)
        if start[: len(MAGIC)] != MAGIC:
            raise ModelFileError(
                f"{path}: not an lstmcast model file ({_sniff(start)})",
                hint="pass a file written by lstmcast train",
            )
        if len(start) < len(MAGIC) + 12:
            raise _truncated(path)
        version, head_len = struct.unpack("<IQ", start[len(MAGIC) :])
        if version > FORMAT_VERSION:
            raise ModelFileError(
                f"{path}: model file format {version} is newer than this lstmcast understands ({FORMAT_VERSION})",
                hint="upgrade lstmcast: pip install -U lstmcast",
            )
        if version < 1:
            raise _corrupt(path, f"format version {version}")
        if head_len > MAX_HEADER:
            raise _corrupt(path, f"header length {head_len:,}, over {MAX_HEADER:,} bytes")
        if len(start) + head_len > size:
            raise _truncated(path)
        try:
            head = fh.read(head_len)
        except OSError as exc:
            raise ModelFileError(f"{path}: cannot read: {exc.strerror}") from exc
    if len(head) < head_len:
        raise _truncated(path)
    try:
        header = json.loads(head.decode("utf-8"))
    except RecursionError:
        raise _corrupt(path, f"nested more than {MAX_DEPTH} levels deep") from None
    except ValueError as exc:  # not UTF-8, not JSON, or an integer of thousands of digits
        raise _corrupt(path, "not UTF-8 JSON") from exc
    if _depth(header) > MAX_DEPTH:
        raise _corrupt(path, f"nested more than {MAX_DEPTH} levels deep")
    if (
        not isinstance(header, dict)
        or not isinstance(header.get("tensors"), dict)
        or not isinstance(header.get("payload_sha256"), str)
    ):
        raise _corrupt(path, "no tensor table")
    payload = size - len(start) - head_len
    check_tensor_table(header["tensors"], payload, path)
    return header, len(start) + head_len, payload


def open_model_file(path: str | os.PathLike) -> int:
    """A read-only descriptor of a model file that is a regular file; refuses anything else.

    A FIFO, device or folder is refused from os.stat before it is opened, and O_NONBLOCK
    keeps a FIFO swapped in between from blocking the open (fstat then refuses it).
    """
    path = Path(path)
    try:
        kind = _kind(os.stat(path).st_mode)
        if kind is None:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
            kind = _kind(os.fstat(fd).st_mode)
            if kind is None:
                return fd
            os.close(fd)
    except FileNotFoundError:
        raise ModelFileError(
            f"{path}: no such model file", hint="train one with: lstmcast train DATA --model PATH"
        ) from None
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot read: {exc.strerror}") from exc
    raise ModelFileError(
        f"{path}: is {kind}, not a model file", hint="pass a file written by lstmcast train"
    )


def check_model_path(path: str | os.PathLike) -> None:
    """Refuse at once a model path that is not a readable regular file (before any lock)."""
    os.close(open_model_file(path))


def check_model_target(path: str | os.PathLike) -> None:
    """Refuse (UsageError, exit 2) to write a model over a file that is not an lstmcast model.

    `train --model prices.csv` would otherwise replace the data with a model. A missing or
    empty file, or an existing model file (checked by its first bytes), may be replaced.
    """
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise UsageError(f"--model {path}: cannot be checked: {exc.strerror}") from exc
    kind = _kind(st.st_mode)
    if kind is None and st.st_size == 0:
        return
    if kind is None:
        fd = open_model_file(path)
        with os.fdopen(fd, "rb") as fh:
            if fh.read(len(MAGIC)) == MAGIC:
                return
        kind = "an existing file that is not an lstmcast model"
    raise UsageError(
        f"--model {path} is {kind}: training would replace it with a model file",
        hint="name a new file or an existing model, e.g. --model model.lstmcast",
    )


def _kind(mode: int) -> str | None:
    """None for a regular file, else what it is, for a message."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def check_tensor_table(table: dict, payload: int, path) -> None:
    """Every entry well-typed, its byte count matching dtype and shape, the ranges disjoint,
    non-negative and tiling the payload exactly, which itself is at most MAX_PAYLOAD bytes."""
    if len(table) > MAX_TENSORS:
        raise _bad_table(path, f"{len(table):,} tensors, more than {MAX_TENSORS:,}")
    spans = []
    for name, t in table.items():
        if not isinstance(t, dict) or set(t) != {"dtype", "shape", "offset", "nbytes"}:
            raise _bad_table(path, f"entry {name!r:.60} is not dtype, shape, offset, nbytes")
        shape, offset, nbytes = t["shape"], t["offset"], t["nbytes"]
        if not isinstance(t["dtype"], str) or t["dtype"] not in DTYPES:
            raise _bad_table(path, f"tensor {name!r:.60} has dtype {t['dtype']!r:.30}")
        if (
            not isinstance(shape, list)
            or len(shape) > MAX_DIMS
            or not all(_is_count(d) for d in shape)
            or not _is_count(offset)
            or not _is_count(nbytes)
        ):
            raise _bad_table(path, f"tensor {name!r:.60} has a bad shape, offset or size")
        if math.prod(shape) * np.dtype(DTYPES[t["dtype"]]).itemsize != nbytes:
            raise _bad_table(path, f"tensor {name!r:.60} has {nbytes} bytes for shape {shape}")
        spans.append((offset, nbytes, name))
    end = 0
    for offset, nbytes, name in sorted(spans):
        if offset != end:  # a gap or an overlap: save_artifact writes them back to back
            raise _bad_table(path, f"tensor {name!r:.60} starts at byte {offset}, not {end}")
        end += nbytes
    if end > MAX_PAYLOAD:
        raise _bad_table(path, f"{end:,} bytes of tensors, more than {MAX_PAYLOAD:,}")
    if end != payload:
        if end > payload:
            raise _truncated(path, f"its tensors need {end:,} bytes, it holds {payload:,}")
        raise _bad_table(path, f"{payload - end:,} bytes after the last tensor")


def load_artifact(path: str | os.PathLike, check=None) -> tuple[dict, dict[str, np.ndarray]]:
    """Read and verify a model file: (header, {name: array}). Raises ModelFileError (exit 4).

    `check(header)`, when given, runs after the header is validated and before a single
    payload byte is read, so a caller can refuse a header it cannot use at no cost.
    """
    header, start, size = _read_header(path)
    if check is not None:
        check(header)
    fd = open_model_file(path)
    with os.fdopen(fd, "rb") as fh:
        fh.seek(start)
        payload = fh.read(size + 1)
    if len(payload) != size or hashlib.sha256(payload).hexdigest() != header["payload_sha256"]:
        raise ModelFileError(
            f"{path}: the model file is corrupt or truncated (checksum mismatch)",
            hint="retrain, or restore the file from a backup",
        )
    tensors = {}
    for name, t in header["tensors"].items():
        dtype = np.dtype(DTYPES[t["dtype"]]).newbyteorder("<")
        raw = payload[t["offset"] : t["offset"] + t["nbytes"]]
        tensors[name] = (
            np.frombuffer(raw, dtype=dtype).reshape(t["shape"]).astype(DTYPES[t["dtype"]])
        )
    return header, tensors


def _is_count(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_PAYLOAD


def _depth(value, limit: int = MAX_DEPTH) -> int:
    """Nesting depth of a parsed JSON value, counted without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        v, d = stack.pop()
        deepest = max(deepest, d)
        if deepest > limit:
            break
        if isinstance(v, dict):
            stack.extend((x, d + 1) for x in v.values())
        elif isinstance(v, list):
            stack.extend((x, d + 1) for x in v)
    return deepest


def _corrupt(path, detail: str) -> ModelFileError:
    return ModelFileError(
        f"{path}: corrupt model file header ({detail})",
        hint="retrain, or restore the file from a backup",
    )


def _truncated(path, detail: str = "") -> ModelFileError:
    return ModelFileError(
        f"{path}: truncated model file" + (f" ({detail})" if detail else ""),
        hint="retrain, or restore the file from a backup",
    )


def _bad_table(path, detail: str) -> ModelFileError:
    return ModelFileError(
        f"{path}: corrupt tensor table in the model file: {detail}",
        hint="retrain, or restore the file from a backup",
    )


def _sniff(start: bytes) -> str:
    if start[:1] == b"\x80" or start[:1] in (b"(", b"c"):
        return "it looks like a Python pickle, which lstmcast never loads"
    if start[:2] == b"PK":
        return "it looks like a zip or torch.save file, which lstmcast never loads"
    if not start:
        return "the file is empty"
    return "unknown content"
