"""Error classes, each carrying the exit code the CLI returns and a hint for the user."""

from __future__ import annotations

__all__ = [
    "LstmcastError",
    "UsageError",
    "DataError",
    "ModelFileError",
    "TrainingError",
    "OutputError",
    "BusyError",
    "Interrupted",
    "EXIT_CODES",
]


class LstmcastError(Exception):
    """Base class: the core raises these, the CLI turns them into one line and an exit code."""

    exit_code = 1
    kind = "error"

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(LstmcastError):
    """Options that cannot work together, or an option value out of range."""

    exit_code = 2
    kind = "usage"


class DataError(LstmcastError):
    """The input file is missing, unreadable, or its data cannot form a valid panel."""

    exit_code = 3
    kind = "data"


class ModelFileError(LstmcastError):
    """The model file is missing, corrupt, not an lstmcast model, or from a newer format."""

    exit_code = 4
    kind = "model"


class TrainingError(LstmcastError):
    """Training could not produce a usable model (e.g. the loss became NaN)."""

    exit_code = 5
    kind = "training"


class OutputError(LstmcastError):
    """An output file could not be written (permission denied, disk full, missing folder)."""

    exit_code = 73  # EX_CANTCREAT from sysexits.h
    kind = "output"


class BusyError(LstmcastError):
    """Another lstmcast run holds the lock on the model file."""

    exit_code = 75  # EX_TEMPFAIL: try again later
    kind = "busy"


class Interrupted(LstmcastError):
    """The run was stopped by SIGINT (130) or SIGTERM (143)."""

    exit_code = 130
    kind = "interrupted"

    def __init__(self, message: str = "interrupted", hint: str | None = None, signum: int = 2):
        super().__init__(message, hint)
        self.exit_code = 128 + signum


# The documented table (README "Exit codes"); tests/test_errors.py keeps README and --help in step.
EXIT_CODES = {
    0: "success",
    2: "usage error: unknown option, bad option value",
    3: "bad input data: missing/unreadable file, unknown format, invalid series",
    4: "bad, incompatible or too old model file",
    5: "training failed (e.g. the loss became NaN or infinite)",
    73: "cannot write an output file",
    75: "busy: another run holds the model's lock",
    130: "interrupted (SIGINT, Ctrl-C)",
    143: "terminated (SIGTERM)",
}
