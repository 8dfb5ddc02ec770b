"""Peak memory and time of reading a data file and building its Panel, stage by stage.

Usage: python benchmarks/load_stages.py FILE [FILE ...]

Runs what `lstmcast.api.load` runs, read_table then the rest of the pipeline (stage
"build_panel"), on each file in its own process, sampling this process's RSS every 5 ms
on a side thread, so a peak that lasts a moment is caught too (tracemalloc would miss
Arrow's memory). Prints one JSON line per
file: seconds, peak RSS and RSS after each stage, in MB.
Works against older lstmcast versions too (before read_table had `compact`), so the same
command measures a change: put the other version first on PYTHONPATH.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import threading
import time

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE / 2**20


class PeakRSS:
    """Context manager: wall seconds and the highest RSS seen while the block ran."""

    def __enter__(self) -> PeakRSS:
        self.peak, self._running = rss_mb(), True
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        self.started = time.perf_counter()
        return self

    def _sample(self) -> None:
        while self._running:
            self.peak = max(self.peak, rss_mb())
            time.sleep(0.005)

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.started
        self._running = False
        self._thread.join()
        self.peak = max(self.peak, rss_mb())


def measure(path: str) -> dict:
    from lstmcast.config import ID_ALIASES

    try:
        from lstmcast.data.io import read_table
    except ImportError:  # versions before the data/ folder
        from lstmcast.io import read_table
        from lstmcast.schema import build_panel
    else:
        try:  # a table already read goes through the rest of the pipeline
            from lstmcast.data.load import load as build_panel
        except ImportError:  # before data.load ran the whole pipeline
            from lstmcast.data.parse import build_panel

    compact = {"compact": True} if "compact" in inspect.signature(read_table).parameters else {}
    out = {"file": path, "start_mb": round(rss_mb())}
    with PeakRSS() as p:
        df = read_table(path, text_columns=ID_ALIASES, **compact)
    out["read"] = {"s": round(p.seconds, 2), "peak_mb": round(p.peak), "after_mb": round(rss_mb())}
    with PeakRSS() as p:
        panel = build_panel(df)
    del df
    out["build_panel"] = {
        "s": round(p.seconds, 2),
        "peak_mb": round(p.peak),
        "after_mb": round(rss_mb()),
    }
    out["rows"] = int(panel.offsets[-1])
    return out


def main() -> int:
    if len(sys.argv) < 2:
        raise SystemExit(__doc__.splitlines()[2])
    if len(sys.argv) == 2:
        print(json.dumps(measure(sys.argv[1])), flush=True)
        return 0
    for path in sys.argv[1:]:  # one fresh process per file: no memory carried over
        subprocess.run([sys.executable, __file__, path], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
