"""Where training runs: the device (CPU, cuda:N, mps) and, under torchrun, the process group,
rank helpers and shared decisions.

`torchrun --nproc-per-node N -m lstmcast train DATA` starts N copies of the command; each
reads WORLD_SIZE, RANK and LOCAL_RANK from its environment, joins one process group (gloo on
CPU, NCCL on CUDA with one GPU per process) and trains the same model through
DistributedDataParallel on its own share of the windows. Rank 0 alone takes the model's lock,
writes the model file and reports.

A collective call blocks until every rank makes it, so anything that ends the loop (loss,
validation, clock) is decided from the same numbers on every rank; a rank that fails on its
own tells the others (`agree`) instead of leaving them waiting. Without torchrun every helper
here hands its arguments back unchanged: a plain run is the same run as before. torch is
imported only when needed, so a run that fails on its lock fails before paying for it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import numpy as np

from lstmcast import errors
from lstmcast.errors import DataError, LstmcastError, UsageError
from lstmcast.text import plural
from lstmcast.windows import WindowIndex

if TYPE_CHECKING:
    import torch

__all__ = [
    "resolve_device",
    "launched",
    "active",
    "rank",
    "world_size",
    "is_main",
    "session",
    "main_only",
    "agree",
    "wrap",
    "unwrap",
    "shard",
    "rank_share",
    "shard_index",
    "mean",
    "all_sum",
    "average",
    "rank0_decides",
    "describe",
]

# Collectives wait this long for a slow rank before failing, plus the run's lock timeout:
# the other ranks wait for rank 0 while it waits for the model's lock.
PATIENCE = dt.timedelta(minutes=30)


def launched() -> bool:
    """Started by torchrun with more than one process (a lone process trains as usual)."""
    env = os.environ
    return int(env.get("WORLD_SIZE", "1")) > 1 and "RANK" in env and "LOCAL_RANK" in env


def active() -> bool:
    """A process group is up: training is data-parallel (never without torch.distributed)."""
    if "torch.distributed" not in sys.modules:
        return False
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    if active():
        import torch.distributed as dist

        return dist.get_rank()
    return int(os.environ["RANK"]) if launched() else 0


def world_size() -> int:
    if active():
        import torch.distributed as dist

        return dist.get_world_size()
    return int(os.environ["WORLD_SIZE"]) if launched() else 1


def is_main() -> bool:
    """Rank 0, or a plain run: the process that writes files and prints."""
    return rank() == 0


CUDA_HOWTO = (
    "install a CUDA build of torch: on Linux PyPI's default index has one (make clean && make); "
    "for a given CUDA version, make clean && make TORCH_INDEX=https://download.pytorch.org/whl/cuXYZ "
    "(see https://pytorch.org/get-started/locally); or use --device cpu"
)


def resolve_device(name: str) -> torch.device:
    """auto: CUDA when present, else CPU; cuda:N picks a GPU. A missing accelerator is a usage error."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    kind, _, index = name.partition(":")
    if name == "cuda" or (kind == "cuda" and index.isdigit()):
        _check_cuda(name, int(index) if index else None)
        return torch.device(name)
    if name == "mps" and not (
        getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()
    ):
        raise UsageError(
            "--device mps: Apple's MPS backend is not available", hint="use --device cpu or auto"
        )
    if name not in ("cpu", "mps"):
        raise UsageError(
            f"--device {name}: expected auto, cpu, cuda, cuda:N (N = 0, 1, ...) or mps"
        )
    return torch.device(name)


def _check_cuda(name: str, index: int | None) -> None:
    import torch

    if torch.version.cuda is None:  # a CPU-only wheel (+cpu) can never see a GPU
        raise UsageError(
            f"--device {name}: the installed torch {torch.__version__} is a CPU-only build",
            hint=CUDA_HOWTO,
        )
    if not torch.cuda.is_available():
        raise UsageError(
            f"--device {name}: no CUDA device is visible to torch {torch.__version__} (CUDA {torch.version.cuda})",
            hint="check the NVIDIA driver (nvidia-smi) and CUDA_VISIBLE_DEVICES, or use --device cpu",
        )
    count = torch.cuda.device_count()
    if index is not None and index >= count:
        raise UsageError(
            f"--device {name}: this machine has {count} CUDA device{'s' if count > 1 else ''} "
            f"(cuda:0{f' to cuda:{count - 1}' if count > 1 else ''})",
            hint="pick one of those, or --device cuda for the first",
        )


@contextlib.contextmanager
def session(device_name: str, lock_timeout: float = 0.0) -> Iterator[None]:
    """Join torchrun's process group for the run and always leave it; a plain run does nothing.

    The backend follows the device: NCCL when training on CUDA (this process on
    cuda:LOCAL_RANK), gloo on CPU. A group the caller set up is used and left alone.
    """
    if not launched() or active():
        yield
        return
    import torch
    import torch.distributed as dist

    device = resolve_device(device_name)
    if device.type == "cuda" and device.index is not None:
        raise UsageError(
            f"--device {device_name}: under torchrun process k uses cuda:k",
            hint="pass --device cuda; to use other GPUs, set CUDA_VISIBLE_DEVICES",
        )
    if device.type == "cuda":
        local = int(os.environ["LOCAL_RANK"])
        per_node = int(os.environ.get("LOCAL_WORLD_SIZE", local + 1))
        if per_node > torch.cuda.device_count():
            raise UsageError(
                f"{per_node} processes on this node, but only {torch.cuda.device_count()} CUDA devices",
                hint="pass --nproc-per-node at most the number of GPUs, or --device cpu",
            )
        torch.cuda.set_device(local)  # plain "cuda" tensors now land on this rank's GPU
        backend, extra = "nccl", {"device_id": torch.device("cuda", local)}
    elif device.type == "cpu":
        backend, extra = "gloo", {}
    else:
        raise UsageError(
            f"--device {device_name}: torchrun training runs on cpu (gloo) or cuda (nccl)",
            hint="pass --device cpu or --device cuda",
        )
    timeout = PATIENCE + dt.timedelta(seconds=lock_timeout)
    dist.init_process_group(backend, timeout=timeout, **extra)
    try:
        yield
    finally:
        dist.destroy_process_group()


@contextlib.contextmanager
def main_only(enter: Callable[[], contextlib.AbstractContextManager]) -> Iterator[None]:
    """Enter `enter()` (the model's lock) on rank 0 alone; every rank learns whether it worked.

    The other ranks wait here until rank 0 holds it, then all go on, or all raise rank 0's
    error (busy, cannot write) together.
    """
    if not active():
        with enter():
            yield
        return
    with contextlib.ExitStack() as stack:
        failure = None
        if is_main():
            try:
                stack.enter_context(enter())
            except Exception as exc:
                failure = exc
        agree(failure)
        yield


def agree(failure: BaseException | None) -> None:
    """Share each rank's outcome; if any failed, every rank raises the first failure's error.

    Call it on every rank at the same point. The error keeps its class, message, hint and
    exit code, so each process exits the same way.
    """
    if not active():
        if failure is not None:
            raise failure
        return
    import torch.distributed as dist

    reports: list = [None] * world_size()
    dist.all_gather_object(reports, None if failure is None else _report(failure))
    first = next((r for r in reports if r is not None), None)
    if first is None:
        return
    if failure is not None and _report(failure) == first:
        raise failure  # the rank's own error, with its traceback for --debug
    name, message, hint, code = first
    cls = getattr(errors, name, LstmcastError)
    exc = cls(message, hint)
    exc.exit_code = code
    raise exc


def _report(exc: BaseException) -> tuple[str, str, str | None, int]:
    if isinstance(exc, LstmcastError):
        return type(exc).__name__, exc.message, exc.hint, exc.exit_code
    return (
        "LstmcastError",
        f"rank {rank()}: unexpected {type(exc).__name__}: {exc}",
        "re-run with --debug for the traceback and report it",
        1,
    )


def wrap(model: torch.nn.Module) -> torch.nn.Module:
    """DistributedDataParallel around the model: rank 0's weights go to every rank, and
    gradients are averaged across ranks in backward.

    Buffers are not re-broadcast before each forward: the model's only buffer is a constant,
    and validation shards of unequal length must not trigger a collective per forward.
    """
    if not active():
        return model
    import inspect

    from torch.nn.parallel import DistributedDataParallel as DDP

    device = next(model.parameters()).device
    ids = [device.index] if device.type == "cuda" else None
    # torch 2.13 renamed the option; older releases know only the first name.
    no_sync = (
        "forward_sync_buffers"
        if "forward_sync_buffers" in inspect.signature(DDP).parameters
        else "broadcast_buffers"
    )
    return DDP(model, device_ids=ids, **{no_sync: False})


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The plain model inside a DDP wrapper: its state dict has no `module.` prefix."""
    return getattr(model, "module", model) if active() else model


def shard(
    index: WindowIndex,
    rng: np.random.Generator,
    val_series: np.ndarray,
    val_origin: np.ndarray,
    seed: int,
) -> tuple[WindowIndex, np.random.Generator, np.ndarray, np.ndarray]:
    """This rank's share (`rank_share`); a plain run gets its arguments back."""
    if not active():
        return index, rng, val_series, val_origin
    return rank_share(index, val_series, val_origin, seed, rank(), world_size())


def rank_share(
    index: WindowIndex,
    val_series: np.ndarray,
    val_origin: np.ndarray,
    seed: int,
    r: int,
    n: int,
) -> tuple[WindowIndex, np.random.Generator, np.ndarray, np.ndarray]:
    """Rank r of n: a block of the training windows, its own random stream, and every n-th
    validation window.

    The shard is an ordinary WindowIndex, so whatever sampler training uses draws from it.
    Equal blocks (sizes differ by at most one) make the union of the ranks' draws uniform
    over all windows, as in a plain run, and no two ranks ever draw the same window. The
    stream is spawned from the seed per rank (numpy's SeedSequence), so ranks draw
    independently and a rerun with the same seed and process count draws the same windows;
    torch is reseeded from it too, so dropout masks differ between ranks.
    """
    if index.n_train < n:
        raise DataError(
            f"{plural(index.n_train, 'training window')} cannot be shared by {plural(n, 'process', 'processes')}",
            hint="use fewer processes (--nproc-per-node) or more data",
        )
    import torch

    stream = np.random.default_rng(np.random.SeedSequence(seed).spawn(n)[r])
    torch.manual_seed(int(stream.integers(2**62)))
    return shard_index(index, r, n), stream, val_series[r::n], val_origin[r::n]


def shard_index(index: WindowIndex, rank: int, world: int) -> WindowIndex:
    """Block `rank` of `world` of the training windows, numbered series by series.

    Window k (0 <= k < n_train) is origin k - begin[s] + train_first[s] of the series s whose
    range [begin[s], end[s]) holds k; block r keeps k in [n_train * r // world,
    n_train * (r + 1) // world): a tail of one series, whole series, a head of another.
    """
    end = np.cumsum(index.train_count)
    begin = end - index.train_count
    lo, hi = index.n_train * rank // world, index.n_train * (rank + 1) // world
    start, stop = np.clip(begin, lo, hi), np.clip(end, lo, hi)
    return dataclasses.replace(
        index, train_first=index.train_first + (start - begin), train_count=stop - start
    )


def mean(value: torch.Tensor) -> torch.Tensor:
    """The mean of a tensor over the ranks (on every rank); the tensor itself in a plain run."""
    if not active():
        return value
    import torch
    import torch.distributed as dist

    total = value.detach().to(_where(), torch.float32, copy=True)
    dist.all_reduce(total)
    return total / world_size()


def all_sum(*values: float) -> tuple[float, ...]:
    """Each value summed over the ranks, the same on every rank; plain runs get them back."""
    if not active():
        return values
    import torch
    import torch.distributed as dist

    total = torch.tensor(values, dtype=torch.float64, device=_where())
    dist.all_reduce(total)
    return tuple(total.tolist())


def average(value: float) -> float:
    """A float averaged over the ranks; the value itself in a plain run."""
    return all_sum(value)[0] / world_size() if active() else value


def rank0_decides(flag: bool) -> bool:
    """Rank 0's answer, on every rank: a decision from a clock must not differ between ranks."""
    if not active():
        return flag
    import torch
    import torch.distributed as dist

    answer = torch.tensor([int(flag)], device=_where())
    dist.broadcast(answer, 0)
    return bool(answer.item())


def describe(device: torch.device) -> str:
    """'cpu' for a plain run; '2 × cpu (gloo)' when data-parallel."""
    if not active():
        return str(device)
    import torch.distributed as dist

    return f"{world_size()} × {device.type} ({dist.get_backend()})"


def _where() -> torch.device:
    """Where collectives' tensors live: this rank's GPU under NCCL, else the CPU."""
    import torch
    import torch.distributed as dist

    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")
