"""What a real `lstmcast` process imports and sets up before it does any work."""

import os
import re
import subprocess
import sys
import textwrap

import pytest
import typer.main
from helpers import invoke

from lstmcast import __version__, api
from lstmcast.cli import app

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "NO_COLOR": "1", "COLUMNS": "120"}

# Runs the CLI in this process, then prints the top-level packages it imported.
PROBE = textwrap.dedent(
    """
    import sys
    from lstmcast.cli import app
    try:
        app(sys.argv[1:], prog_name="lstmcast", standalone_mode=False)
    except SystemExit:
        pass
    print(" ".join(sorted({name.split(".")[0] for name in sys.modules})))
    """
)


def imported_by(args, cwd) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *map(str, args)],
        cwd=cwd,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return set(result.stdout.strip().splitlines()[-1].split())


@pytest.mark.slow
def test_predict_imports_only_what_it_uses(tmp_path, trained):
    # The LSTM alone: no statistics package. By the model file's choice (ETS here, alone or
    # in the LSTM's mix with it), the fitted method's statsforecast, but never plotting nor
    # sklearn.
    chosen = api.model_info(trained.model)["methods"].values()
    assert {"ets", "lstm+ets"} & set(chosen), chosen
    args = ["predict", "--model", trained.model, trained.data, "-o", "f.csv"]
    modules = imported_by([*args, "--fallback", "none"], tmp_path)
    assert (tmp_path / "f.csv").exists()
    assert "torch" in modules  # the probe saw a real forecast
    assert not modules & {"sklearn", "scipy", "matplotlib", "statsforecast"}, sorted(modules)
    modules = imported_by(args, tmp_path)
    assert "statsforecast" in modules
    assert not modules & {"sklearn", "matplotlib"}, sorted(modules)


def test_openmp_threads_sleep_when_idle_unless_the_user_chose():
    code = "import os, lstmcast; print(os.environ.get('OMP_WAIT_POLICY'))"
    env = {k: v for k, v in ENV.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    default = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert default.stdout.strip() == "PASSIVE", default.stderr
    chosen = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "OMP_WAIT_POLICY": "ACTIVE"},
        capture_output=True,
        text=True,
    )
    assert chosen.stdout.strip() == "ACTIVE", chosen.stderr


# --- help ---------------------------------------------------------------------------------

COMMANDS = ["inspect", "train", "predict", "evaluate", "plot", "info"]
PANELS = {"Arguments", "Data", "Model", "Training", "Backtest", "Output", "Unattended runs"}


def help_sections(text: str) -> dict[str, list[str]]:
    """'Data:' -> the option names listed under it (the first token of each entry)."""
    sections, current = {}, None
    for line in text.splitlines():
        if re.fullmatch(r"[A-Z][\w ]*:", line):
            current = sections.setdefault(line[:-1], [])
        elif current is not None and re.match(r"  \S", line):
            current.append(line.split()[0].rstrip(","))
    return sections


@pytest.mark.parametrize("command", COMMANDS)
def test_help_groups_every_option_in_a_panel_one_line_each(command):
    result = invoke(command, "--help")
    lines = result.stdout.splitlines()
    usage = lines[0]
    assert usage.startswith(f"Usage: lstmcast {command} [OPTIONS]"), usage
    assert "{" not in usage and "<" not in result.stdout  # no {data}, no <bool> or <path>
    if command != "info":
        assert "DATA" in usage
    sections = help_sections(result.stdout)
    assert set(sections) - {"Options"} <= PANELS, sorted(sections)
    assert sections.get("Options") == ["-h"], sections.get("Options")  # only --help is loose
    params = typer.main.get_command(app).commands[command].params
    for p in params:
        assert p.param_type_name == "argument" or p.rich_help_panel in PANELS, p.name
        assert len(p.help) <= 64 and "\n" not in p.help, f"--help of {p.name} is long: {p.help}"
    if command == "train":
        assert {"Data", "Model", "Training", "Output", "Unattended runs"} <= set(sections)
        assert "--epochs" in sections["Training"] and "--time-col" in sections["Data"]
        assert "--log-file" in sections["Unattended runs"]


@pytest.mark.parametrize("command", COMMANDS)
def test_docstrings_open_with_a_short_line_and_end_with_an_example(command):
    [fn] = [c.callback for c in app.registered_commands if c.callback.__name__ == command]
    doc = [line.strip() for line in fn.__doc__.strip().splitlines() if line.strip()]
    assert len(doc[0]) <= 64 and doc[0].endswith("."), doc[0]
    assert doc[-1].startswith(f"Example: lstmcast {command} "), doc[-1]
    listed = invoke("--help").stdout
    # the command list shows the whole first line
    assert re.search(rf"(?m)^  {command} +{re.escape(doc[0])}$", listed), listed


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_version(flag):
    assert invoke(flag).stdout.strip() == f"lstmcast {__version__}"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["predict", "--no-such-option"], "No such option: --no-such-option"),
        (["train"], "Missing argument 'DATA'"),
        (["train", "data.csv", "--epochs", "zero"], "--epochs"),
        (["evaluate", "--folds", "0"], "--folds"),
        (["nope"], "No such command 'nope'"),
    ],
    ids=["unknown-option", "missing-argument", "not-a-number", "out-of-range", "unknown-command"],
)
def test_usage_errors_are_one_error_line_and_a_hint_with_exit_2(args, needle):
    result = invoke(*args, ok=False)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    error, hint = result.stderr.splitlines()
    assert error.startswith("error: ") and needle in error, error
    if needle == "--folds":  # a range error names a value to type instead
        assert hint == "  hint: e.g. --folds 3", hint
    else:
        assert hint.startswith("  hint: see 'lstmcast") and hint.endswith("--help'"), hint


@pytest.mark.slow
def test_shell_completion_installs_and_completes(tmp_path):
    # Typer takes the shell from the process tree unless detection is off: under a parent
    # `sh -c` (cron, nohup, some CI runners) that is "sh", which it does not support, and
    # the "bash" argument below would be ignored. With detection off it names the shell.
    env = {**ENV, "HOME": str(tmp_path), "SHELL": "/bin/bash"}
    env["_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION"] = "1"
    entry = [sys.executable, "-m", "lstmcast"]
    shown = subprocess.run([*entry, "--show-completion", "bash"], env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert "complete " in shown.stdout and "_LSTMCAST_COMPLETE" in shown.stdout.upper()
    installed = subprocess.run([*entry, "--install-completion", "bash"], env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    assert "lstmcast" in (tmp_path / ".bashrc").read_text()
    # what the shell asks for while the user types `lstmcast pre<TAB>` and `lstmcast predict --as<TAB>`
    complete = {
        **env,
        "_LSTMCAST_COMPLETE": "complete_bash",
        "COMP_CWORD": "1",
        "COMP_WORDS": "lstmcast pre",
    }
    words = subprocess.run(entry, env=complete, capture_output=True, text=True, timeout=60)
    assert words.stdout.split() == ["predict"], words
    complete.update(COMP_CWORD="2", COMP_WORDS="lstmcast predict --as")
    words = subprocess.run(entry, env=complete, capture_output=True, text=True, timeout=60)
    assert words.stdout.split() == ["--as-of"], words


@pytest.mark.slow
def test_help_imports_neither_torch_nor_pandas_nor_rich(tmp_path):
    for args in (["--help"], ["train", "--help"], ["-V"]):
        modules = imported_by(args, tmp_path)
        assert not modules & {"torch", "pandas", "numpy", "rich", "pydantic"}, (
            args,
            sorted(modules),
        )
