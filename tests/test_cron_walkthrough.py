"""The README's cron walkthrough, run as written: its commands build the files and run the
CLI night after night, and the log lines they write are the ones the README shows.

The shell lines (grep) run in bash; the `lstmcast` lines run in process. `train` gets the
tiny model's options added (helpers.TINY) so the test takes seconds, not minutes: what
depends on the trained network (duration, verdict, skill, forecast_by) is checked for its
form, everything else against the README's text field by field.
"""

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import TINY, invoke
from test_unattended import logged_warnings, read_log

ROOT = Path(__file__).resolve().parent.parent
MODEL_DEPENDENT = {"timestamp", "duration", "verdict", "skill", "best_baseline", "forecast_by"}


def walkthrough() -> tuple[list[str], str]:
    """The commands of the README's walkthrough and the log it shows."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Cron walkthrough\n", 1)[1].split("\n## ", 1)[0]
    blocks = dict(re.findall(r"```(bash|text)\n(.*?)```", section, re.S))
    lines = [line for line in blocks["bash"].splitlines() if line and not line.startswith("#")]
    return lines, blocks["text"]


@pytest.mark.slow
def test_the_readme_cron_walkthrough_prints_the_log_it_shows(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(ROOT / "sample_data", tmp_path / "sample_data")
    commands, shown = walkthrough()
    printed = []
    for line in commands:
        if line.startswith("lstmcast "):
            args = shlex.split(line)[1:]
            result = invoke(*args, *(TINY if args[0] == "train" else ()))
            assert result.stdout == "", line  # --quiet
            printed.append(result.stderr)
        else:
            subprocess.run(line, shell=True, check=True, cwd=tmp_path, executable="/bin/bash")
    (tmp_path / "shown.log").write_text(shown)
    logged, expected = read_log(tmp_path / "lstmcast.log"), read_log(tmp_path / "shown.log")
    assert [(f["command"], f["exit"]) for f in logged] == [
        ("train", "0"), ("predict", "0"), ("predict", "0"), ("predict", "0"),
    ]  # fmt: skip
    for got, want in zip(logged, expected, strict=True):
        assert got.keys() == want.keys()
        assert {k: v for k, v in got.items() if k not in MODEL_DEPENDENT} == {
            k: v for k, v in want.items() if k not in MODEL_DEPENDENT
        }
    train = logged[0]
    assert train["verdict"] in ("beats", "ties", "loses")
    assert re.fullmatch(r"[+-]\d\.\d{3}", train["skill"])
    assert sum(int(part.split(":")[1]) for part in train["forecast_by"].split(",")) == 3
    # Nights 1 and 2 print nothing; night 3 names store_C and store_F, on stderr and in the log.
    assert printed[:3] == ["", "", ""]
    night3 = logged[-1]
    assert (night3["lagging"], night3["new"]) == ("1", "1")
    warnings = logged_warnings(night3)
    assert printed[3].splitlines() == [f"warning: {w}" for w in warnings]
    assert "'store_C' ends 2024-05-02T23:00:00 (1 day behind)" in warnings[0]
    assert warnings[1].startswith("1 series new since training, never validated: 'store_F' by ")
    assert night3["forecast_first"] == "2024-05-03T00:00:00"  # store_C's forecast starts early
