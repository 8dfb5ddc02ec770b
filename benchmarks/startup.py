"""Median wall and CPU time (user + sys) of shell commands, run interleaved N times each.

    python benchmarks/startup.py "help=lstmcast --help" "bare=python -c pass"

Interleaving keeps variants comparable on a shared, noisy machine; the CPU time of the
child is close to what the wall time would be on an idle one.
"""

import os
import resource
import statistics
import subprocess
import sys
import time


def measure(variants: dict[str, str], runs: int) -> dict[str, tuple[list[float], list[float]]]:
    times = {label: ([], []) for label in variants}
    for _ in range(runs):
        for label, command in variants.items():
            before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
            subprocess.run(
                command, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            times[label][0].append(wall)
            times[label][1].append(cpu)
    return times


def main() -> None:
    variants = dict(arg.split("=", 1) for arg in sys.argv[1:])
    runs = int(os.environ.get("N", 9))
    print(f"load average {os.getloadavg()[0]:.1f}, {runs} runs each")
    for label, (wall, cpu) in measure(variants, runs).items():
        print(
            f"{label:16s} wall median {statistics.median(wall):.3f} s (min {min(wall):.3f})"
            f"  cpu median {statistics.median(cpu):.3f} s (min {min(cpu):.3f})"
        )


if __name__ == "__main__":
    main()
