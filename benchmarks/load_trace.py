"""The modules of lstmcast.data that a real `predict` load enters, in the order it enters them.

Usage: python benchmarks/load_trace.py [DATA [TRAIN OPTION ...]]

Trains a model briefly (`--max-steps 5`) in a temporary folder, by default on
sample_data/prices_ohlcv.csv with --target Close and past covariates, then runs
`lstmcast predict` in this process under `sys.setprofile`, recording each call into a
`lstmcast.data` module made while the command loads its model's data
(`api._model_and_data`, model file excluded). A call enters a module when the nearest
lstmcast.data caller on the stack lives in another module (or there is none); calls inside
a module, and calls that leave through pandas and come back, are not entries.

Prints the entries as one line (consecutive entries of one module collapsed), then as a tree
(a module indented under the one that called it), then how often each module was entered.
Works against older versions too (put the other version first on PYTHONPATH), to compare.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "sample_data" / "prices_ohlcv.csv"
OPTIONS = ["--target", "Close", "--past-covariates", "Open,High,Low,Volume"]
PACKAGE = "lstmcast.data."
SCOPE = "_model_and_data"  # the api function that reads the model's data for predict


def data_module(frame) -> str | None:
    """'parse' for a frame of lstmcast.data.parse; None outside lstmcast.data."""
    name = frame.f_globals.get("__name__", "")
    return name[len(PACKAGE) :] if name.startswith(PACKAGE) else None


def trace_entries(run) -> list[tuple[int, str]]:
    """(depth, module) of each lstmcast.data module entry while `run()` is inside SCOPE.

    Depth 0 is a module entered from outside lstmcast.data; depth d + 1 one entered from a
    module at depth d.
    """
    entries: list[tuple[int, str]] = []
    inside: list[object] = []  # the SCOPE frame while it runs

    def profile(frame, event, arg):
        if event == "return" and inside and frame is inside[-1]:
            inside.pop()
        if event != "call":
            return
        if frame.f_code.co_name == SCOPE and frame.f_globals.get("__name__") == "lstmcast.api":
            inside.append(frame)
            return
        module = data_module(frame)
        if not inside or module is None:
            return
        # The lstmcast.data modules on the stack above this call, consecutive repeats folded.
        chain, caller = [], frame.f_back
        while caller is not None and caller is not inside[-1]:
            above = data_module(caller)
            if above and (not chain or chain[-1] != above):
                chain.append(above)
            caller = caller.f_back
        if not chain or chain[0] != module:
            entries.append((len(chain), module))

    sys.setprofile(profile)
    try:
        run()
    finally:
        sys.setprofile(None)
    return entries


def collapse(entries: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Entries without those that repeat the one just before (same depth and module)."""
    out: list[tuple[int, str]] = []
    for entry in entries:
        if not out or out[-1] != entry:
            out.append(entry)
    return out


def line(entries: list[tuple[int, str]]) -> str:
    modules: list[str] = []
    for _, module in entries:
        if not modules or modules[-1] != module:
            modules.append(module)
    return " → ".join(modules)


def main() -> int:
    data = Path(sys.argv[1]) if len(sys.argv) > 1 else DATA
    options = sys.argv[2:] if len(sys.argv) > 1 else OPTIONS
    common = ["--quiet", "--no-config"]
    with tempfile.TemporaryDirectory() as tmp:
        model, out = Path(tmp) / "m.lstmcast", Path(tmp) / "forecast.csv"
        train = [sys.executable, "-m", "lstmcast", "train", str(data), "--model", str(model)]
        train += [*options, "--max-steps", "5", "--device", "cpu", "--seed", "0", *common]
        subprocess.run(train, check=True)

        from lstmcast.cli import app

        def predict() -> None:
            args = ["predict", str(data), "--model", str(model), "--output", str(out), *common]
            try:
                app(args, prog_name="lstmcast")
            except SystemExit as exc:
                if exc.code:
                    raise

        entries = trace_entries(predict)
    if not entries:
        raise SystemExit(f"no lstmcast.data module entered inside api.{SCOPE}")
    steps = collapse(entries)
    print(f"predict {data.name}: lstmcast.data modules entered while loading its data")
    print()
    print(line(entries))
    print()
    for depth, module in steps:
        print("  " * depth + module)
    print()
    counts = Counter(module for _, module in steps)
    print(f"{len(steps)} entries (consecutive repeats collapsed); entered per module:")
    print(", ".join(f"{module} {n}" for module, n in counts.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
