"""Atomic writes and the path checks that keep outputs off inputs and each other."""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from lstmcast.errors import OutputError

__all__ = ["atomic_write", "check_writable", "check_paths", "same_file"]


def atomic_write(path: str | os.PathLike, write: Callable, text: bool = False) -> None:
    """Write through `write(fh)` to a temp file in the same folder, fsync, then os.replace.

    Readers see the old file or the complete new one, never a torn one; on any error the
    temp file is removed and an existing file at `path` is left byte-identical.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    _remove_orphans(folder, path.name)
    try:
        # The pid in the name lets a later run recognise the leftovers of a killed one.
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise _output_error(path, exc) from exc
    try:
        with os.fdopen(
            fd, "w" if text else "wb", **({"encoding": "utf-8", "newline": ""} if text else {})
        ) as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        if path.exists():
            # Keep the existing file's permissions rather than mkstemp's private 0600.
            with contextlib.suppress(OSError):
                os.chmod(tmp, path.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
        _fsync_dir(folder)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _output_error(path, exc) from exc
        raise


def _remove_orphans(folder: Path, name: str) -> None:
    """Delete temp files of `name` left by runs that were killed (their pid no longer exists)."""
    for tmp in folder.glob(f".{glob.escape(name)}.*.tmp"):
        pid = tmp.name[len(name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(OSError):
                tmp.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def _output_error(path: Path, exc: OSError) -> OutputError:
    reason = {
        errno.ENOSPC: "no space left on the device",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.ENOENT: "the folder does not exist",
        errno.EROFS: "the file system is read-only",
        errno.EDQUOT: "disk quota exceeded",
    }.get(exc.errno, exc.strerror or str(exc))
    return OutputError(
        f"cannot write {path}: {reason}",
        hint="nothing was changed; check that the folder exists and is writable, or write elsewhere",
    )


def check_writable(path: str | os.PathLike) -> None:
    """Fail early (before minutes of work) when `path` cannot be created in its folder."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise _output_error(path, FileNotFoundError(errno.ENOENT, "no such folder"))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise _output_error(path, PermissionError(errno.EACCES, "permission denied"))
    if path.is_dir():
        raise OutputError(
            f"cannot write {path}: it is a folder", hint="name a file, e.g. model.lstmcast"
        )


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Do two paths name one file? The same inode when both exist (so symlinks and hard
    links count), else the same path once links and `..` are resolved."""
    try:
        sa, sb = os.stat(a), os.stat(b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def check_paths(
    outputs: dict[str, str | os.PathLike | None], inputs: dict[str, str | os.PathLike | None]
) -> None:
    """Refuse (UsageError, exit 2) an output that is one of the inputs or another output.

    `outputs` and `inputs` map an option name (`--output`, `--model`, `DATA`) to its path;
    None (not given) and `-` (a standard stream) are skipped. Called before any work, so a
    refused run changes nothing.
    """
    from lstmcast.errors import UsageError

    def given(paths: dict) -> list[tuple[str, Path]]:
        return [(k, Path(v)) for k, v in paths.items() if v is not None and str(v) != "-"]

    outs, ins = given(outputs), given(inputs)
    for i, (name, path) in enumerate(outs):
        for other, source in ins + outs[:i]:
            if same_file(path, source):
                what = "your input" if (other, source) in ins else "the other output"
                raise UsageError(
                    f"{name} {path} is the same file as {other} {source}: writing it would overwrite {what}",
                    hint=f"pass another path to {name}",
                )


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable on POSIX file systems; not possible everywhere.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
