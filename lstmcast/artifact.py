"""The model file: a JSON header and raw little-endian tensors. Loading never executes code.

Layout: b"LSTMCAST" | format version (uint32 LE) | header length (uint64 LE) | header JSON |
payload. The header lists each tensor's dtype, shape and byte range in the payload and the
payload's SHA-256, so a truncated or altered file is refused instead of half-loaded.
No pickle is involved anywhere, and `info` can read the header without importing torch.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from pathlib import Path

import numpy as np

from lstmcast.errors import ModelFileError
from lstmcast.io import atomic_write

__all__ = ["FORMAT_VERSION", "save_artifact", "load_artifact", "read_header"]

MAGIC = b"LSTMCAST"
FORMAT_VERSION = 1
DTYPES = {"float32": np.float32, "float64": np.float64, "int64": np.int64, "int32": np.int32}
MAX_HEADER = 256 * 1024 * 1024  # a header larger than this is corrupt, not big


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

    def write(fh):
        fh.write(MAGIC + struct.pack("<IQ", FORMAT_VERSION, len(head)))
        fh.write(head)
        fh.write(payload)

    atomic_write(path, write)


def read_header(path: str | os.PathLike) -> tuple[dict, int]:
    """The JSON header of a model file and the payload's start offset; validates the framing."""
    path = Path(path)
    if not path.exists():
        raise ModelFileError(
            f"{path}: no such model file", hint="train one with: lstmcast train DATA --model PATH"
        )
    if path.is_dir():
        raise ModelFileError(f"{path}: is a folder, not a model file")
    try:
        with open(path, "rb") as fh:
            start = fh.read(len(MAGIC) + 12)
            if start[: len(MAGIC)] != MAGIC:
                raise ModelFileError(
                    f"{path}: not an lstmcast model file ({_sniff(start)})",
                    hint="pass a file written by lstmcast train",
                )
            if len(start) < len(MAGIC) + 12:
                raise ModelFileError(
                    f"{path}: truncated model file",
                    hint="retrain, or restore the file from a backup",
                )
            version, head_len = struct.unpack("<IQ", start[len(MAGIC) :])
            if version > FORMAT_VERSION:
                raise ModelFileError(
                    f"{path}: model file format {version} is newer than this lstmcast understands ({FORMAT_VERSION})",
                    hint="upgrade lstmcast: pip install -U lstmcast",
                )
            if version < 1 or head_len > MAX_HEADER:
                raise ModelFileError(f"{path}: corrupt model file header")
            head = fh.read(head_len)
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot read: {exc.strerror}") from exc
    if len(head) < head_len:
        raise ModelFileError(
            f"{path}: truncated model file", hint="retrain, or restore the file from a backup"
        )
    try:
        header = json.loads(head.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path}: corrupt model file header") from exc
    if (
        not isinstance(header, dict)
        or not isinstance(header.get("tensors"), dict)
        or "payload_sha256" not in header
    ):
        raise ModelFileError(f"{path}: corrupt model file header")
    return header, len(MAGIC) + 12 + head_len


def load_artifact(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray]]:
    """Read and verify a model file: (header, {name: array}). Raises ModelFileError (exit 4)."""
    header, start = read_header(path)
    with open(path, "rb") as fh:
        fh.seek(start)
        payload = fh.read()
    if hashlib.sha256(payload).hexdigest() != header["payload_sha256"]:
        raise ModelFileError(
            f"{path}: the model file is corrupt or truncated (checksum mismatch)",
            hint="retrain, or restore the file from a backup",
        )
    tensors = {}
    try:
        for name, t in header["tensors"].items():
            dtype = np.dtype(DTYPES[t["dtype"]]).newbyteorder("<")
            raw = payload[t["offset"] : t["offset"] + t["nbytes"]]
            tensors[name] = (
                np.frombuffer(raw, dtype=dtype).reshape(t["shape"]).astype(DTYPES[t["dtype"]])
            )
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise ModelFileError(f"{path}: corrupt tensor table in the model file") from exc
    return header, tensors


def _sniff(start: bytes) -> str:
    if start[:1] == b"\x80" or start[:1] in (b"(", b"c"):
        return "it looks like a Python pickle, which lstmcast never loads"
    if start[:2] == b"PK":
        return "it looks like a zip or torch.save file, which lstmcast never loads"
    if not start:
        return "the file is empty"
    return "unknown content"
