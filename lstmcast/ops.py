"""Unattended operation: a lock per model file, the run log, age limits, drift guards and
signals deferred while torch trains."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import os
import re
import signal
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lstmcast.errors import BusyError, Interrupted, ModelFileError, OutputError

__all__ = [
    "model_lock",
    "append_log",
    "lock_path",
    "check_age",
    "drift_warnings",
    "stale_warning",
    "Lag",
    "lagging_series",
    "lag_warning",
    "trained_ends",
    "unvalidated_warnings",
    "DeferredSignals",
]

POLL = 0.2  # seconds between attempts to take a held lock


def lock_path(model: str | os.PathLike) -> Path:
    model = Path(model)
    return model.with_name(model.name + ".lock")


@contextlib.contextmanager
def model_lock(model: str | os.PathLike, command: str, timeout: float) -> Iterator[None]:
    """Hold an exclusive lock next to the model file for the duration of a run.

    `train` and `predict` on the same model never interleave: the second waits up to
    `timeout` seconds, then raises BusyError (exit 75) naming the holder. The kernel drops
    the lock when its process dies, even by SIGKILL, so a crash never leaves it stuck.
    """
    import fcntl

    path = lock_path(model)
    fd = _open_lock(path)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise BusyError(
                        f"{model} is busy: {_holder(fd)} holds its lock (waited {timeout:g} s)",
                        hint="try again later, or raise --lock-timeout",
                    ) from None
                time.sleep(POLL)
        holder = {
            "pid": os.getpid(),
            "command": command,
            "since": _now().isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)  # our own lock file, checked by _open_lock, and held by us now
        os.pwrite(fd, json.dumps(holder).encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def _open_lock(path: Path) -> int:
    """Open (creating it) the lock file without following a link or truncating anything.

    O_NOFOLLOW refuses a symlink at MODEL.lock, O_NONBLOCK keeps a FIFO there from blocking
    the open, and the fstat check refuses whatever else is not a regular file (a folder, a
    device, a FIFO), so the lock never writes into a file that is not its own.
    """
    with contextlib.suppress(FileNotFoundError):  # never even open a device node
        if not stat.S_ISREG(os.lstat(path).st_mode):
            raise _not_a_lock(path)
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags, 0o666)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EISDIR, errno.ENXIO) or os.path.islink(path):
            raise _not_a_lock(path) from None
        hint = (
            "the model's folder must be writable"
            if exc.errno in (errno.EACCES, errno.EROFS, errno.EPERM)
            else None
        )
        raise OutputError(f"cannot create the lock file {path}: {exc.strerror}", hint=hint) from exc
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_nlink > 1:  # a hard link shares another's bytes
        os.close(fd)
        raise _not_a_lock(path)
    return fd


def _not_a_lock(path: Path) -> OutputError:
    return OutputError(
        f"{path} is not a regular lock file ({_kind(path)}); lstmcast will not write to it",
        hint=f"move {path} out of the way; lstmcast then creates its own lock file there",
    )


def _kind(path: Path) -> str:
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return "unreadable"
    for test, name in (
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a device"),
        (stat.S_ISBLK, "a device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "a hard link to another file" if stat.S_ISREG(mode) else "not a regular file"


def _holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0) or b"{}")
        return f"lstmcast {info['command']} (pid {info['pid']}, since {info['since']})"
    except (OSError, ValueError, KeyError):
        return "another lstmcast run"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def append_log(
    path: str | os.PathLike,
    fields: dict,
    started: dt.datetime | None = None,
    warnings: list[str] = (),
) -> None:
    """Append one logfmt line: `2026-11-28T02:00:01Z command=predict exit=0 duration=3.2s ...`.

    The leading time is when the run started (UTC). Warnings are counted in `warnings=N` and
    each one's text follows as `warning1="..."`, `warning2="..."`, so a quiet run loses none.
    One write of one line in append mode, so concurrent runs never interleave within a line.
    A log that cannot be written never changes the run's exit code.
    """
    stamp = (started or _now()).astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    fields = {**fields, "warnings": len(warnings) if warnings else None}
    fields.update({f"warning{k}": w for k, w in enumerate(warnings, 1)})
    parts = [stamp] + [f"{k}={_logfmt(v)}" for k, v in fields.items() if v is not None]
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            os.write(fd, (" ".join(parts) + "\n").encode("utf-8"))
        finally:
            os.close(fd)


def _logfmt(value) -> str:
    # Quoted values are JSON strings: newlines and quotes escaped, so a record stays one line.
    text = str(value)
    if not text or re.search(r'[\s"=\\\x00-\x1f\x7f-\x9f]', text) or not text.isprintable():
        return json.dumps(text)  # JSON escapes control characters and keeps the line whole
    return text


def check_age(header: dict, path, max_age: dt.timedelta | None, as_of: dt.datetime) -> None:
    """Refuse (ModelFileError, exit 4) a model file older than `max_age` at `as_of`."""
    if max_age is None:
        return
    created = dt.datetime.fromisoformat(header["created_at"])
    age = as_of - created
    if age > max_age:
        raise ModelFileError(
            f"{path} is {_days(age)} old (trained {header['created_at']}), older than --max-age {_days(max_age)}",
            hint="retrain it: lstmcast train DATA --model " + str(path),
        )


def _days(delta: dt.timedelta) -> str:
    seconds = delta.total_seconds()
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} seconds"


STALE_STEPS = 2  # a series' last timestamp may lag "now" by two steps (plus a day for time zones)
NAMED = 5  # series a warning names, the most urgent first; its count says how many in all
LEVEL_SHIFT = 1.0  # beyond one training range outside the training min/max is a shift
DAY = 86_400 * 10**9  # nanoseconds


@dataclass
class Lag:
    """A series that ends further behind the newest series of the file than it did when
    the model was trained: its feed stopped, or fell behind."""

    id: str
    last: object  # numpy.datetime64: its last timestamp in the data
    behind: int  # nanoseconds between it and the newest timestamp of the data


def _trained_lag(panel, trained_last: dict[str, int] | None):
    """(S,) int64 ns: how far each series ended behind the newest in the training data; 0
    for a series not trained on, and for every series of a file from before the record."""
    import numpy as np

    trained_last = trained_last or {}
    newest = max(trained_last.values(), default=0)
    ids = panel.ids.astype(str)
    return np.array([newest - trained_last.get(i, newest) for i in ids], dtype=np.int64)


def lagging_series(panel, trained_last: dict[str, int] | None) -> list[Lag]:
    """The series whose own end fell behind the others', most lagging first.

    A series lags when it ends at least one step, and at least a day, further behind the
    newest series of the file than it did in the training data (`trained_last`: id -> last
    timestamp in ns; a series missing there, new since training, is judged by its distance
    to the newest alone). Needs no clock: on a nightly run the first night a feed misses
    is enough. Series that ended at staggered times when the model was trained (a panel of
    histories of different periods) are not lagging while they keep their distance.
    """
    import numpy as np
    import pandas as pd

    last = panel.last.astype("datetime64[ns]")
    newest = last.max()
    behind = (newest - last).astype(np.int64)
    step = pd.tseries.frequencies.to_offset(panel.freq)
    tolerance = max(DAY, (pd.Timestamp(newest) - (pd.Timestamp(newest) - step)).value)
    grown = behind - _trained_lag(panel, trained_last)
    out = [
        Lag(str(panel.ids[i]), last[i], int(behind[i])) for i in np.flatnonzero(grown >= tolerance)
    ]
    return sorted(out, key=lambda lag: (-lag.behind, lag.id))


def lag_warning(panel, lags: list[Lag]) -> str | None:
    """One warning naming the lagging series, most lagging first (NAMED of them)."""
    import numpy as np

    from lstmcast.text import time_text

    if not lags:
        return None
    ends = time_text(np.array([panel.last.max(), *(lag.last for lag in lags)]))
    named = ", ".join(
        f"'{lag.id}' ends {end} ({_span(lag.behind)} behind)"
        for lag, end in zip(lags[:NAMED], ends[1:], strict=False)
    )
    more = f", and {len(lags) - NAMED} more" if len(lags) > NAMED else ""
    return (
        f"{len(lags)} of {panel.n_series} series {'ends' if len(lags) == 1 else 'end'} before "
        f"the others (newest {ends[0]}), "
        f"further behind than in the training data: {named}{more}; each is forecast from its "
        "own last timestamp: check its feed"
    )


def _span(ns: int) -> str:
    """'10 days', '1 day', '30 hours', '45 minutes' where the distance is a whole number of
    them (hours and minutes below two days and two hours), else as _days says it."""
    for unit, size, below in (("day", DAY, None), ("hour", 3600 * 10**9, 2 * DAY),
                              ("minute", 60 * 10**9, 2 * 3600 * 10**9)):  # fmt: skip
        if ns >= size and ns % size == 0 and (below is None or ns < below):
            n = ns // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return _days(dt.timedelta(microseconds=ns / 1000))


def unvalidated_warnings(panel, methods, new, untested: list[str], lookback: int) -> list[str]:
    """The series forecast without evidence of their own, by the method that forecasts them
    and where its band comes from: those new since training (`new`: (S,) bool) and those
    too short at training for any validation window (`untested`: ids)."""
    import numpy as np

    ids, methods = panel.ids.astype(str), np.asarray(methods, dtype=str)
    kinds = (
        (np.asarray(new, dtype=bool), "new since training, never validated"),
        (np.isin(ids, list(untested)) & ~np.asarray(new, dtype=bool),
         "too short at training for any validation window"),
    )  # fmt: skip
    out = []
    for mask, what in kinds:
        picked = np.flatnonzero(mask)
        groups = []
        for method in dict.fromkeys(methods[picked]):  # in the order of the series
            these = picked[methods[picked] == method]
            names = ", ".join(f"'{ids[i]}'" for i in these[:NAMED])
            more = f", and {len(these) - NAMED} more" if len(these) > NAMED else ""
            groups.append(f"{names}{more} by {_band(method, lookback)}")
        if groups:
            out.append(f"{len(picked)} series {what}: {'; '.join(groups)}")
    return out


def _band(method: str, lookback: int) -> str:
    """A method and where its band comes from, for a series it was not validated on."""
    from lstmcast import methods as registry

    partner = registry.partner(method)
    if method == "lstm":
        return (
            "the LSTM (band: its errors on the training series, scaled to the series' "
            f"last {lookback} steps)"
        )
    if partner:
        return f"{registry.label(method)} (the mean of the two forecasts and of their bands)"
    return (
        f"{registry.label(method)} (band: its errors on the training series, scaled to the "
        "series' own history)"
    )


def stale_warning(
    panel, as_of: dt.datetime, trained_last: dict[str, int] | None = None, named=()
) -> str | None:
    """The series whose own last timestamp lags `as_of` by more than STALE_STEPS steps and a
    day, most stale first, but those in `named` (the ids lag_warning named).

    Each series is judged on its own end, so one feed that stopped is seen even when the
    others are current; a series that ended early in the training data (`trained_last`,
    see lagging_series) is judged by how much further behind it is now, so a staggered
    panel is stale only when the clock has moved on from its newest series too.
    """
    import numpy as np
    import pandas as pd

    from lstmcast.text import time_text

    now = pd.Timestamp(as_of)
    now = now.tz_convert(None) if now.tzinfo else now
    cutoff = now - pd.Timedelta(days=1) - STALE_STEPS * pd.tseries.frequencies.to_offset(panel.freq)
    last = panel.last.astype("datetime64[ns]")
    late = (now.to_datetime64() - last).astype(np.int64)
    late -= _trained_lag(panel, trained_last)
    stale = np.flatnonzero(
        (late > (now - cutoff).value) & ~np.isin(panel.ids.astype(str), list(named))
    )
    if not len(stale):
        return None
    stale = stale[np.lexsort((panel.ids[stale].astype(str), -late[stale]))]  # most stale first
    ends = time_text(last[stale[:NAMED]])
    ids = panel.ids.astype(str)
    text = ", ".join(f"'{ids[i]}' (last {end})" for i, end in zip(stale, ends, strict=False))
    more = f", and {len(stale) - NAMED} more" if len(stale) > NAMED else ""
    besides = f" (besides the {len(named)} behind the others)" if len(named) else ""
    return (
        f"the data is stale: {len(stale)} of {panel.n_series} series "
        f"{'ends' if len(stale) == 1 else 'end'} more than {STALE_STEPS} steps ({panel.freq}) "
        f"and a day before now ({now.floor('s').isoformat()}Z){besides}: {text}{more}; "
        "--as-of sets another 'now'"
    )


def trained_ends(header: dict) -> dict[str, int] | None:
    """Each series' last timestamp (ns) in the training data; None in files from before."""
    ends = header.get("extra_tensors", {}).get("data.last")
    ids = header["data"].get("ids")
    if ends is None or not ids or len(ids) != len(ends):
        return None
    return dict(zip(ids, (int(e) for e in ends), strict=True))


def drift_warnings(header: dict, panel, as_of: dt.datetime, lags: list[Lag] = ()) -> list[str]:
    """Lag, staleness, schema and level guards for predict; each a one-line warning.

    `lags` (lagging_series) are the series that fell behind the others; the stale warning
    names the other series behind the clock, so the two never name a series twice."""
    lags, ends = list(lags), trained_ends(header)
    stale = stale_warning(panel, as_of, ends, [lag.id for lag in lags])
    warnings = [w for w in (lag_warning(panel, lags), stale) if w]
    meta = header["data"]
    trained_cols = meta.get("source_columns")
    if trained_cols is not None and set(trained_cols) != set(panel.source_columns):
        new = sorted(set(panel.source_columns) - set(trained_cols))
        gone = sorted(set(trained_cols) - set(panel.source_columns))
        parts = ([f"new {', '.join(new)}"] if new else []) + (
            [f"missing {', '.join(gone)}"] if gone else []
        )
        warnings.append(f"the columns differ from training: {'; '.join(parts)}")
    lo, hi = (
        header.get("extra_tensors", {}).get("data.min"),
        header.get("extra_tensors", {}).get("data.max"),
    )
    if lo is not None and meta.get("ids") and len(meta["ids"]) == len(lo):
        where = {sid: k for k, sid in enumerate(meta["ids"])}
        shifted = []
        for i, sid in enumerate(panel.ids.astype(str)):
            k = where.get(sid)
            if k is None:
                continue
            last = float(panel.series(i)[-1])
            width = max(float(hi[k] - lo[k]), 1e-9)
            if last > hi[k] + LEVEL_SHIFT * width or last < lo[k] - LEVEL_SHIFT * width:
                shifted.append((sid, last, float(lo[k]), float(hi[k])))
        if shifted:
            sid, last, a, b = shifted[0]
            more = f" ({len(shifted)} series in all)" if len(shifted) > 1 else ""
            warnings.append(
                f"series '{sid}' moved far outside its training range: last value {last:g}, trained on {a:g} to {b:g}{more}"
            )
    return warnings


class DeferredSignals:
    """SIGINT and SIGTERM noted, not raised, while torch trains; `check()` raises them.

    A KeyboardInterrupt raised by a signal handler while torch is inside a call from C++
    back into Python aborts the whole process (std::terminate: exit -6, no cleanup, the
    temp file left behind). The training callback calls `check()` at each step and epoch
    and before the model file is written, where raising is safe; the first call arms the
    deferral, so waiting for a busy lock or reading the data still stops at once. A signal
    noted after the last check is raised when the block ends; by then the output was
    written, and the message says so.
    """

    def __init__(self) -> None:
        self.signum, self.armed = 0, False
        self.previous: dict[int, object] = {}

    def __enter__(self) -> DeferredSignals:
        return self

    def _arm(self) -> None:
        import threading

        self.armed = True
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.previous[sig] = signal.signal(sig, self._note)

    def _note(self, signum, frame) -> None:
        self.signum = self.signum or signum

    def _restore(self) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
        self.previous = {}

    def check(self, written: bool = False) -> None:
        """Raise the noted signal as the CLI reports it: KeyboardInterrupt for SIGINT,
        Interrupted for SIGTERM. The first call starts noting signals instead of raising."""
        if not self.armed:
            self._arm()
        if not self.signum:
            return
        self._restore()
        if written:
            hint = "the command had written its output when the signal was handled"
            raise Interrupted("interrupted" if self.signum == signal.SIGINT else "terminated",
                              hint, signum=self.signum)  # fmt: skip
        if self.signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise Interrupted("terminated", "nothing was written", signum=self.signum)

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.check(written=True)
        self._restore()
