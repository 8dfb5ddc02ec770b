"""Wall time and peak memory of the CLI on 1 M, 3 M and 10 M row panels.

Usage: python benchmarks/scale.py [--sizes 1m,3m,10m] [--max-steps 50] [--workdir DIR]

For each size it writes a synthetic hourly panel (benchmarks/make_panel.py) into DIR (a
temporary folder by default, never the repository) and runs the installed CLI as real
subprocesses: `lstmcast inspect FILE`, `lstmcast train FILE --max-steps N` and
`lstmcast predict --model M FILE --output out.parquet`. Each is timed and its peak RSS read
from `/usr/bin/time -v` (or, where that is missing, from getrusage of a wrapper process
that runs only that command). For the largest size it also times the stages of predict in
one process: load the model, read, build the panel, forecast, build the table, write.
Each command runs --repeat times (3): on a shared machine the least wall time is the
one least disturbed by other work; the peak RSS shown is the largest of the runs.
The figures are printed as a markdown table and appended to benchmarks/results/scale.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import inspect
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "scale.md"
SIZES = {"1m": (1_000_000, 1_000), "3m": (3_000_000, 3_000), "10m": (10_000_000, 10_000)}
RSS_TARGET_MB = 2_500
WRAPPER = (  # runs one command; its peak RSS is the wrapper's RUSAGE_CHILDREN maximum
    "import resource, subprocess, sys\n"
    "rc = subprocess.call(sys.argv[1:])\n"
    "kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "sys.stderr.write(f'\\nMaximum resident set size (kbytes): {kb}\\n')\n"
    "sys.exit(rc)\n"
)


def cli() -> str:
    """The lstmcast console script of this interpreter's environment, else the one on PATH."""
    beside = Path(sys.executable).parent / "lstmcast"
    found = str(beside) if beside.exists() else shutil.which("lstmcast")
    if not found:
        raise SystemExit("lstmcast is not installed: pip install -e . first")
    return found


def measure(cmd: list[str], cwd: Path) -> dict:
    """Run `cmd` to completion: wall seconds and peak RSS in MB; a failure stops the benchmark."""
    if Path("/usr/bin/time").exists():
        full = ["/usr/bin/time", "-v", *cmd]
    else:
        full = [sys.executable, "-c", WRAPPER, *cmd]
    started = time.perf_counter()
    proc = subprocess.run(full, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(
            f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr[-2000:]}{proc.stdout[-500:]}"
        )
    kb = re.findall(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    return {"wall_s": round(wall, 2), "rss_mb": round(int(kb[-1]) / 1024) if kb else None}


def _loaders():
    """read_table, write_table, build_panel, spec_from_header and the id aliases of the
    installed lstmcast: where they live now, or where the older versions this benchmark is
    timed against kept them (flat modules; api re-exported the last two)."""
    try:
        from lstmcast.config import ID_ALIASES
        from lstmcast.data.io import read_table, write_table
        from lstmcast.modelfile.store import spec_from_header
    except ImportError:  # before the folders
        from lstmcast.io import read_table, write_table
        from lstmcast.schema import build_panel

        from lstmcast import api

        return read_table, write_table, build_panel, api._spec_from_header, api.ID_ALIASES
    try:  # a table already read goes through the rest of the pipeline
        from lstmcast.data.load import load as build_panel
    except ImportError:  # before data.load ran the whole pipeline
        from lstmcast.data.parse import build_panel
    return read_table, write_table, build_panel, spec_from_header, ID_ALIASES


def stage_breakdown(model: str, data: str, output: str) -> dict:
    """Time each stage of `lstmcast predict` in this process, as api.predict runs them."""
    marks: dict[str, float] = {}
    peak: dict[str, int] = {}

    def mark(name: str, since: float) -> float:
        now = time.perf_counter()
        marks[name] = round(now - since, 2)
        peak[name] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        return now

    t = time.perf_counter()
    from lstmcast import api
    from lstmcast.forecast import forecast_frame, forecast_panel

    read_table, write_table, build_panel, spec_from_header, id_aliases = _loaders()
    t = mark("import", t)
    net, header = api.load_model(model, "cpu")
    t = mark("load model", t)
    spec = spec_from_header(header)
    ids = id_aliases + ((spec.id_col,) if spec.id_col else ())
    # Older versions (to compare against) have no compact reading.
    compact = {"compact": True} if "compact" in inspect.signature(read_table).parameters else {}
    df = read_table(data, text_columns=ids, **compact)
    t = mark("read", t)
    panel = build_panel(df, spec)
    del df
    t = mark("build panel", t)
    preds = forecast_panel(net, panel, net.cfg.horizon)
    t = mark("forecast", t)
    frame = forecast_frame(panel, preds, net.cfg.quantiles)
    t = mark("output table", t)
    write_table(frame, output)
    mark("write", t)
    after_load = sum(v for k, v in marks.items() if k in ("forecast", "output table", "write"))
    return {
        "seconds": marks,
        "peak_rss_mb": peak,
        "after_model_load_s": round(after_load, 2),
        "series": int(panel.n_series),
        "rows_out": len(frame),
    }


def breakdown(workdir: Path, size: str) -> dict:
    """The stages of predict on one size, in a fresh process (its own peak RSS)."""
    proc = subprocess.run(
        [sys.executable, __file__, "--breakdown", str(workdir / f"model_{size}.lstmcast"),
         str(workdir / f"panel_{size}.parquet"), str(workdir / f"stages_{size}.parquet")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(proc.stdout.strip().splitlines()[-1])


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            names = [ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    import torch

    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} vCPU {cpu}, {mem:.0f} GiB RAM, Python {platform.python_version()}, "
        f"torch {torch.__version__}"
    )


def commit() -> str:
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "lstmcast"],
            cwd=HERE.parent,
            capture_output=True,
            text=True,
        ).stdout.strip()
        return rev + (" + uncommitted changes" if dirty else "") if rev else "unknown"
    except OSError:
        return "unknown"


def run_size(name: str, workdir: Path, max_steps: int, exe: str, repeat: int) -> list[dict]:
    from make_panel import write_panel

    rows, series = SIZES[name]
    data = workdir / f"panel_{name}.parquet"
    if not data.exists():
        write_panel(data, rows, series)
    import pyarrow.parquet as pq

    actual = pq.ParquetFile(data).metadata.num_rows
    model, out = workdir / f"model_{name}.lstmcast", workdir / f"forecast_{name}.parquet"
    commands = {
        "inspect": [exe, "inspect", str(data)],
        "train": [exe, "train", str(data), "--model", str(model), "--max-steps", str(max_steps), "--quiet"],
        "predict": [exe, "predict", "--model", str(model), str(data), "--output", str(out), "--quiet"],
    }  # fmt: skip
    results = []
    for command, cmd in commands.items():
        runs = []
        for _ in range(repeat):
            runs.append(measure(cmd, workdir))
            print(
                f"{name:>4} {command:<8} {runs[-1]['wall_s']:7.1f} s {runs[-1]['rss_mb']:6} MB",
                file=sys.stderr,
            )
        results.append(
            {
                "size": name,
                "rows": actual,
                "series": series,
                "command": command,
                "wall_s": min(r["wall_s"] for r in runs),  # the least disturbed run
                "walls": [r["wall_s"] for r in runs],
                "rss_mb": max(r["rss_mb"] or 0 for r in runs),
            }
        )
    return results


def table(results: list[dict]) -> str:
    base = {r["command"]: r for r in results if r["size"] == results[0]["size"]}
    lines = [
        "| size | rows | series | command | wall (least) | every run | peak RSS (most) "
        "| wall vs smallest (rows ×) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        b = base[r["command"]]
        ratio = f"{r['wall_s'] / b['wall_s']:.2f} ({r['rows'] / b['rows']:.1f})"
        flag = " ⚠" if r["rss_mb"] and r["rss_mb"] > RSS_TARGET_MB else ""
        lines.append(
            f"| {r['size']} | {r['rows']:,} | {r['series']:,} | {r['command']} | {r['wall_s']:.1f} s "
            f"| {' / '.join(f'{w:.1f}' for w in r['walls'])} | {r['rss_mb']:,} MB{flag} | {ratio} |"
        )
    return "\n".join(lines)


def breakdown_table(b: dict) -> str:
    lines = ["| stage | seconds | peak RSS so far |", "|---|---|---|"]
    for k, v in b["seconds"].items():
        lines.append(f"| {k} | {v:.2f} | {b['peak_rss_mb'][k]:,} MB |")
    lines.append(
        f"| **after the model is loaded** (forecast + table + write) | **{b['after_model_load_s']:.2f}** | |"
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1m,3m,10m", help="comma list of 1m, 3m, 10m")
    parser.add_argument("--max-steps", type=int, default=50)
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each command; the least wall time counts"
    )
    parser.add_argument("--workdir", type=Path, default=None, help="default: a temporary folder")
    parser.add_argument("--results", type=Path, default=RESULTS, help="markdown file to append to")
    parser.add_argument("--no-record", action="store_true", help="print only; write no results")
    parser.add_argument(
        "--breakdown", nargs=3, metavar=("MODEL", "DATA", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.breakdown:
        print(json.dumps(stage_breakdown(*args.breakdown)))
        return 0
    sizes = [s.strip().lower() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        raise SystemExit(f"--sizes: unknown {', '.join(unknown)} (choose from {', '.join(SIZES)})")
    exe = cli()
    sys.path.insert(0, str(HERE))
    keep = args.workdir is not None
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="lstmcast-scale-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        results = [r for s in sizes for r in run_size(s, workdir, args.max_steps, exe, args.repeat)]
        last = sizes[-1]
        stages = min(
            (breakdown(workdir, last) for _ in range(args.repeat)),
            key=lambda b: b["after_model_load_s"],
        )
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
    report = (
        f"## {dt.date.today().isoformat()}, commit {commit()}\n\n"
        f"Machine: {machine()}.\n"
        f"Command: `{' '.join(['python', 'benchmarks/scale.py', *sys.argv[1:]])}` "
        f"(train with `--max-steps {args.max_steps}`, otherwise default settings).\n\n"
        f"{table(results)}\n\n"
        f"Stages of predict on the {last} panel ({stages['series']:,} series, "
        f"{stages['rows_out']:,} forecast rows), one process, the fastest of {args.repeat}:\n\n{breakdown_table(stages)}\n"
    )
    print(report)
    if not args.no_record:
        args.results.parent.mkdir(parents=True, exist_ok=True)
        new = not args.results.exists()
        with open(args.results, "a", encoding="utf-8") as fh:
            if new:
                fh.write("# Scale: time and memory from 1 M to 10 M rows\n\n")
            fh.write("\n" + report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
