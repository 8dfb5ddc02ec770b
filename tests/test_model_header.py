"""A model file is untrusted input: every malformed header is exit 4, at no cost, files intact."""

import dataclasses
import json
import os
import resource
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from lstmcast.cli import app
from lstmcast.config import ModelConfig, TrainConfig
from lstmcast.methods.lstm import build_model
from lstmcast.modelfile.container import FORMAT_VERSION, MAGIC
from lstmcast.modelfile.header import MODEL_FIELDS, TRAIN_FIELDS, weight_shapes

runner = CliRunner()
BIN = Path(sys.executable).parent / "lstmcast"
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "NO_COLOR": "1", "COLUMNS": "200"}


# --- the checker knows the model ---------------------------------------------------------


def test_every_config_field_has_a_checker():
    # A new ModelConfig or TrainConfig field needs a checker in lstmcast/modelfile/header.py.
    assert set(MODEL_FIELDS) == {f.name for f in dataclasses.fields(ModelConfig)}
    assert set(TRAIN_FIELDS) == {f.name for f in dataclasses.fields(TrainConfig)}


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"layers": 3, "periods": (24.0, 168.0, 8766.0)},
        {"ensemble": 3},
        {"covariates": ("price", "promo"), "past_covariates": ("temp",)},
        {"covariates": ("price",), "skip": False, "ensemble": 2},
        {"past_covariates": ("temp",), "quantiles": (0.05, 0.5, 0.95, 0.99)},
        {"skip_cycles": 2},
        {"skip_cycles": 9, "ensemble": 2},  # as many as the lookback holds: 2
    ],
)
def test_weight_shapes_are_those_the_model_builds(extra):
    base = {"lookback": 24, "horizon": 6, "season": 12, "patch": 4, "hidden_size": 5, "layers": 2}
    cfg = ModelConfig(**{**base, **extra})
    built = {k: tuple(v.shape) for k, v in build_model(cfg).state_dict().items()}
    assert weight_shapes(cfg) == built


# --- a real model, then damaged copies of it ---------------------------------------------


def split(path: Path) -> tuple[dict, bytes]:
    """(header, payload) of a model file."""
    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[12:20])
    return json.loads(raw[20 : 20 + length]), raw[20 + length :]


def join(header, payload: bytes) -> bytes:
    head = json.dumps(header).encode()
    return MAGIC + struct.pack("<IQ", FORMAT_VERSION, len(head)) + head + payload


@pytest.fixture
def work(trained, tmp_path):
    """A copy of the trained model, its data and an old forecast, with their bytes."""
    model, data, old = tmp_path / "m.lstmcast", tmp_path / "data.csv", tmp_path / "old.csv"
    model.write_bytes(trained.model.read_bytes())
    data.write_bytes(trained.data.read_bytes())
    old.write_text("unique_id,ds,yhat\nA,2024-01-01,1.0\n")
    return model, data, old


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def refused_everywhere(model: Path, data: Path, old: Path, why: str | None = None) -> None:
    """`info` and `predict -o OLD` both exit 4 with one line and a hint; no file changes."""
    before = snapshot(model.parent)
    for args in (
        ["info", model],
        ["predict", data, "--model", model, "-o", old, "--lock-timeout", "0"],
    ):
        result = runner.invoke(app, [str(a) for a in args])
        assert result.exit_code == 4, (args, result.output)
        lines = result.stderr.splitlines()
        assert (
            len(lines) == 2
            and lines[0].startswith("error: ")
            and lines[1].strip().startswith("hint: ")
        )
        assert "unexpected" not in result.stderr and "Traceback" not in result.output
        if why:
            assert why in lines[0], lines[0]
        after = snapshot(model.parent)
        after.pop("m.lstmcast.lock", None)  # predict creates it; it is its own file
        assert after == {k: v for k, v in before.items() if k != "m.lstmcast.lock"}


@pytest.mark.slow
@pytest.mark.parametrize(
    "where, value, why",
    [
        (("model", "hidden_size"), True, "'model.hidden_size' must be an integer"),
        (("model", "hidden_size"), "8", "'model.hidden_size' must be an integer"),
        (("model", "layers"), 1.0, "'model.layers' must be an integer"),
        (("model", "quantiles"), [0.1, 0.9], "including 0.5"),
        (("model", "quantiles"), "0.5", "'model.quantiles'"),
        (("model", "scaling"), ["std"], "'model.scaling' must be one of"),
        (("model", "patch"), 7, "'model.patch' must be a divisor"),
        (("model", "horizon"), 10**12, "'model.horizon' must be an integer from 1 to 1,000,000"),
        (("data", "targets"), "y", "'data.targets' must be a list"),
        (("data", "ids"), [1, 2, 3], "'data.ids' must be a list"),
        (("data", "freq"), None, "'data.freq' must be a string"),
        (("data", "freq"), "-1h", "'data.freq' must be a positive pandas frequency"),
        (("created_at",), "2026-01-01", "'created_at' must be an ISO 8601 time with its zone"),
        (("train", "seed"), False, "'train.seed' must be an integer"),
        (("metrics", "epochs"), "2", "'metrics.epochs' must be an integer"),
        (("model", "surprise"), 1, "'model.surprise' is unknown to this lstmcast"),
        (("model",), [], "no 'model' section"),
        (("mix_widths",), {"lstm+mean": [[0.0, 0.0, 0.0]]}, "'mix_widths' must be a table"),
        (("mix_widths",), {"lstm+naive": [[-1.0, 0.0]]}, "'mix_widths.lstm+naive' must be"),
    ],
)
def test_a_field_of_the_wrong_type_is_exit_4(work, where, value, why):
    model, data, old = work
    header, payload = split(model)
    target = header
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    model.write_bytes(join(header, payload))
    refused_everywhere(model, data, old, why)


@pytest.mark.parametrize(
    "change, why",
    [
        (lambda t: t["weights.head.3.bias"].update(offset=-4), "bad shape, offset or size"),
        (lambda t: t["weights.head.3.bias"].update(offset=0), "starts at byte 0"),
        (lambda t: t["weights.head.3.bias"].update(shape=[True]), "bad shape, offset or size"),
        (lambda t: t["weights.head.3.bias"].update(dtype="float64"), "bytes for shape"),
        (lambda t: t.pop("weights.head.3.bias"), "starts at byte"),
        (lambda t: t["weights.head.3.bias"].update(shape=[2**40], nbytes=2**42), "bad shape"),
    ],
    ids=["negative-offset", "overlap", "bool-dim", "dtype", "missing", "huge"],
)
def test_a_damaged_tensor_table_is_exit_4(work, change, why):
    model, data, old = work
    header, payload = split(model)
    change(header["tensors"])
    model.write_bytes(join(header, payload))
    refused_everywhere(model, data, old, why)


def test_a_swapped_tensor_shape_is_checked_against_the_configuration(work):
    # A well-formed table whose shapes do not match the recorded configuration.
    model, data, old = work
    header, payload = split(model)
    t = header["tensors"]["weights.lstm.weight_hh_l0"]
    t["shape"] = t["shape"][::-1]
    model.write_bytes(join(header, payload))
    refused_everywhere(model, data, old, "but the recorded configuration needs float32 [32, 8]")


def test_a_huge_hidden_size_is_refused_before_torch_builds_anything(work, monkeypatch):
    # The header claims hidden size 30,000 with consistent shapes and byte counts: a
    # ~3 GB model in a file of a few KB. The size check refuses it from the header alone.
    model, data, old = work
    header, payload = split(model)
    header["model"]["hidden_size"] = 30_000
    cfg = ModelConfig.from_dict(header["model"])
    offset = 0
    for name, shape in weight_shapes(cfg).items():
        n = 4
        for d in shape:
            n *= d
        header["tensors"][f"weights.{name}"] = {
            "dtype": "float32", "shape": list(shape), "offset": offset, "nbytes": n,
        }  # fmt: skip
        offset += n
    model.write_bytes(join(header, payload))
    import lstmcast.methods.lstm

    def never(cfg):
        raise AssertionError("build_model was called")

    monkeypatch.setattr(lstmcast.methods.lstm, "build_model", never)
    refused_everywhere(model, data, old, "corrupt tensor table")


@pytest.mark.slow
def test_a_huge_hidden_size_stays_within_a_small_memory_bound(work):
    # The same file in a real process whose address space is capped at 1.5 GB above what
    # it has at the start: allocating the claimed model would fail with MemoryError (exit 1).
    model, data, old = work
    header, payload = split(model)
    header["model"]["hidden_size"] = 30_000
    model.write_bytes(join(header, payload))
    code = (
        "import resource, sys; from lstmcast.cli import app; import torch\n"
        "with open('/proc/self/statm') as f: now = int(f.read().split()[0]) * resource.getpagesize()\n"
        "resource.setrlimit(resource.RLIMIT_AS, (now + 1_500_000_000, resource.RLIM_INFINITY))\n"
        "sys.argv = ['lstmcast'] + sys.argv[1:]; app()\n"
    )
    before = snapshot(model.parent)
    proc = subprocess.run(
        [sys.executable, "-c", code, "predict", str(data), "--model", str(model), "-o", str(old)],
        env=ENV, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 4, proc.stderr
    assert "model.hidden_size" in proc.stderr or "tensor" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert snapshot(model.parent).items() >= before.items()


@pytest.mark.slow
def test_a_fifo_as_the_model_is_refused_at_once(work, tmp_path):
    model, data, old = work
    fifo = tmp_path / "fifo.lstmcast"
    os.mkfifo(fifo)
    for args in (["info", fifo], ["predict", data, "--model", fifo, "-o", old]):
        started = time.monotonic()
        proc = subprocess.run(
            [str(BIN), *map(str, args)], env=ENV, capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 4, proc.stderr
        assert "is a FIFO, not a model file" in proc.stderr
        assert time.monotonic() - started < 30
    assert not (tmp_path / "fifo.lstmcast.lock").exists()  # refused before the lock


def test_a_folder_or_device_as_the_model_is_exit_4(work, tmp_path):
    model, data, old = work
    for path, kind in ((tmp_path, "a folder"), (Path("/dev/null"), "a device")):
        result = runner.invoke(app, ["info", str(path)])
        assert result.exit_code == 4, result.output
        assert f"is {kind}, not a model file" in result.stderr


def join_text(head: str, payload: bytes) -> bytes:
    raw = head.encode()
    return MAGIC + struct.pack("<IQ", FORMAT_VERSION, len(raw)) + raw + payload


@pytest.mark.parametrize("depth", [20, 100_000])
def test_deep_nesting_is_exit_4(work, depth):
    model, data, old = work
    header, payload = split(model)
    text = json.dumps(header)[:-1] + ', "deep": ' + "[" * depth + "]" * depth + "}"
    model.write_bytes(join_text(text, payload))
    refused_everywhere(model, data, old, "corrupt model file header")


def test_an_integer_of_thousands_of_digits_is_exit_4(work):
    # json.loads refuses it with a plain ValueError (Python's int digit limit).
    model, data, old = work
    header, payload = split(model)
    text = json.dumps(header).replace('"hidden_size": 8', '"hidden_size": ' + "9" * 5000)
    assert "9" * 5000 in text
    model.write_bytes(join_text(text, payload))
    refused_everywhere(model, data, old, "corrupt model file header")


def test_a_header_length_past_the_end_of_the_file_is_exit_4(work):
    model, data, old = work
    raw = bytearray(model.read_bytes())
    raw[12:20] = struct.pack("<Q", 2**26)  # within the header bound, past the end of the file
    model.write_bytes(bytes(raw))
    refused_everywhere(model, data, old, "truncated model file")


# --- random damage ------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from([0, -1, 2**31, 2**63, 10**9])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=8,
)  # fmt: skip


def paths(value, prefix=()):
    """Every (key path) into a parsed JSON header."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for key, inner in items:
        yield (*prefix, key)
        yield from paths(inner, (*prefix, key))


def run_all(model, data, old) -> list:
    results = []
    for args in (
        ["info", model],
        ["predict", data, "--model", model, "-o", old, "--lock-timeout", "0"],
    ):
        result = runner.invoke(app, [str(a) for a in args])
        assert result.exit_code in (0, 3, 4), (args, result.output)
        assert "Traceback" not in result.output and "unexpected" not in result.stderr
        if result.exit_code:
            assert len(result.stderr.splitlines()) <= 2, result.stderr
        results.append(result.exit_code)
    return results


PROPERTY = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.mark.slow
@PROPERTY
@given(data=st.data())
def test_any_field_replaced_by_any_value_is_a_clean_outcome(trained, work, data):
    # Some replacements are harmless (a different training time); every other is exit 4.
    model, csv, old = work
    model.write_bytes(trained.model.read_bytes())
    header, payload = split(model)
    keys = sorted(paths(header), key=repr)
    where = data.draw(st.sampled_from(keys))
    target = header
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = data.draw(json_values)
    model.write_bytes(join(header, payload))
    before = {csv.name: csv.read_bytes(), model.name: model.read_bytes()}
    old_bytes = old.read_bytes()
    codes = run_all(model, csv, old)
    assert {csv.name: csv.read_bytes(), model.name: model.read_bytes()} == before
    if codes[1] != 0:
        assert old.read_bytes() == old_bytes
    old.write_bytes(old_bytes)


@pytest.mark.slow
@PROPERTY
@given(data=st.data())
def test_any_cut_or_flipped_byte_is_exit_4(work, data):
    model, csv, old = work
    raw = model.read_bytes()
    header_end = 20 + struct.unpack("<Q", raw[12:20])[0]
    cut = data.draw(st.booleans())
    if cut:
        damaged = raw[: data.draw(st.integers(0, len(raw) - 1))]
    else:  # a byte of the framing or the header: the payload has its checksum
        at = data.draw(st.integers(0, header_end - 1))
        damaged = raw[:at] + bytes([raw[at] ^ data.draw(st.integers(1, 255))]) + raw[at + 1 :]
    model.write_bytes(damaged)
    old_bytes = old.read_bytes()
    codes = run_all(model, csv, old)
    assert model.read_bytes() == damaged
    if codes[1] != 0:
        assert old.read_bytes() == old_bytes
    if cut:  # a flipped digit of a timestamp may be harmless; a cut file never is
        assert codes == [4, 4]
    model.write_bytes(raw)
    old.write_bytes(old_bytes)


@pytest.mark.slow
@PROPERTY
@given(shape=st.lists(st.integers(-3, 2**40), max_size=4), offset=st.integers(-(2**65), 2**65))
def test_any_tensor_range_is_checked_against_the_file(work, shape, offset):
    model, csv, old = work
    raw = model.read_bytes()
    header, payload = split(model)
    entry = header["tensors"]["weights.lstm.weight_hh_l0"]
    if shape == entry["shape"] and offset == entry["offset"]:
        return
    entry.update(shape=shape, offset=offset, nbytes=4 * max(1, abs(sum(shape))))
    model.write_bytes(join(header, payload))
    old_bytes = old.read_bytes()
    assert run_all(model, csv, old) == [4, 4]
    assert old.read_bytes() == old_bytes
    model.write_bytes(raw)


def test_the_memory_limit_of_this_module_is_real():
    # Control for the memory test above: the same cap does stop a 3 GB allocation.
    code = (
        "import resource\n"
        "with open('/proc/self/statm') as f: now = int(f.read().split()[0]) * resource.getpagesize()\n"
        "resource.setrlimit(resource.RLIMIT_AS, (now + 1_500_000_000, resource.RLIM_INFINITY))\n"
        "b = bytearray(3_000_000_000)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "MemoryError" in proc.stderr
    assert resource.RLIMIT_AS  # the platform has the limit
