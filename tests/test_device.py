"""--device: cuda:N picks a GPU; a missing GPU says why (CPU-only torch, no driver, no such index).

This machine may have no GPU: the message paths run with torch's CUDA queries patched, and
the tests that need a real GPU skip without one.
"""

import pytest
import torch
from helpers import TINY, invoke, train_tiny

from lstmcast.distributed import resolve_device
from lstmcast.errors import UsageError


@pytest.fixture
def gpus(monkeypatch):
    """gpus(n, cuda="12.6"): torch reports n CUDA devices and a CUDA build (None: CPU-only)."""

    def fake(n: int, cuda: str | None = "12.6") -> None:
        monkeypatch.setattr(torch.version, "cuda", cuda)
        monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda is not None and n > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: n if cuda else 0)

    return fake


def test_cuda_index_is_accepted_when_that_gpu_exists(gpus):
    gpus(2)
    assert resolve_device("cuda:1") == torch.device("cuda", 1)
    assert resolve_device("cuda:0") == torch.device("cuda", 0)
    assert resolve_device("cuda") == torch.device("cuda")
    assert resolve_device("auto") == torch.device("cuda")


def test_cuda_index_beyond_the_devices_names_the_ones_there(gpus):
    gpus(2)
    with pytest.raises(UsageError) as err:
        resolve_device("cuda:2")
    assert (
        "--device cuda:2" in err.value.message
        and "2 CUDA devices (cuda:0 to cuda:1)" in err.value.message
    )
    gpus(1)
    with pytest.raises(UsageError, match=r"1 CUDA device \(cuda:0\)"):
        resolve_device("cuda:1")


def test_cpu_only_torch_is_named_with_how_to_get_a_cuda_build(gpus):
    gpus(0, cuda=None)
    with pytest.raises(UsageError) as err:
        resolve_device("cuda:0")
    assert f"torch {torch.__version__} is a CPU-only build" in err.value.message
    assert "TORCH_INDEX=https://download.pytorch.org/whl/cu" in err.value.hint
    assert "--device cpu" in err.value.hint
    assert resolve_device("auto") == torch.device("cpu")


def test_cuda_build_without_a_visible_gpu_points_at_the_driver(gpus):
    gpus(0, cuda="12.6")
    with pytest.raises(UsageError) as err:
        resolve_device("cuda")
    assert "no CUDA device is visible" in err.value.message and "CPU-only" not in err.value.message
    assert "nvidia-smi" in err.value.hint


@pytest.mark.parametrize("name", ["cuda:x", "cuda:", "gpu", "cuda:-1"])
def test_malformed_device_is_a_usage_error_listing_the_forms(name):
    with pytest.raises(UsageError, match=r"expected auto, cpu, cuda, cuda:N"):
        resolve_device(name)


@pytest.mark.slow
def test_cli_reports_the_cpu_only_build_in_one_line_with_exit_2(trained, gpus):
    gpus(0, cuda=None)
    result = invoke("predict", "--model", trained.model, "--device", "cuda:1", ok=False)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: --device cuda:1: the installed torch")
    assert "hint: install a CUDA build" in result.stderr


@pytest.mark.skipif(torch.cuda.device_count() < 1, reason="needs a CUDA GPU")
def test_training_and_forecasting_on_a_chosen_gpu(tmp_path):
    last = f"cuda:{torch.cuda.device_count() - 1}"
    run = train_tiny(tmp_path, "-q", "--no-config", "--device", last)
    invoke("predict", "--model", run.model, "--device", last, "-o", tmp_path / "f.csv", "-q")
    assert (tmp_path / "f.csv").stat().st_size > 0
    assert TINY[-2:] == ["--device", "cpu"]  # the later --device wins, as for every option
