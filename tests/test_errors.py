"""The exit-code contract: errors.EXIT_CODES, the error classes, the README and --help agree."""

import re
from pathlib import Path

from helpers import invoke

from lstmcast import errors

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_exit_code_table_lists_exactly_the_documented_codes():
    section = README.read_text(encoding="utf-8").split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    codes = {int(c) for c in re.findall(r"^\| (\d+) \|", section, flags=re.M)}
    assert codes == set(errors.EXIT_CODES)


def test_every_error_class_exits_with_a_documented_code():
    classes = [errors.UsageError, errors.DataError, errors.ModelFileError, errors.TrainingError,
               errors.OutputError, errors.BusyError]  # fmt: skip
    for cls in classes:
        assert cls.exit_code in errors.EXIT_CODES, cls
    assert errors.Interrupted(signum=2).exit_code == 130
    assert errors.Interrupted(signum=15).exit_code == 143


def test_help_names_every_nonzero_exit_code():
    text = invoke("--help").stdout
    for code in errors.EXIT_CODES:
        if code:
            assert str(code) in text, code
