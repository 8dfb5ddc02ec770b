"""`make demo` runs clean: the Makefile's demo commands, run as written on the sample data,
print no warning (the sample data end in 2024, and the demo forecasts as on the night after).
`train` gets the tiny model's options added (helpers.TINY) to take seconds."""

import re
import shlex
import shutil
from pathlib import Path

import pytest
from helpers import TINY, invoke

ROOT = Path(__file__).resolve().parent.parent


def demo_commands() -> list[list[str]]:
    """The arguments of each `lstmcast` line of the Makefile's demo target, variables set."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    variables = dict(re.findall(r"^(\w+)\s*:?=\s*(.*?)\s*$", makefile, re.M))
    recipe = makefile.split("\ndemo:", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
    out = []
    for line in recipe:
        line = re.sub(r"\$\((\w+)\)", lambda m: variables.get(m.group(1), m.group(0)), line)
        args = shlex.split(line)
        assert args[0].endswith("/lstmcast"), line
        out.append(args[1:])
    return out


@pytest.mark.slow
def test_make_demo_prints_no_warning(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(ROOT / "sample_data", tmp_path / "sample_data")
    commands = demo_commands()
    assert [c[0] for c in commands] == ["inspect", "train", "predict", "predict"]
    for args in commands:
        result = invoke(*args, *(TINY if args[0] == "train" else ()))
        assert "warning" not in result.stderr, (args, result.stderr)
    assert "stores.csv" in commands[0][-1] and (tmp_path / "demo_forecast.csv").stat().st_size
    # Without --as-of the same forecast is stale by today's clock, and says so once.
    k = commands[2].index("--as-of")
    result = invoke(*commands[2][:k], *commands[2][k + 2 :])
    assert result.stderr.count("warning: the data is stale") == 1, result.stderr
