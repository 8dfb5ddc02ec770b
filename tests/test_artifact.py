"""The model file: exact round trip, and every kind of bad file refused with exit 4."""

import dataclasses
import hashlib
import json
import pickle
import struct

import numpy as np
import pytest
import torch
from helpers import rewrite_header
from typer.testing import CliRunner

from lstmcast import api
from lstmcast.cli import app
from lstmcast.config import ModelConfig
from lstmcast.errors import ModelFileError
from lstmcast.methods.lstm import LSTMForecaster
from lstmcast.modelfile.container import (
    FORMAT_VERSION,
    MAGIC,
    load_artifact,
    read_header,
    save_artifact,
)

runner = CliRunner()

HEADER = {"format_version": FORMAT_VERSION, "note": "héllo", "nested": {"a": [1, 2.5, None]}}


def tensors() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "weights.w": rng.standard_normal((3, 4)).astype(np.float32),
        "weights.b": np.array([np.nan, np.inf, -0.0, 1e-30], dtype=np.float32),
        "f64": rng.standard_normal(5),
        "i64": np.array([[-(2**40), 7]], dtype=np.int64),
        "i32": np.arange(6, dtype=np.int32).reshape(2, 3, 1),
        "empty": np.zeros((0, 4), dtype=np.float32),
        "strided": np.arange(20, dtype=np.float32).reshape(4, 5)[:, ::2],  # not contiguous
    }


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "m.lstmcast"
    save_artifact(path, HEADER, tensors())
    return path


def test_round_trip_is_exact(model_file):
    header, got = load_artifact(model_file)
    assert {k: header[k] for k in HEADER} == HEADER
    assert header["payload_sha256"]
    expected = tensors()
    assert got.keys() == expected.keys()
    for name, array in expected.items():
        assert got[name].dtype == array.dtype, name
        assert got[name].shape == array.shape, name
        np.testing.assert_array_equal(got[name], array, err_msg=name)
        assert got[name].tobytes() == np.ascontiguousarray(array).tobytes(), name  # bit-exact
        assert got[name].flags.writeable  # a copy, not a view of the read buffer


def test_zero_dim_tensor_keeps_its_shape(tmp_path):
    # np.ascontiguousarray makes 0-d arrays 1-d, so a scalar buffer came back as shape (1,),
    # which load_state_dict would refuse for a model with a scalar buffer.
    save_artifact(tmp_path / "s.lstmcast", {}, {"scalar": np.array(3.5, dtype=np.float32)})
    _, got = load_artifact(tmp_path / "s.lstmcast")
    assert got["scalar"].shape == ()
    assert got["scalar"] == np.float32(3.5)


def test_read_header_lists_every_tensor(model_file):
    header, start = read_header(model_file)
    assert set(header["tensors"]) == set(tensors())
    assert header["tensors"]["weights.w"] == {
        "dtype": "float32",
        "shape": [3, 4],
        "offset": header["tensors"]["weights.w"]["offset"],
        "nbytes": 48,
    }
    data = model_file.read_bytes()
    assert data[:8] == MAGIC
    assert hashlib.sha256(data[start:]).hexdigest() == header["payload_sha256"]


def test_save_refuses_an_unsupported_dtype(tmp_path):
    with pytest.raises(TypeError, match="unsupported dtype"):
        save_artifact(tmp_path / "x.lstmcast", {}, {"s": np.array(["a"])})
    assert list(tmp_path.iterdir()) == []  # no file, no temp file left


def test_loaded_model_gives_identical_predictions(tmp_path):
    cfg = ModelConfig(
        lookback=12, horizon=4, season=4, patch=4, hidden_size=8, layers=2, periods=(4.0, 7.0)
    )
    torch.manual_seed(3)
    model = LSTMForecaster(cfg).eval()
    header = {"format_version": FORMAT_VERSION, "model": dataclasses.asdict(cfg)}
    weights = {f"weights.{k}": v.numpy() for k, v in model.state_dict().items()}
    save_artifact(tmp_path / "m.lstmcast", header, weights)
    loaded, _ = api.load_model(tmp_path / "m.lstmcast")
    again, _ = api.load_model(tmp_path / "m.lstmcast")
    assert loaded.cfg == cfg
    x, phase = torch.randn(7, 12) * 3 + 20, (torch.arange(7)[:, None] % 4).float().repeat(1, 2)
    with torch.no_grad():
        a, b, c = model(x, phase)[0], loaded(x, phase)[0], again(x, phase)[0]
    assert torch.equal(a, b)
    assert torch.equal(b, c)


# --- refused files ----------------------------------------------------------------------


def refused(path, match: str) -> ModelFileError:
    with pytest.raises(ModelFileError, match=match) as info:
        load_artifact(path)
    assert info.value.exit_code == 4
    return info.value


def test_missing_file(tmp_path):
    err = refused(tmp_path / "nope.lstmcast", "no such model file")
    assert "lstmcast train" in err.hint


def test_folder(tmp_path):
    refused(tmp_path, "is a folder")


def test_empty_file(tmp_path):
    (tmp_path / "e.lstmcast").write_bytes(b"")
    refused(tmp_path / "e.lstmcast", "not an lstmcast model file.*empty")


def test_wrong_magic(model_file):
    data = bytearray(model_file.read_bytes())
    data[:8] = b"NOTCAST!"
    model_file.write_bytes(bytes(data))
    refused(model_file, "not an lstmcast model file")


@pytest.mark.parametrize("keep", [4, 8, 15, 30, -1])
def test_truncated_file(model_file, keep):
    data = model_file.read_bytes()
    model_file.write_bytes(data[:keep])
    refused(model_file, "truncated|not an lstmcast model file")


def test_truncated_payload_is_refused_from_the_header(model_file):
    # The tensor table says how many bytes follow the header; the file's size must match
    # before the payload is read at all.
    model_file.write_bytes(model_file.read_bytes()[:-10])
    refused(model_file, "truncated model file \\(its tensors need 192 bytes, it holds 182\\)")


def test_bytes_after_the_last_tensor_are_refused(model_file):
    model_file.write_bytes(model_file.read_bytes() + b"\0" * 4)
    refused(model_file, "4 bytes after the last tensor")


def test_flipped_payload_byte_fails_the_checksum(model_file):
    _, start = read_header(model_file)
    data = bytearray(model_file.read_bytes())
    data[start + 5] ^= 0x01
    model_file.write_bytes(bytes(data))
    refused(model_file, "checksum mismatch")


def test_newer_format_version(model_file):
    data = bytearray(model_file.read_bytes())
    data[8:12] = struct.pack("<I", FORMAT_VERSION + 1)
    model_file.write_bytes(bytes(data))
    err = refused(model_file, f"format {FORMAT_VERSION + 1} is newer")
    assert "upgrade" in err.hint
    with pytest.raises(ModelFileError, match="newer"):
        read_header(model_file)  # `info` refuses it too


@pytest.mark.parametrize(
    "head",
    [
        struct.pack("<IQ", 0, 2) + b"{}",  # version 0
        struct.pack("<IQ", 1, 2**40),  # absurd header length
        struct.pack("<IQ", 1, 5) + b"{nope",  # not JSON
        struct.pack("<IQ", 1, 2) + b"[]",  # JSON, not an object
        struct.pack("<IQ", 1, 2) + b"{}",  # no tensor table
        struct.pack("<IQ", 1, 2) + b"\xff\xfe",  # not UTF-8
    ],
)
def test_corrupt_header(tmp_path, head):
    path = tmp_path / "c.lstmcast"
    path.write_bytes(MAGIC + head)
    refused(path, "corrupt model file header")


@pytest.mark.parametrize(
    "change",
    [
        lambda h: h["tensors"]["f64"].update(dtype="object"),
        lambda h: h["tensors"]["f64"].update(shape=[7, 7]),
        lambda h: h["tensors"]["f64"].update(nbytes=3),
        lambda h: h["tensors"]["f64"].pop("offset"),
        lambda h: h["tensors"].update(bad="not a dict"),
    ],
    ids=["dtype", "shape", "nbytes", "no-offset", "entry-not-a-dict"],
)
def test_tampered_tensor_table(model_file, change):
    rewrite_header(model_file, change)
    refused(model_file, "corrupt tensor table")


def test_tensor_table_that_is_not_a_mapping(model_file):
    # A header whose "tensors" is a list passes the framing checks; loading must still
    # answer with a ModelFileError (exit 4), not an AttributeError (exit 1, "internal").
    rewrite_header(model_file, lambda h: h.update(tensors=[]))
    refused(model_file, "corrupt")


# --- files that would run code if unpickled, through the CLI ---------------------------


class Evil:
    """Unpickling this creates the marker file: proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def cli_refuses(path, *, why: str, commands=("predict", "info")):
    calls = {"predict": ["predict", "--model", str(path)], "info": ["info", str(path)]}
    for args in (calls[c] for c in commands):
        result = runner.invoke(app, args)
        assert result.exit_code == 4, (args, result.output)
        assert why in result.stderr, result.stderr
        assert "Traceback" not in result.output
        assert result.stderr.count("\n") <= 2  # one line, and a hint


def test_the_evil_pickle_really_is_evil(tmp_path):
    # Control for the tests below: this payload does create its marker when unpickled.
    marker = tmp_path / "control"
    pickle.loads(pickle.dumps(Evil(marker)))
    assert marker.exists()


@pytest.mark.slow
@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_pickle_is_never_loaded(tmp_path, protocol):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.lstmcast"
    evil.write_bytes(pickle.dumps(Evil(marker), protocol=protocol))
    cli_refuses(evil, why="looks like a Python pickle")
    with pytest.raises(ModelFileError):
        api.load_model(evil)
    assert not marker.exists()


@pytest.mark.slow
def test_pickle_protocol_0_is_never_loaded(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.lstmcast"
    evil.write_bytes(pickle.dumps(Evil(marker), protocol=0))
    cli_refuses(evil, why="not an lstmcast model file")
    assert not marker.exists()


@pytest.mark.slow
def test_torch_save_zip_is_refused(tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"weights": torch.zeros(3)}, path)
    assert path.read_bytes()[:2] == b"PK"
    cli_refuses(path, why="looks like a zip or torch.save file")


def test_legacy_torch_save_is_refused(tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"weights": torch.zeros(3)}, path, _use_new_zipfile_serialization=False)
    cli_refuses(path, why="looks like a Python pickle")


def test_cli_reports_a_checksum_failure(tmp_path):
    cfg = ModelConfig(lookback=12, horizon=4, season=4, patch=4, hidden_size=8, layers=1)
    weights = {f"weights.{k}": v.numpy() for k, v in LSTMForecaster(cfg).state_dict().items()}
    model_file = tmp_path / "m.lstmcast"
    save_artifact(model_file, {"format_version": 1, "model": dataclasses.asdict(cfg)}, weights)
    data = bytearray(model_file.read_bytes())
    data[-1] ^= 0x01
    model_file.write_bytes(bytes(data))
    # `info` reads the header only (no torch, no payload), so only predict sees the checksum
    cli_refuses(model_file, why="checksum mismatch", commands=("predict",))


def test_cli_reports_a_newer_format(model_file):
    data = bytearray(model_file.read_bytes())
    data[8:12] = struct.pack("<I", 99)
    model_file.write_bytes(bytes(data))
    cli_refuses(model_file, why="format 99 is newer")


def test_cli_json_error_document(tmp_path):
    path = tmp_path / "empty.lstmcast"
    path.write_bytes(b"")
    result = runner.invoke(app, ["info", str(path), "--json"])
    assert result.exit_code == 4
    doc = json.loads(result.stdout)
    assert doc["error"]["code"] == 4
    assert doc["error"]["kind"] == "model"
    assert "empty" in doc["error"]["message"]


def test_header_without_a_model_section_is_a_model_file_error(model_file):
    # Valid framing and checksum, but not written by `lstmcast train`.
    with pytest.raises(ModelFileError, match="does not match"):
        api.load_model(model_file)
    result = runner.invoke(app, ["predict", "--model", str(model_file)])
    assert result.exit_code == 4, result.output


def test_info_on_a_header_without_data_and_model_sections_is_exit_4(model_file):
    # A well-framed file that lstmcast train did not write: `info` should say the file is
    # not a usable model (exit 4), not crash with "unexpected KeyError: 'data'" (exit 1).
    result = runner.invoke(app, ["info", str(model_file)])
    assert result.exit_code == 4, result.output
    assert "unexpected" not in result.stderr


def test_predict_with_a_model_section_but_no_data_section_is_exit_4(tmp_path):
    cfg = ModelConfig(lookback=12, horizon=4, season=4, patch=4, hidden_size=8, layers=1)
    weights = {f"weights.{k}": v.numpy() for k, v in LSTMForecaster(cfg).state_dict().items()}
    path = tmp_path / "m.lstmcast"
    save_artifact(path, {"format_version": 1, "model": dataclasses.asdict(cfg)}, weights)
    result = runner.invoke(app, ["predict", "--model", str(path)])
    assert result.exit_code == 4, result.output
    assert "unexpected" not in result.stderr
