"""lstmcast: time-series forecasting from the command line with one global LSTM."""

import os

__version__ = "0.1.0"

# Idle OpenMP threads sleep instead of spinning. On cores that other work shares, a
# spinning thread holds its core while the partner it waits for cannot run: on two busy
# cores a training step took 10 times longer with two threads than with one
# (benchmarks/threads.py). libgomp reads this once, when torch is first imported, so it
# is set here, before any lstmcast module imports torch; either variable set by the user wins.
if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
