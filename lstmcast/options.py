"""How an option is declared: once, on the config field it sets.

`hidden_size: int = option(128, "LSTM hidden units.", Range(1, 2048, "64"), file=(1, 65_536))`
says everything lstmcast knows about --hidden-size: its name and type are the field's, its
default is the field's default, then its help line, the values the command line and the config
file accept, and the values a model file may hold. From these the CLI builds its options
(lstmcast.cli.options), config.OPTION_RANGES checks the ranges, and modelfile.header checks
a model file's model and training sections. Nothing else spells an option out.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Range", "Option", "Stored", "option", "stored", "options_of", "stored_of"]

OPTION = "lstmcast.option"  # field metadata keys
STORED = "lstmcast.stored"
READS_MODEL = (
    "predict",
    "evaluate",
    "plot",
)  # the commands whose data options default to the model's


@dataclass(frozen=True)
class Range:
    """The values a numeric option accepts: lo..hi, lo excluded when `above` is set.

    hi None: any finite value above lo (too large a learning rate diverges, which is exit 5).
    """

    lo: float
    hi: float | None
    example: str  # what the hint suggests typing
    whole: bool = True  # an integer option
    above: bool = False  # lo itself is not allowed (a learning rate of 0 learns nothing)

    def __contains__(self, value) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if not math.isfinite(value) or (self.whole and value != int(value)):
            return False
        return (value > self.lo if self.above else value >= self.lo) and (
            self.hi is None or value <= self.hi
        )

    def text(self) -> str:
        lo, hi = (f"{int(v):,}" if self.whole else f"{v:,.10g}" for v in (self.lo, self.hi or 0))
        kind = "a whole number" if self.whole else "a number"
        if self.hi is None:
            return (
                f"a finite {kind[2:]} above {lo}"
                if self.above
                else f"a finite {kind[2:]} from {lo} up"
            )
        return f"{kind} above {lo} and at most {hi}" if self.above else f"{kind} from {lo} to {hi}"


@dataclass(frozen=True)
class Option:
    """The command-line side of a field: `--hidden-size` for `hidden_size`, a `--no-` form
    for a bool. The option takes the field's type, or text that `parse` turns into it."""

    help: str  # one line of --help, at most 64 characters
    range: Range | None = None  # checked before any work, on the command line and in the file
    commands: tuple[str, ...] = ("train",)  # the commands that take it
    parse: Callable[[str], object] | None = None  # text -> the field's value (a tuple)
    read_help: str | None = None  # the help of READS_MODEL commands, where the default differs

    def help_for(self, command: str) -> str:
        """The help line that is true for `command`: a command that reads a model file
        defaults to what the model recorded, one that makes or inspects data does not."""
        return self.read_help if self.read_help and command in READS_MODEL else self.help


@dataclass(frozen=True)
class Stored:
    """What a model file may hold in a field: wider than the option's range, since files also
    come from the Python API and other versions; hi None is no bound."""

    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] = ()  # for text: the values a model file may hold


def option(
    default,
    help: str,
    range: Range | None = None,
    *,
    file: tuple[float, float | None] | None = None,
    choices: tuple[str, ...] = (),
    commands: tuple[str, ...] = ("train",),
    parse: Callable[[str], object] | None = None,
    read_help: str | None = None,
):
    """A config field that is an option; `file` and `choices` bound it in a model file;
    `read_help` is its help for the commands that read a model file (Option.help_for)."""
    metadata = {OPTION: Option(help, range, commands, parse, read_help)}
    if file or choices:
        metadata[STORED] = Stored(*(file or (None, None)), choices)
    return dataclasses.field(default=default, metadata=metadata)


def stored(default, file: tuple[float, float | None] | None = None, choices: tuple[str, ...] = ()):
    """A config field a model file holds that no option sets (the data or the code does)."""
    metadata = {STORED: Stored(*(file or (None, None)), choices)}
    return dataclasses.field(default=default, metadata=metadata)


def options_of(cls) -> dict[str, tuple[dataclasses.Field, Option]]:
    """The fields of a config class that are options, by name, in the order of --help."""
    return {
        f.name: (f, f.metadata[OPTION]) for f in dataclasses.fields(cls) if OPTION in f.metadata
    }


def stored_of(field: dataclasses.Field) -> Stored:
    """The bounds a model file's value of `field` must keep (none declared: any of its type)."""
    return field.metadata.get(STORED, Stored())
