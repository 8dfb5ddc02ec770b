"""Unattended runs: config files, the output contract, atomic files, locks, signals, guards.

Signals, locks and file replacement are checked with real processes of the installed
`lstmcast`; everything else runs in process. Every test works in its own tmp_path.
"""

import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import typer.main
from helpers import TINY, invoke

from lstmcast import api
from lstmcast.cli import app
from lstmcast.config import read_config

BIN = Path(sys.executable).parent / ("lstmcast.exe" if os.name == "nt" else "lstmcast")
ENV = {
    **{k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "PYTHONHASHSEED")},
    "OMP_NUM_THREADS": "1",
    "NO_COLOR": "1",
    "COLUMNS": "120",
}
# Keeps training going until a signal arrives; the budget only bounds a test that goes wrong.
LONG = ["--epochs", "100000", "--patience", "100000"]
ROWS = 3 * 24  # hourly_frame(): three series, trained horizon 24
FORECAST_COLUMNS = ["unique_id", "ds", "yhat", "yhat_lower", "yhat_upper", "model"]
ANSI = re.compile(r"\x1b\[")
# A colour terminal's settings, but pipes: Rich must notice that no terminal is attached.
NO_NO_COLOR = {
    **{k: v for k, v in ENV.items() if k not in ("NO_COLOR", "TTY_COMPATIBLE")},
    "TERM": "xterm-256color",
}
SAMPLE_CONFIG = Path(__file__).resolve().parent.parent / "sample_data" / "lstmcast.toml"


# --- helpers ------------------------------------------------------------------------------


def run(*args, cwd, env=ENV, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def _default_sigint() -> None:
    # A shell without job control starts background jobs with SIGINT ignored, and Python
    # then never raises KeyboardInterrupt; give the child the default disposition.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def procs():
    """start(*args, cwd=...) -> Popen of the installed lstmcast; all are killed at teardown."""
    started = []

    def start(*args, cwd, env=ENV) -> subprocess.Popen:
        p = subprocess.Popen(
            [str(BIN), *map(str, args)],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=_default_sigint,
        )
        started.append(p)
        return p

    yield start
    for p in started:
        if p.poll() is None:
            p.kill()
        p.communicate()


def finish(p: subprocess.Popen, timeout: float = 120) -> SimpleNamespace:
    out, err = p.communicate(timeout=timeout)
    return SimpleNamespace(returncode=p.returncode, stdout=out, stderr=err)


def wait_for_lock(model: Path, p: subprocess.Popen, timeout: float = 60) -> None:
    """Until process `p` has written itself into the model's lock file (so it holds it)."""
    lock = model.with_name(model.name + ".lock")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert p.poll() is None, f"exited {p.returncode} before taking the lock: {p.stderr.read()}"
        try:
            if json.loads(lock.read_text() or "{}").get("pid") == p.pid:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    raise AssertionError(f"pid {p.pid} never took {lock}")


def dot_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def read_log(path: Path) -> list[dict]:
    """Parse the logfmt lines of --log-file; the leading timestamp becomes 'timestamp'."""
    lines = []
    for line in path.read_text().splitlines():
        m = re.fullmatch(r'(\S+)((?: \w+=(?:"(?:[^"\\]|\\.)*"|[^\s"]+))*)', line)
        assert m, f"not a logfmt line: {line!r}"
        fields = {"timestamp": m.group(1)}
        for key, value in re.findall(r'(\w+)=("(?:[^"\\]|\\.)*"|[^\s"]+)', m.group(2)):
            fields[key] = json.loads(value) if value.startswith('"') else value
        lines.append(fields)
    return lines


def logged_warnings(fields: dict) -> list[str]:
    """warning1, warning2, ... of a log line, after checking they match its `warnings` count."""
    texts = [fields[f"warning{k}"] for k in range(1, len(fields)) if f"warning{k}" in fields]
    assert int(fields.get("warnings", 0)) == len(texts), fields
    return texts


def forecast_ok(path: Path, rows: int = ROWS) -> bool:
    frame = pd.read_csv(path)
    return list(frame.columns) == FORECAST_COLUMNS and len(frame) == rows


def info(model) -> dict:
    return json.loads(invoke("info", model, "--json").stdout)


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    """In-process runs see tmp_path as the working directory (and so its lstmcast.toml)."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def local(tmp_path, trained) -> SimpleNamespace:
    """A private copy of the trained model and its data in tmp_path."""
    data, model = tmp_path / "data.csv", tmp_path / "m.lstmcast"
    shutil.copy(trained.data, data)
    shutil.copy(trained.model, model)
    return SimpleNamespace(data=data, model=model, frame=trained.frame)


# --- 1. config files ------------------------------------------------------------------------

CONFIG = """\
[train]
model = "cfg.lstmcast"
epochs = 3
hidden-size = 6
layers = 1
windows_per_epoch = 64
batch-size = 32
device = "cpu"

[predict]
model = "cfg.lstmcast"
output = "fc.csv"
"""


@pytest.mark.slow
def test_config_in_working_directory_supplies_train_and_predict_options(tmp_path, trained):
    shutil.copy(trained.data, tmp_path / "data.csv")
    (tmp_path / "lstmcast.toml").write_text(CONFIG)

    train = run(BIN, "train", "data.csv", cwd=tmp_path, env=NO_NO_COLOR)
    assert train.returncode == 0, train.stderr
    assert not (tmp_path / "model.lstmcast").exists()
    header = info(tmp_path / "cfg.lstmcast")
    assert header["model_config"]["hidden_size"] == 6
    assert header["model_config"]["layers"] == 1
    assert header["train_config"]["epochs"] == 3
    assert header["train_config"]["windows_per_epoch"] == 64

    # piped, even without NO_COLOR: no colour or cursor codes in the tables and progress
    assert "Validation" in train.stdout
    assert not ANSI.search(train.stdout + train.stderr)

    invoke("predict")  # model, output and (recorded) data all from the file
    assert forecast_ok(tmp_path / "fc.csv")

    # flags on the command line win over the file; the rest still comes from it
    invoke("train", "data.csv", "--hidden-size", "5", "--epochs", "1", "--model", "flag.lstmcast")
    header = info("flag.lstmcast")
    assert (header["model_config"]["hidden_size"], header["train_config"]["epochs"]) == (5, 1)
    assert (header["model_config"]["layers"], header["train_config"]["batch_size"]) == (1, 32)


@pytest.mark.slow
def test_no_config_ignores_the_file(tmp_path, trained):
    (tmp_path / "lstmcast.toml").write_text('[predict]\noutput = "fc.csv"\nhorizon = 3\n')
    result = invoke("predict", trained.data, "--model", trained.model, "--no-config")
    assert not (tmp_path / "fc.csv").exists()
    assert "yhat" in result.stdout  # the table, not a file
    # even a broken file is not read
    (tmp_path / "lstmcast.toml").write_text("[predict\nnot toml")
    invoke("predict", trained.data, "--model", trained.model, "--no-config", "-q")
    invoke("predict", trained.data, "--no-config", "--model", trained.model, "-q")


def test_explicit_config_file_is_used_instead_of_the_local_one(tmp_path, trained):
    (tmp_path / "lstmcast.toml").write_text('[predict]\noutput = "local.csv"\n')
    (tmp_path / "other.toml").write_text('[predict]\noutput = "other.csv"\nhorizon = 6\n')
    invoke("predict", trained.data, "--model", trained.model, "--config", "other.toml", "-q")
    assert not (tmp_path / "local.csv").exists()
    assert forecast_ok(tmp_path / "other.csv", rows=3 * 6)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("text", "command", "needle"),
    [
        ("[train]\nhiden-size = 8\n", "train", "hiden"),
        ('[predict]\nmodle = "m.lstmcast"\n', "predict", "modle"),
        ("[evaluate]\nfold = 3\n", "evaluate", "fold"),
        ("[trian]\nepochs = 3\n", "predict", "trian"),
        ('model = "m.lstmcast"\n', "predict", "model"),
        ("[train\nepochs = 3\n", "train", "TOML"),
        ('[predict]\noutput = "a.csv"\noutput = "b.csv"\n', "predict", "TOML"),
    ],
    ids=[
        "unknown-key",
        "unknown-predict-key",
        "unknown-evaluate-key",
        "unknown-table",
        "top-level-key",
        "invalid-toml",
        "duplicate-key",
    ],
)
def test_bad_config_is_a_usage_error(tmp_path, trained, text, command, needle):
    (tmp_path / "lstmcast.toml").write_text(text)
    args = [trained.data] if command == "train" else [trained.data, "--model", trained.model]
    result = invoke(command, *args, ok=False)
    assert result.exit_code == 2, result.output
    assert needle in result.stderr
    assert "lstmcast.toml" in result.stderr
    # the same file named explicitly, and one that does not exist
    shutil.move(tmp_path / "lstmcast.toml", tmp_path / "my.toml")
    assert invoke(command, *args, "--config", "my.toml", ok=False).exit_code == 2
    missing = invoke(command, *args, "--config", "nope.toml", ok=False)
    assert missing.exit_code == 2 and "nope.toml" in missing.stderr


@pytest.mark.parametrize(
    ("line", "check"),
    [
        ('format = "csv"', lambda out: out.startswith("unique_id,ds,yhat")),
        ("json = true", lambda out: json.loads(out)["series"] == 3),
    ],
    ids=["format", "json"],
)
def test_config_keys_are_the_option_names(tmp_path, trained, line, check):
    # The file's keys are "named like the options" (README, config.read_config): --format
    # is `format`, --json is `json` (not the Python parameter names fmt, json_out).
    (tmp_path / "lstmcast.toml").write_text(f"[predict]\n{line}\n")
    result = invoke("predict", trained.data, "--model", trained.model, ok=False)
    assert result.exit_code == 0, result.output
    assert check(result.stdout)


def test_config_quantiles_may_be_a_toml_array(tmp_path, trained):
    # A list is how TOML writes several numbers; --quantiles wants "0.05,0.5,0.95".
    (tmp_path / "lstmcast.toml").write_text("[train]\nquantiles = [0.05, 0.5, 0.95]\n")
    result = invoke("train", trained.data, "--model", "q.lstmcast", *TINY, "-q", ok=False)
    assert result.exit_code == 0, result.output
    assert info("q.lstmcast")["model_config"]["quantiles"] == [0.05, 0.5, 0.95]


def _option_values(command: str) -> dict:
    """Per parameter of `command`: (option name, default, config value, command-line value).

    The two values differ from each other and from the default, so a test can tell which won.
    """
    import typing

    [fn] = [c.callback for c in app.registered_commands if c.callback.__name__ == command]
    hints = typing.get_type_hints(fn, include_extras=True)
    params = typer.main.get_command(app).commands[command].params
    values = {}
    for p in params:
        if p.name in ("config", "no_config", "help"):
            continue
        kind = typing.get_args(hints[p.name])[0]  # Annotated[kind, typer.Option(...)]
        kind = next((t for t in typing.get_args(kind) if t is not type(None)), kind)  # X | None
        name = p.opts[0].lstrip("-") if p.opts[0].startswith("--") else p.name
        if kind is bool:
            pair = (not p.default, not p.default)  # a flag: the file and the flag both flip it
        elif kind is int:
            pair = (7, 9)
        elif kind is float:
            pair = (0.3, 0.4)
        elif kind is Path:
            pair = (Path("from-config"), Path("from-flag"))
        else:
            pair = ("from-config", "from-flag")
        values[p.name] = (name, p.default, *pair)
    return values


def _resolved(command: str, args: list[str]) -> dict:
    """The parameter values Click settles on for `args`, without running the command."""
    cmd = typer.main.get_command(app).commands[command]
    return cmd.make_context(command, list(args)).params  # Click consumes the list it is given


def _toml(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return json.dumps(str(value) if isinstance(value, Path) else value)


def _flag_args(p, name: str, value) -> list[str]:
    if isinstance(value, bool):
        opts = p.opts if value else p.secondary_opts
        return [opts[0]] if opts else []
    return [p.opts[0], str(value)] if p.param_type_name == "option" else [str(value)]


@pytest.mark.slow
@pytest.mark.parametrize("command", ["train", "predict", "evaluate"])
def test_flags_beat_the_config_file_which_beats_the_defaults_for_every_key(tmp_path, command):
    values = _option_values(command)
    params = {p.name: p for p in typer.main.get_command(app).commands[command].params}
    (tmp_path / "lstmcast.toml").write_text(
        f"[{command}]\n" + "".join(f"{n} = {_toml(c)}\n" for n, _, c, _ in values.values())
    )
    required = ["data.csv"] if command == "train" else []

    defaults = _resolved(command, [*required, "--no-config"])
    from_file = _resolved(command, required)
    cli = [a for key, (n, _, _, v) in values.items() for a in _flag_args(params[key], n, v)]
    from_flags = _resolved(command, cli)
    for key, (name, default, in_file, on_line) in values.items():
        if not (command == "train" and key == "data"):
            assert defaults[key] == default, name
            assert from_file[key] == in_file, f"{name}: the config file's value was not used"
        assert from_flags[key] == on_line, f"{name}: the config file beat the command line"

    # a flag that can only be switched on still beats a file that switches it off
    flags = [
        k for k in values if getattr(params[k], "is_flag", False) and not params[k].secondary_opts
    ]
    (tmp_path / "lstmcast.toml").write_text(
        f"[{command}]\n" + "".join(f"{values[k][0]} = false\n" for k in flags)
    )
    on = _resolved(command, [*required, *(params[k].opts[0] for k in flags)])
    assert all(on[k] is True for k in flags), flags
    # and a --no-... flag beats a file that switches the option on
    negatable = [
        k for k in values if getattr(params[k], "is_flag", False) and params[k].secondary_opts
    ]
    (tmp_path / "lstmcast.toml").write_text(
        f"[{command}]\n" + "".join(f"{values[k][0]} = true\n" for k in negatable)
    )
    off = _resolved(command, [*required, *(params[k].secondary_opts[0] for k in negatable)])
    assert all(off[k] is False for k in negatable), negatable


def _options(command: str) -> tuple[set[str], set[str]]:
    params = typer.main.get_command(app).commands[command].params
    return {p.name for p in params}, {o for p in params for o in p.opts}


@pytest.mark.slow
@pytest.mark.skipif(not SAMPLE_CONFIG.exists(), reason="sample_data/lstmcast.toml not written yet")
def test_sample_config_parses_and_has_only_known_keys(tmp_path, trained):
    tables = read_config(SAMPLE_CONFIG)
    assert set(tables) <= {"train", "predict", "evaluate"}
    for command, table in tables.items():
        names, opts = _options(command)
        for key in table:
            assert key.replace("-", "_") in names, f"[{command}] {key}"
            assert "--" + key.replace("_", "-") in opts, f"[{command}] {key} is no option"
    # and the CLI accepts its values (flags override paths and the slow settings)
    cfg = ("--config", SAMPLE_CONFIG)
    invoke("predict", trained.data, *cfg, "--model", trained.model, "-o", "f.csv", "-q")
    assert forecast_ok(tmp_path / "f.csv")
    invoke("train", trained.data, *cfg, "--model", "s.lstmcast", *TINY, "-q")
    assert info("s.lstmcast")["model_config"]["horizon"] == tables["train"].get("horizon", 24)


# --- 2. output contract ------------------------------------------------------------------------


@pytest.mark.slow
def test_quiet_prints_nothing_and_log_file_gets_one_line_per_run(tmp_path, trained, procs):
    shutil.copy(trained.data, tmp_path / "data.csv")
    log = tmp_path / "runs.log"
    common = ("-q", "--log-file", log)
    model = ("--model", trained.model)
    argv = {
        "train": ("train", "data.csv", "--model", "new.lstmcast", *TINY),
        "predict": ("predict", "data.csv", *model, "-o", "f.csv"),
        "evaluate": ("evaluate", "data.csv", *model, "--folds", "2", "-o", "e.csv"),
        "failing": ("predict", "data.csv", *model, "-o", "no/f.csv"),
    }
    runs = {name: procs(*args, *common, cwd=tmp_path) for name, args in argv.items()}
    done = {name: finish(p) for name, p in runs.items()}
    for name in ("train", "predict", "evaluate"):
        assert done[name].returncode == 0, done[name].stderr
        assert done[name].stdout == "", name
        # --quiet silences results and progress, never warnings
        assert all(line.startswith("warning: ") for line in done[name].stderr.splitlines()), name
    assert done["failing"].returncode == 73
    assert done["failing"].stdout == ""
    assert done["failing"].stderr.startswith("error: cannot write no/f.csv")

    lines = read_log(log)
    assert len(lines) == 4, log.read_text()
    by_run = {(f["command"], f["exit"]): f for f in lines}
    assert set(by_run) == {("train", "0"), ("predict", "0"), ("evaluate", "0"), ("predict", "73")}
    for fields in lines:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", fields["timestamp"]), fields
        assert re.fullmatch(r"\d+\.\d+s", fields["duration"]), fields
    for (command, code), output in {
        ("train", "0"): "new.lstmcast",
        ("predict", "0"): "f.csv",
        ("evaluate", "0"): "e.csv",
    }.items():
        fields = by_run[command, code]
        assert fields["series"] == "3"
        assert fields["output"] == output
        assert "error" not in fields
        # every warning printed is in the log, with its text
        printed = [w.removeprefix("warning: ") for w in done[command].stderr.splitlines()]
        assert logged_warnings(fields) == printed, command
    # evaluate on the training data always warns that its windows overlap training
    assert any("optimistic" in w for w in logged_warnings(by_run["evaluate", "0"]))
    assert "series" not in by_run["predict", "73"]
    assert by_run["predict", "73"]["error"].startswith("cannot write no/f.csv")


@pytest.mark.slow
def test_piped_output_has_no_escape_codes_even_without_no_color(tmp_path, trained, procs):
    # (train's tables and progress: test_config_in_working_directory_...)
    runs = [
        procs("info", trained.model, cwd=tmp_path, env=NO_NO_COLOR),
        procs("inspect", trained.data, cwd=tmp_path, env=NO_NO_COLOR),
        procs("train", trained.data, "--epochs", "0", cwd=tmp_path, env=NO_NO_COLOR),
        procs("info", "missing.lstmcast", cwd=tmp_path, env=NO_NO_COLOR),
    ]
    codes = []
    for p in runs:
        result = finish(p)
        codes.append(result.returncode)
        assert result.stdout + result.stderr
        assert not ANSI.search(result.stdout + result.stderr), result.stdout + result.stderr
    assert codes == [0, 0, 2, 4]


@pytest.mark.parametrize(
    "args",
    [
        ["train", "{data}", "--model", "new.lstmcast", *TINY],
        ["predict", "{data}", "--model", "{model}"],
        ["predict", "{data}", "--model", "{model}", "-o", "f.parquet"],
        ["evaluate", "{data}", "--model", "{model}", "--folds", "2"],
        ["inspect", "{data}"],
        ["info", "{model}"],
    ],
    ids=["train", "predict", "predict-output", "evaluate", "inspect", "info"],
)
def test_json_prints_exactly_one_document(trained, args):
    args = [a.format(data=trained.data, model=trained.model) for a in args]
    result = invoke(*args, "--json")
    doc = json.loads(result.stdout)  # raises on anything before or after the document
    assert isinstance(doc, dict) and "error" not in doc


@pytest.mark.parametrize(
    ("args", "code", "kind"),
    [
        (["predict", "--model", "missing.lstmcast"], 4, "model"),
        (["train", "missing.csv", "--model", "m.lstmcast"], 3, "data"),
        (["predict", "{data}", "--model", "{model}", "--format", "xml"], 2, "usage"),
        (["predict", "{data}", "--model", "{model}", "--max-age", "soon"], 2, "usage"),
        (["info", "{data}"], 4, "model"),
        (["predict", "{data}", "--model", "{model}", "-o", "nowhere/f.csv"], 73, "output"),
    ],
    ids=["no-model", "no-data", "bad-format", "bad-age", "not-a-model", "missing-folder"],
)
def test_json_error_is_one_document_with_the_exit_code(trained, args, code, kind):
    args = [a.format(data=trained.data, model=trained.model) for a in args]
    result = invoke(*args, "--json", ok=False)
    assert result.exit_code == code, result.output
    error = json.loads(result.stdout)["error"]
    assert error["code"] == code and error["kind"] == kind
    assert error["message"] and "hint" in error


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["train", "{data}", "--epochs", "0"], "--epochs"),
        (["predict", "{data}", "--model", "{model}", "--no-such-option"], "--no-such-option"),
        (["predict", "{data}", "--model", "{model}", "--config", "nope.toml"], "nope.toml"),
    ],
    ids=["bad-option-value", "unknown-option", "missing-config"],
)
def test_json_error_for_errors_found_while_parsing_options(tmp_path, trained, args, needle):
    # README: "with --json the same goes to stdout as {"error": ...}"; exit 2 from option
    # parsing is an error like any other. Only the real entry point parses sys.argv.
    args = [a.format(data=trained.data, model=trained.model) for a in args]
    result = run(BIN, *args, "--json", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    error = json.loads(result.stdout)["error"]
    assert error["code"] == 2 and needle in error["message"]


# --- 3. never a torn file ----------------------------------------------------------------------

KILL_AFTER = (0.2, 0.5, 1.0, 2.0)


@pytest.mark.slow
def test_sigkill_never_leaves_a_torn_forecast_or_model(tmp_path, local, procs):
    # A predict and a longer train, each SIGKILLed after a while: the file they replace is
    # the previous one, byte for byte, or the complete new one. The temp file is named
    # `.NAME.PID.XXXX.tmp`; a process killed by SIGKILL cannot remove it.
    out = tmp_path / "f.csv"
    out.write_bytes(b"old,forecast\n1,2\n")
    temp_name = re.compile(r"\.(f\.csv|m\.lstmcast)\..+\.tmp")
    predict = ("predict", "data.csv", "--model", "m.lstmcast", "-o", "f.csv", "-q")
    # its own model file, so that the two runs do not wait for each other's lock
    shutil.copy(local.model, tmp_path / "t.lstmcast")
    train = ("train", "data.csv", "--model", "t.lstmcast", *TINY, "--seed", "3", "-q")
    model = tmp_path / "t.lstmcast"
    left = []
    for delay in KILL_AFTER:
        old_out, old_model, dots = out.read_bytes(), model.read_bytes(), dot_files(tmp_path)
        runs = [
            procs(*predict, cwd=tmp_path),
            procs(*train, "--epochs", "100", "--patience", "100", cwd=tmp_path),
        ]
        time.sleep(delay)
        for p in runs:
            p.kill()
            result = finish(p)
            assert result.returncode in (0, -signal.SIGKILL), result.stderr
        assert out.read_bytes() == old_out or forecast_ok(out), f"torn forecast after {delay} s"
        if model.read_bytes() != old_model:
            api.load_model(model)  # complete: the weights' checksum matches
            assert api.model_info(model)["train"]["seed"] == 3
        new = sorted(set(dot_files(tmp_path)) - set(dots))
        assert all(temp_name.fullmatch(n) for n in new), new
        left += new
    if left:
        warnings.warn(f"SIGKILLed runs left temp files behind: {left}", stacklevel=1)
    invoke("info", model)


# The random kills above rarely land in the few milliseconds of the write itself; this one
# always does: the process dies at the fsync, after the temp file is complete and before
# the rename.
KILL_AT_FSYNC = """
import os, signal, sys
os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)
from lstmcast.cli import app
app(sys.argv[1:], prog_name="lstmcast")
"""


@pytest.mark.slow
def test_sigkill_between_write_and_rename_keeps_the_old_file(tmp_path, local):
    out = tmp_path / "f.csv"
    out.write_bytes(b"old,forecast\n1,2\n")
    old_out, old_model = out.read_bytes(), local.model.read_bytes()
    runs = [
        ("predict", "data.csv", "--model", "m.lstmcast", "-o", "f.csv", "-q"),
        ("train", "data.csv", "--model", "m.lstmcast", *TINY, "--seed", "3", "-q"),
    ]
    ps = [
        subprocess.Popen([sys.executable, "-c", KILL_AT_FSYNC, *args], cwd=tmp_path, env=ENV)
        for args in runs
    ]
    assert [p.wait(timeout=120) for p in ps] == [-signal.SIGKILL] * 2
    pids = [p.pid for p in ps]
    assert out.read_bytes() == old_out
    assert local.model.read_bytes() == old_model
    invoke("info", local.model)
    # A SIGKILLed run cannot remove its temp file: it stays, complete, named with the pid...
    orphans = [f".f.csv.{pids[0]}.", f".m.lstmcast.{pids[1]}."]
    left = dot_files(tmp_path)
    assert [n[: len(o)] for n, o in zip(left, orphans, strict=True)] == orphans, left
    assert all(n.endswith(".tmp") for n in left)
    assert forecast_ok(tmp_path / left[0])
    # ...until the next write of the same file removes it (and only its own file's).
    invoke("predict", "data.csv", "--model", "m.lstmcast", "-o", "f.csv", "-q")
    assert forecast_ok(out)
    assert dot_files(tmp_path) == left[1:]
    invoke("train", "data.csv", "--model", "m.lstmcast", *TINY, "-q")
    assert dot_files(tmp_path) == []


# --- 4. locks ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_second_run_on_a_locked_model_exits_75_or_waits(tmp_path, local, procs):
    holder = procs(
        "train", "data.csv", "--model", "m.lstmcast", *TINY, *LONG, "--time-budget", "8", "-q",
        cwd=tmp_path,
    )  # fmt: skip
    wait_for_lock(local.model, holder)
    busy_train = procs(
        "train", "data.csv", "--model", "m.lstmcast", *TINY, "--lock-timeout", "1", cwd=tmp_path
    )
    busy_predict = procs(
        "predict", "data.csv", "--model", "m.lstmcast", "-o", "f.csv", "--lock-timeout", "1",
        "--log-file", "runs.log", cwd=tmp_path,
    )  # fmt: skip
    waiter = procs(
        "train", "data.csv", "--model", "m.lstmcast", *TINY, "--hidden-size", "4",
        "--lock-timeout", "120", "-q", cwd=tmp_path,
    )  # fmt: skip
    for p in (busy_train, busy_predict):
        result = finish(p)
        assert holder.poll() is None, "the holder finished too early for this test"
        assert result.returncode == 75, result.stderr
        assert f"pid {holder.pid}" in result.stderr and "lstmcast train" in result.stderr
        assert "--lock-timeout" in result.stderr  # the hint
    assert not (tmp_path / "f.csv").exists()
    [line] = read_log(tmp_path / "runs.log")
    assert (line["command"], line["exit"]) == ("predict", "75")
    assert f"pid {holder.pid}" in line["error"] and "is busy" in line["error"]

    assert waiter.poll() is None  # still waiting for the holder
    assert finish(holder).returncode == 0
    result = finish(waiter)
    assert result.returncode == 0, result.stderr
    # the waiter wrote last: the model on disk is its (hidden size 4), not the holder's (8)
    assert api.model_info(local.model)["model"]["hidden_size"] == 4


# --- 5. warm start ----------------------------------------------------------------------------


def _weights(path) -> dict:
    model, _ = api.load_model(path)
    return {k: v.clone() for k, v in model.state_dict().items()}


@pytest.mark.slow
def test_warm_start_continues_from_the_existing_model(tmp_path, local):
    old_header, old_weights = api.model_info(local.model), _weights(local.model)
    # no --hidden-size or --layers: the model file's settings are used
    small = ("--epochs", "2", "--windows-per-epoch", "64", "--batch-size", "32", "--device", "cpu")
    invoke("train", "data.csv", "--model", "m.lstmcast", *small, "--seed", "1", "--warm-start")
    warm = _weights(local.model)
    assert api.model_info(local.model)["model"] == old_header["model"]  # same settings
    assert any(not (warm[k] == old_weights[k]).all() for k in warm)  # trained further

    # and not a fresh model that merely has the same shape
    invoke("train", "data.csv", "--model", "fresh.lstmcast", *TINY, "--seed", "1", "-q")
    fresh = _weights(tmp_path / "fresh.lstmcast")
    assert any(not (warm[k] == fresh[k]).all() for k in warm)


def test_warm_start_with_another_target_column_is_a_data_error(tmp_path, local):
    local.frame.rename(columns={"y": "sales"}).to_csv("renamed.csv", index=False)
    before = local.model.read_bytes()
    result = invoke(
        "train", "renamed.csv", "--model", "m.lstmcast", *TINY, "--warm-start", ok=False
    )
    assert result.exit_code == 3, result.output
    assert "y" in result.stderr and "sales" in result.stderr
    assert local.model.read_bytes() == before


def test_warm_start_on_daily_data_names_both_frequencies(tmp_path, local):
    # `predict` says "the data's frequency is D, but the model was trained on h data";
    # --warm-start on the same file should say as much, not blame missing steps.
    daily = local.frame[local.frame["ds"].dt.hour == 0]
    daily.to_csv("daily.csv", index=False)
    result = invoke("train", "daily.csv", "--model", "m.lstmcast", *TINY, "--warm-start", ok=False)
    assert result.exit_code == 3, result.output
    assert "frequency is D" in result.stderr and "trained on h" in result.stderr, result.stderr


def test_warm_start_with_another_horizon_is_a_usage_error(local):
    args = ("train", "data.csv", "--model", "m.lstmcast", *TINY, "--warm-start")
    result = invoke(*args, "--horizon", "12", ok=False)
    assert result.exit_code == 2, result.output
    assert "horizon" in result.stderr and "24" in result.stderr and "12" in result.stderr


def test_warm_start_with_another_hidden_size_is_a_usage_error(local):
    # _warm_config: "an explicit different shape is a usage error"; the hidden size is the
    # model's shape as much as the horizon, yet --hidden-size 16 is silently dropped.
    args = ("train", "data.csv", "--model", "m.lstmcast", *TINY, "--warm-start")
    result = invoke(*args, "--hidden-size", "16", ok=False)
    assert result.exit_code == 2, result.output
    assert "hidden" in result.stderr


def test_warm_start_with_the_default_hidden_size_given_is_a_usage_error(local):
    # The model has hidden size 8 (TINY); --hidden-size 128 is the default, but the user gave it.
    args = ("train", "data.csv", "--model", "m.lstmcast", *TINY, "--warm-start")
    before = local.model.read_bytes()
    result = invoke(*args, "--hidden-size", "128", ok=False)
    assert result.exit_code == 2, result.output
    assert "keeps the model's hidden_size (8), but --hidden-size 128 was given" in result.stderr
    assert local.model.read_bytes() == before


def test_warm_start_holds_a_config_file_value_against_the_model(tmp_path, local):
    # layers = 2 is the default, yet the file gives it: the model's 1 layer is not silently kept.
    (tmp_path / "settings.toml").write_text("[train]\nlayers = 2\n")
    result = invoke(
        "train", "data.csv", "--model", "m.lstmcast", "--warm-start", "--config", "settings.toml",
        ok=False,
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "keeps the model's layers (1), but --layers 2 was given" in result.stderr


def test_warm_start_without_a_model_is_a_model_error(tmp_path, trained):
    result = invoke(
        "train", trained.data, "--model", "none.lstmcast", *TINY, "--warm-start", ok=False
    )
    assert result.exit_code == 4, result.output
    assert "none.lstmcast" in result.stderr
    assert not (tmp_path / "none.lstmcast").exists()


# --- 6. age and drift guards ------------------------------------------------------------------

FRESH = "2024-01-08T00:00"  # hours after the newest row of hourly_frame()


def _predict(data, model, *extra, ok=True):
    return invoke("predict", data, "--model", model, "-o", "f.csv", *extra, ok=ok)


@pytest.mark.slow
def test_max_age_refuses_an_old_model(trained):
    created = dt.datetime.fromisoformat(api.model_info(trained.model)["created_at"])
    old = (created + dt.timedelta(days=8)).isoformat()
    result = _predict(trained.data, trained.model, "--max-age", "7d", "--as-of", old, ok=False)
    assert result.exit_code == 4, result.output
    assert "--max-age 7.0 days" in result.stderr and "retrain" in result.stderr
    recent = (created + dt.timedelta(days=6, hours=23)).isoformat()
    _predict(trained.data, trained.model, "--max-age", "7d", "--as-of", recent)


@pytest.mark.slow
def test_stale_data_warns_or_with_strict_exits_3(trained):
    fresh = _predict(trained.data, trained.model, "--as-of", FRESH, "--strict")
    assert "warning" not in fresh.stderr
    stale = _predict(trained.data, trained.model, "--as-of", "2024-03-01")
    [warning] = [w for w in stale.stderr.splitlines() if w.startswith("warning")]
    assert warning.startswith(
        "warning: the data is stale: 3 of 3 series end more than 2 steps (h) and a day before "
        "now (2024-03-01T00:00:00Z): 'A' (last 2024-01-07T15:00:00), 'B' (last 2024-01-07T10:00:00), "
        "'C' (last 2024-01-07T19:00:00)"
    )
    strict = _predict(trained.data, trained.model, "--as-of", "2024-03-01", "--strict", ok=False)
    assert strict.exit_code == 3, strict.output
    assert "stale" in strict.stderr


def test_one_series_falling_behind_is_named_on_the_first_night_without_a_clock(tmp_path, trained):
    # B stops three days early; A and C run to 2024-01-07, so the file's newest row is fresh.
    frame = trained.frame
    behind = frame[(frame["unique_id"] != "B") | (frame["ds"] < "2024-01-04 12:00")]
    behind.to_csv("behind.csv", index=False)
    result = _predict("behind.csv", trained.model, "--as-of", FRESH, "-q", "--log-file", "runs.log")
    assert result.stdout == ""
    # B is named once, by the lag warning: the stale warning (the clock) says no more.
    [warning] = [w for w in result.stderr.splitlines() if "ends before" in w]
    assert "stale" not in result.stderr
    assert warning.startswith(
        "warning: 1 of 3 series ends before the others (newest 2024-01-07T19:00:00)"
    )
    assert "'B' ends 2024-01-04T11:00:00 (3.3 days behind)" in warning
    assert "'A'" not in warning and "'C'" not in warning
    [line] = read_log(tmp_path / "runs.log")
    assert (line["command"], line["exit"], line["lagging"], line["new"]) == (
        "predict",
        "0",
        "1",
        "0",
    )
    assert warning.removeprefix("warning: ") in logged_warnings(line)
    # A "now" a year later: the others are stale too, and B is named once, as behind them.
    late = _predict("behind.csv", trained.model, "--as-of", "2025-01-08")
    [stale] = [w for w in late.stderr.splitlines() if "stale" in w]
    assert "2 of 3 series end" in stale and "(besides the 1 behind the others)" in stale
    assert "'A'" in stale and "'C'" in stale and "'B'" not in stale
    assert [w for w in late.stderr.splitlines() if "'B' ends" in w] == [warning]

    strict = _predict("behind.csv", trained.model, "--as-of", FRESH, "--strict", ok=False)
    assert strict.exit_code == 3, strict.output
    assert "'B'" in strict.stderr and "--strict" in strict.stderr


def test_lag_warning_names_the_most_lagging_series_first(tmp_path):
    from lstmcast.ops import NAMED, lag_warning, lagging_series

    # 50 daily series to 2024-05-07; store_17 stopped 10 days before, six others 1 to 6 days.
    ends = {f"store_{k:02d}": 0 for k in range(50)} | {"store_17": 10}
    ends |= {f"store_{k:02d}": k - 39 for k in range(40, 46)}
    rows = [
        (sid, day, 1.0)
        for sid, lag in ends.items()
        for day in pd.date_range("2024-03-01", pd.Timestamp("2024-05-07") - pd.Timedelta(days=lag))
    ]
    pd.DataFrame(rows, columns=["unique_id", "ds", "y"]).to_csv("many.csv", index=False)
    panel = api.load("many.csv")
    trained = {sid: pd.Timestamp("2024-05-01").value for sid in ends}  # level at training
    lags = lagging_series(panel, trained)
    assert [lag.id for lag in lags] == ["store_17", *(f"store_{k}" for k in range(45, 39, -1))]
    text = lag_warning(panel, lags)
    assert text.startswith("7 of 50 series end before the others (newest 2024-05-07)")
    assert "'store_17' ends 2024-04-27 (10 days behind), 'store_45' ends 2024-05-01 (6 days" in text
    assert text.count(" ends ") == NAMED and f"and {7 - NAMED} more" in text
    # A staggered panel keeps its distances: not lagging. One day further behind: lagging.
    as_trained = {
        sid: pd.Timestamp(last).value for sid, last in zip(panel.ids, panel.last, strict=True)
    }
    assert lagging_series(panel, as_trained) == []
    as_trained["store_17"] += pd.Timedelta(days=1).value
    assert [lag.id for lag in lagging_series(panel, as_trained)] == ["store_17"]
    as_trained["store_17"] -= pd.Timedelta(hours=1).value  # 23 hours is within a day
    assert lagging_series(panel, as_trained) == []


def test_log_line_is_stamped_with_the_start_of_the_run(tmp_path, trained, monkeypatch):
    import lstmcast.cli.support

    start = dt.datetime(2026, 11, 28, 2, 0, 1, tzinfo=dt.timezone.utc)
    ticks = iter(start + dt.timedelta(minutes=10 * k) for k in range(100))
    monkeypatch.setattr(lstmcast.cli.support, "_now", lambda: next(ticks))
    _predict(trained.data, trained.model, "--as-of", FRESH, "-q", "--log-file", "runs.log")
    [line] = read_log(tmp_path / "runs.log")
    assert line["timestamp"] == "2026-11-28T02:00:01Z"
    assert float(line["duration"].rstrip("s")) >= 600  # measured from that start to the end


@pytest.mark.parametrize(
    ("args", "config", "needle"),
    [
        (["--horizon", "0"], None, "--horizon"),
        (["--no-such-option"], None, "--no-such-option"),
        ([], '[predict]\nmodle = "m.lstmcast"\nlog-file = "runs.log"\n', "modle"),
        (["--config", "nope.toml"], None, "nope.toml"),
    ],
    ids=["bad-value", "unknown-option", "config-key", "missing-config"],
)
def test_usage_and_config_errors_reach_the_log(tmp_path, trained, args, config, needle):
    log = [] if config else ["--log-file", "runs.log"]
    if config:
        (tmp_path / "lstmcast.toml").write_text(config)
    result = invoke("predict", trained.data, "--model", trained.model, "-q", *log, *args, ok=False)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and needle in result.stderr
    [line] = read_log(tmp_path / "runs.log")
    assert (line["command"], line["exit"]) == ("predict", "2")
    assert needle in line["error"]


def test_log_values_with_quotes_and_newlines_stay_on_one_line(tmp_path):
    from lstmcast.ops import append_log

    text = 'column "a b"\nsecond line = x\\y'
    append_log(
        tmp_path / "l.log", {"command": "predict", "exit": 3, "error": text}, warnings=[text]
    )
    [raw] = (tmp_path / "l.log").read_text().splitlines()
    [line] = read_log(tmp_path / "l.log")
    assert line["error"] == text and logged_warnings(line) == [text]
    assert raw.count("\n") == 0


def test_a_new_column_warns(tmp_path, trained):
    trained.frame.assign(promo=0).to_csv("more.csv", index=False)
    result = _predict("more.csv", trained.model, "--as-of", FRESH)
    assert "warning: the columns differ from training: new promo" in result.stderr
    strict = _predict("more.csv", trained.model, "--as-of", FRESH, "--strict", ok=False)
    assert strict.exit_code == 3, strict.output


def test_a_level_shift_warns_naming_the_series(tmp_path, trained):
    a = trained.frame[trained.frame["unique_id"] == "A"]
    extra = a.tail(3).assign(ds=lambda f: f["ds"] + pd.Timedelta(hours=3), y=lambda f: f["y"] * 100)
    pd.concat([trained.frame, extra]).to_csv("shifted.csv", index=False)
    result = _predict("shifted.csv", trained.model, "--as-of", FRESH)
    assert "warning: series 'A' moved far outside its training range" in result.stderr
    assert "'B'" not in result.stderr and "'C'" not in result.stderr
    strict = _predict("shifted.csv", trained.model, "--as-of", FRESH, "--strict", ok=False)
    assert strict.exit_code == 3 and "'A'" in strict.stderr


def test_data_at_another_frequency_names_both(tmp_path, trained):
    trained.frame[trained.frame["ds"].dt.hour == 0].to_csv("daily.csv", index=False)
    result = _predict("daily.csv", trained.model, ok=False)
    assert result.exit_code == 3, result.output
    assert "frequency is D" in result.stderr and "trained on h data" in result.stderr
    assert not (tmp_path / "f.csv").exists()


# --- 7. interrupts ----------------------------------------------------------------------------


@pytest.mark.slow
def test_sigint_and_sigterm_stop_training_and_keep_the_old_model(tmp_path, local, procs):
    runs = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        folder = tmp_path / sig.name
        folder.mkdir()
        shutil.copy(local.model, folder / "m.lstmcast")
        args = ("train", local.data, "--model", "m.lstmcast", *TINY, *LONG, "--time-budget", "60")
        runs[sig] = (folder, procs(*args, "-q", "--log-file", "runs.log", cwd=folder))
    for folder, p in runs.values():
        wait_for_lock(folder / "m.lstmcast", p)
    time.sleep(1.0)  # into training
    for sig, (_, p) in runs.items():
        p.send_signal(sig)
    old = local.model.read_bytes()
    for sig, (folder, p) in runs.items():
        code = 128 + sig
        result = finish(p, timeout=60)
        assert result.returncode == code, result.stderr
        assert result.stderr.startswith("error: "), result.stderr
        assert "Traceback" not in result.stderr
        assert (folder / "m.lstmcast").read_bytes() == old
        assert dot_files(folder) == []  # a caught signal removes the temp file
        [line] = read_log(folder / "runs.log")
        assert (line["command"], line["exit"]) == ("train", str(code))


# --- 8. reproducibility -----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", ["f.csv", "f.parquet"])
def test_predict_twice_gives_identical_files(tmp_path, trained, name):
    invoke("predict", trained.data, "--model", trained.model, "-o", "first_" + name, "-q")
    invoke("predict", trained.data, "--model", trained.model, "-o", "second_" + name, "-q")
    first, second = (tmp_path / ("first_" + name)), (tmp_path / ("second_" + name))
    assert first.read_bytes() == second.read_bytes()


@pytest.mark.slow
def test_same_seed_gives_identical_forecasts_across_processes(tmp_path, trained):
    # Another process with another hash seed: no set or dict order may leak into training.
    args = ("train", trained.data, *TINY, "--seed", "7", "-q", "--model")
    env = {**ENV, "PYTHONHASHSEED": "12345"}
    result = run(BIN, *args, "1.lstmcast", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    invoke(*args, "2.lstmcast")
    for k in (1, 2):
        invoke("predict", trained.data, "--model", f"{k}.lstmcast", "-o", f"{k}.csv", "-q")
    assert (tmp_path / "1.csv").read_bytes() == (tmp_path / "2.csv").read_bytes()
    assert forecast_ok(tmp_path / "1.csv")


# --- 9. disk and permissions ------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["predict", "{data}", "--model", "{model}", "-o", "missing/f.csv"],
        ["train", "{data}", "--model", "missing/m.lstmcast", *TINY],
        ["evaluate", "{data}", "--model", "{model}", "-o", "missing/e.csv"],
        ["evaluate", "{data}", "--model", "{model}", "--plot", "missing/e.png"],
    ],
    ids=["predict", "train", "evaluate-output", "evaluate-plot"],
)
def test_output_into_a_missing_folder_exits_73_and_writes_nothing(tmp_path, trained, args):
    args = [a.format(data=trained.data, model=trained.model) for a in args]
    before = sorted(os.listdir(trained.folder))
    result = invoke(*args, ok=False)
    assert result.exit_code == 73, result.output
    assert "the folder does not exist" in result.stderr
    assert os.listdir(tmp_path) == []
    assert sorted(os.listdir(trained.folder)) == before


needs_non_root = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes through chmod"
)


@needs_non_root
def test_output_into_a_read_only_folder_exits_73(tmp_path, trained):
    ro = tmp_path / "ro"
    ro.mkdir()
    (ro / "f.csv").write_text("old\n")
    ro.chmod(0o555)
    try:
        result = _predict(trained.data, trained.model, "-o", ro / "f.csv", ok=False)
        assert result.exit_code == 73, result.output
        assert "permission denied" in result.stderr
        assert (ro / "f.csv").read_text() == "old\n"
    finally:
        ro.chmod(0o755)


@needs_non_root
def test_model_in_a_read_only_folder_exits_73(tmp_path, trained):
    ro = tmp_path / "ro"
    ro.mkdir()
    shutil.copy(trained.model, ro / "m.lstmcast")
    ro.chmod(0o555)
    try:
        result = invoke("train", trained.data, "--model", ro / "m.lstmcast", *TINY, ok=False)
        assert result.exit_code == 73, result.output
        result = _predict(trained.data, ro / "m.lstmcast", ok=False)
        assert result.exit_code == 73, result.output
        assert "lock" in result.stderr
    finally:
        ro.chmod(0o755)


def test_signals_during_training_are_raised_only_where_it_is_safe():
    # While torch trains, SIGINT and SIGTERM are noted and raised at the callback's check;
    # raised inside torch they could abort the process (exit -6, temp file left behind).
    import os

    from lstmcast.errors import Interrupted
    from lstmcast.ops import DeferredSignals

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Interrupted) as caught:
        with DeferredSignals() as signals:
            assert signal.getsignal(signal.SIGTERM) is before  # not armed until the first check
            signals.check()
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)  # the handler has run: nothing raised yet
            assert signals.signum == signal.SIGTERM
            signals.check()
    assert caught.value.exit_code == 143 and caught.value.hint == "nothing was written"
    assert signal.getsignal(signal.SIGTERM) is before  # the handlers are put back
    with pytest.raises(KeyboardInterrupt):
        with DeferredSignals() as signals:
            signals.check()
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            signals.check()
    # A signal after the last check (the model file was written meanwhile) is raised at the
    # end of the block, saying so.
    with pytest.raises(Interrupted) as caught:
        with DeferredSignals() as signals:
            signals.check()
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
    assert caught.value.exit_code == 130 and "written" in caught.value.hint
    with DeferredSignals() as signals:  # no signal: nothing happens
        signals.check()
