"""Option values through the CLI: every numeric option is range-checked before any work,
from the command line and from a config file; hostile values end in a documented exit code."""

import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pandas as pd
import pytest
import torch
import typer.main
from helpers import TINY, hourly_frame, invoke
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lstmcast.config
from lstmcast.cli import app
from lstmcast.config import OPTION_RANGES, DataSpec, ModelConfig, TrainConfig, warm_config
from lstmcast.errors import UsageError
from lstmcast.modelfile.header import MODEL_FIELDS, TRAIN_FIELDS
from lstmcast.options import options_of

DOCUMENTED = {0, 2, 3, 4, 73}


def assert_one_line_error(result, code: int, *names: str) -> None:
    """Exit `code`, `error: ...` naming each of `names`, at most a hint after it, no traceback."""
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert lines and lines[0].startswith("error: "), result.stderr
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("  hint: ")), result.stderr
    assert "Traceback" not in result.output
    for name in names:
        assert name in lines[0], result.stderr


# (command, option, value, words the message must hold): the range is named in every case.
OUT_OF_RANGE = [
    ("train", "--horizon", "0", "from 1 to 100,000"),
    ("train", "--horizon", "1000000000", "from 1 to 100,000"),
    ("train", "--lookback", "0", "from 1 to"),
    ("train", "--season", "0", "from 1 to"),
    ("train", "--season", "1000000000", "from 1 to 100,000"),
    ("train", "--hidden-size", "0", "from 1 to 2,048"),
    ("train", "--hidden-size", "100000", "from 1 to 2,048"),
    ("train", "--layers", "9", "from 1 to 8"),
    ("train", "--dropout", "-0.1", "from 0 to 0.9"),
    ("train", "--dropout", "nan", "from 0 to 0.9"),
    ("train", "--ensemble", "0", "from 1 to 100"),
    ("train", "--skip-cycles", "0", "from 1 to 1,000"),
    ("train", "--epochs", "0", "from 1 to"),
    ("train", "--max-steps", "-5", "from 1 to"),
    ("train", "--time-budget", "0", "above 0"),
    ("train", "--time-budget", "inf", "above 0"),
    ("train", "--windows-per-epoch", "0", "from 1 to"),
    ("train", "--batch-size", "0", "from 1 to 65,536"),
    ("train", "--lr", "0", "above 0"),
    ("train", "--lr", "-0.1", "above 0"),
    ("train", "--lr", "nan", "finite"),
    ("train", "--lr", "inf", "finite"),
    ("train", "--patience", "0", "from 1 to"),
    ("train", "--val-size", "0", "from 1 to"),
    ("train", "--seed", "-1", "from 0 to 4,294,967,295"),
    ("train", "--seed", "4294967296", "from 0 to 4,294,967,295"),
    ("train", "--threads", "0", "from 1 to 1,024"),
    ("train", "--max-gap", "-1", "from 0 to"),
    ("train", "--lock-timeout", "nan", "from 0 to 604,800"),
    ("train", "--lock-timeout", "-1", "from 0 to 604,800"),
    ("train", "--freq", "-1D", "positive"),
    ("train", "--freq", "0h", "positive"),
    ("train", "--freq", "fortnightly", "not a pandas frequency"),
    ("train", "--quantiles", "0.9,0.1", "increasing"),
    ("train", "--quantiles", "0.1,0.5,0.5,0.9", "once"),
    ("train", "--quantiles", "0.5", "below 0.5 and one above"),
    ("train", "--quantiles", "0.1,1.5", "between 0 and 1"),
    ("train", "--quantiles", "nan,0.9", "between 0 and 1"),
    ("train", "--quantiles", "", "numbers"),
    ("inspect", "--max-gap", "-1", "from 0 to"),
    ("inspect", "--target", " ", "names no column"),
    ("train", "--id-col", ",", "names no column"),
    ("train", "--time-col", "", "names no column"),
    ("inspect", "--freq", "-1D", "positive"),
    ("predict", "--horizon", "0", "from 1 to 100,000"),
    ("predict", "--horizon", "1000000000", "from 1 to 100,000"),
    ("predict", "--lock-timeout", "inf", "from 0 to 604,800"),
    ("predict", "--max-age", "0s", "above 0"),
    ("predict", "--max-age", "99999999999999999999d", "at most 36500d"),
    ("predict", "--max-age", "-1d", "a number and a unit"),
    ("predict", "--as-of", "3000-01-01", "between 1677-09-22 and 2262-04-11"),
    ("predict", "--as-of", "yesterday", "ISO 8601"),
    ("predict", "--format", "xml", "table, csv, tsv or json"),
    ("evaluate", "--folds", "0", "from 1 to 1,000"),
    ("evaluate", "--step", "0", "from 1 to"),
    ("evaluate", "--show", "-1", "from 0 to"),
    ("evaluate", "--season", "1000000000", "from 1 to 100,000"),
    ("plot", "--last", "0", "from 1 to"),
    ("plot", "--holdout", "0", "from 1 to"),
    ("plot", "--horizon", "1000000000", "from 1 to 100,000"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("command", "option", "value", "words"), OUT_OF_RANGE)
def test_out_of_range_option_exits_2_naming_option_and_range(
    tmp_path, command, option, value, words
):
    data = tmp_path / "data.csv"
    hourly_frame().to_csv(data, index=False)
    before = data.read_bytes()
    model = tmp_path / "missing.lstmcast"  # never read: the check comes first
    args = [command, data] + ([] if command == "inspect" else ["--model", model])
    result = invoke(*args, f"{option}={value}", ok=False)
    assert_one_line_error(result, 2, option, words)
    assert data.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]  # no model, no lock


# --- each option declared once, on its config field ------------------------------------------

CONFIGS = (DataSpec, ModelConfig, TrainConfig)
COMMANDS = ("inspect", "train", "predict", "evaluate", "plot")


@pytest.mark.parametrize("command", COMMANDS)
def test_each_declared_option_is_a_parameter_with_the_fields_default_and_help(command):
    params = {p.name: p for p in typer.main.get_command(app).commands[command].params}
    for cls in CONFIGS:
        for name, (field, spec) in options_of(cls).items():
            if command not in spec.commands:
                assert name not in params or cls is not DataSpec, (command, name)
                continue
            param = params[name]
            default = ",".join(map(str, field.default)) or None if spec.parse else field.default
            assert param.default == default, (command, name)
            assert param.help == spec.help_for(command), (command, name)
            assert param.opts[0] == "--" + name.replace("_", "-")


def test_the_configs_built_from_default_options_are_the_configs_defaults():
    from lstmcast.cli.options import Declared

    values = {
        name: (",".join(map(str, f.default)) or None) if spec.parse else f.default
        for cls in CONFIGS
        for name, (f, spec) in options_of(cls).items()
    }
    options = Declared(values, frozenset())
    assert [options.build(cls) for cls in CONFIGS] == [cls() for cls in CONFIGS]
    assert options.given_to(ModelConfig) == frozenset()


def test_a_model_file_may_hold_every_value_an_option_accepts():
    for cls, checks in ((ModelConfig, MODEL_FIELDS), (TrainConfig, TRAIN_FIELDS)):
        for name, (field, spec) in options_of(cls).items():
            values = [field.default] if field.default is not None else []
            if spec.range is not None:  # its ends, or a large value where it has no upper end
                step = 1 if spec.range.whole else 1e-9
                values += [spec.range.lo + step * spec.range.above, spec.range.hi or 1e6]
            for value in values:
                value = list(value) if isinstance(value, tuple) else value
                assert checks[name](value) is None, (name, value)


def test_a_model_file_is_checked_against_the_declared_bounds_not_the_options_range():
    assert MODEL_FIELDS["hidden_size"](65_536) is None  # beyond --hidden-size's 2,048
    assert MODEL_FIELDS["hidden_size"](65_537) == "an integer from 1 to 65,536"
    assert MODEL_FIELDS["scaling"]("max") == "one of auto, std, meanabs, log"
    assert MODEL_FIELDS["lookback"](None) == "an integer from 1 to 1,000,000"  # resolved
    assert TRAIN_FIELDS["max_steps"](None) is None
    assert TRAIN_FIELDS["loss"]("mse") == "one of pinball, huber"
    assert TRAIN_FIELDS["seed"](-1) is None


def test_warm_config_holds_only_the_given_fields_against_the_model():
    old = ModelConfig(lookback=48, horizon=12, season=24, patch=4, hidden_size=8, layers=1)
    asked = ModelConfig(horizon=12, hidden_size=128)  # 2 layers by default
    assert warm_config(old, asked, given=()) is old
    assert warm_config(old, asked, given={"horizon"}) is old
    assert warm_config(old, ModelConfig(quantiles=(0.1, 0.9)), given={"quantiles"}) is old
    with pytest.raises(UsageError, match=r"hidden_size \(8\), but --hidden-size 128 was given"):
        warm_config(old, asked, given={"horizon", "hidden_size"})


def test_config_py_imports_no_typer():
    source = Path(lstmcast.config.__file__).read_text()
    assert "typer" not in source and "rich" not in source


def test_every_ranged_option_is_tested_above():
    tested = {option.lstrip("-").replace("-", "_") for _, option, _, _ in OUT_OF_RANGE}
    assert set(OPTION_RANGES) <= tested


@pytest.mark.slow
def test_config_value_out_of_range_names_the_file(tmp_path):
    data = tmp_path / "data.csv"
    hourly_frame().to_csv(data, index=False)
    config = tmp_path / "settings.toml"
    config.write_text("[train]\nhorizon = 0\n\n[predict]\nlock-timeout = nan\n")
    quantiles = tmp_path / "quantiles.toml"
    quantiles.write_text("[train]\nquantiles = [0.9, 0.1]\n")
    result = invoke("train", data, "--model", tmp_path / "m.lstmcast", "--config", config, ok=False)
    assert_one_line_error(result, 2, "[train] horizon = 0", "settings.toml", "from 1 to 100,000")
    assert "fix it in the file, or pass --horizon" in result.stderr
    result = invoke(
        "predict", data, "--model", tmp_path / "m.lstmcast", "--config", config, ok=False
    )
    assert_one_line_error(result, 2, "[predict] lock-timeout = nan", "settings.toml")
    result = invoke(
        "train", data, "--model", tmp_path / "m.lstmcast", "--config", quantiles, ok=False
    )
    assert_one_line_error(result, 2, "--quantiles 0.9,0.1", "increasing", "quantiles.toml [train]")
    # a value on the command line is checked as such
    result = invoke(
        "train",
        data,
        "--model",
        tmp_path / "m.lstmcast",
        "--no-config",
        "--horizon",
        "-3",
        ok=False,
    )
    assert_one_line_error(result, 2, "--horizon -3")
    assert "settings.toml" not in result.stderr
    # a broken file is refused as a whole, as an unknown key is, even where a flag overrides it
    result = invoke(
        "train", data, "--model", tmp_path / "m.lstmcast", "--config", config,
        "--horizon", "3", ok=False,
    )  # fmt: skip
    assert_one_line_error(result, 2, "[train] horizon = 0", "settings.toml")


@pytest.mark.slow
def test_huge_season_returns_at_once_in_a_real_process(tmp_path):
    hourly_frame().to_csv(tmp_path / "data.csv", index=False)
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "lstmcast", "train", "data.csv", "--season", "1000000000"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: --season 1000000000: expected a whole number from 1")
    assert time.monotonic() - started < 30
    assert not (tmp_path / "model.lstmcast").exists()


@pytest.mark.slow
def test_horizon_beyond_memory_bound_is_refused_before_forecasting(tmp_path, trained):
    # 400 short series x 100,000 steps x 3 quantiles = 120 M values, over the 100 M bound
    many = pd.concat(
        hourly_frame(((f"s{k}", "2024-01-01", 30),), seed=k) for k in range(400)
    )  # fmt: skip
    data = tmp_path / "many.csv"
    many.to_csv(data, index=False)
    out = tmp_path / "forecast.csv"
    out.write_text("old forecast\n")
    result = invoke(
        "predict", data, "--model", trained.model, "--horizon", "100000", "-o", out, ok=False
    )
    assert_one_line_error(result, 2, "--horizon 100000", "400 series", "120,000,000 values")
    assert "pass --horizon 83333 or less" in result.stderr
    assert out.read_text() == "old forecast\n"


@pytest.mark.slow
def test_horizon_past_2262_is_refused_and_timestamps_never_wrap(tmp_path):
    # hourly data ending 2262-04-07 16:00; pandas' last timestamp is 2262-04-11 23:47
    late = hourly_frame((("A", "2262-04-01", 160), ("B", "2262-04-01", 150)))
    folder = tmp_path
    data, model = folder / "late.csv", folder / "late.lstmcast"
    late.to_csv(data, index=False)
    invoke("train", data, "--model", model, *TINY, "--horizon", "6", "-q")
    last = pd.Timestamp("2262-04-07 15:00")  # A's last hour
    room = (pd.Timestamp.max - last) // pd.Timedelta("1h")
    args = ("predict", data, "--model", model, "--as-of", "2262-04-08")
    result = invoke(*args, "--horizon", "200", ok=False)
    assert_one_line_error(result, 2, "--horizon 200", "2262-04-11", "2262-04-07T15:00:00")
    assert f"pass --horizon {room} or less" in result.stderr
    result = invoke(*args, "--horizon", room, "--format", "csv")
    forecast = pd.read_csv(StringIO(result.stdout), parse_dates=["ds"])
    a = forecast[forecast["unique_id"] == "A"]["ds"]
    assert list(a) == list(pd.date_range(last, periods=room + 1, freq="h")[1:])
    assert forecast["ds"].dt.year.eq(2262).all()  # nothing wrapped to 1677


# --- random option values: a documented exit code, one line, files untouched ------------

NUMBERS = st.one_of(
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", " ", "0x10", "1e400", "-0", "1_000", "½", "\x1b[2J"]),
)
# Few examples, the same ones on every run; each is one in-process command on a tiny model.
CHEAP = {
    "deadline": None,
    "derandomize": True,
    "suppress_health_check": [HealthCheck.function_scoped_fixture],
}
TEXTS = st.one_of(st.text(max_size=12), st.sampled_from(["", "-", "CSV", "Json", "7d", "-1D"]))


def assert_documented(result, *context) -> None:
    """A documented exit code, no traceback, no 'unexpected' error; a failure says why in one
    line, or is Typer's own usage error (a value that is not a number at all: exit 2)."""
    assert result.exit_code in DOCUMENTED, (*context, result.output)
    assert "Traceback" not in result.output and "unexpected" not in result.output
    if result.exit_code == 2 and "Invalid value for" in result.output:
        return  # Typer's rendering of its own type errors (`--horizon abc`)
    if result.exit_code:
        assert_one_line_error(result, result.exit_code)


def _hostile_predict(tmp_path, trained, option, value):
    out = tmp_path / "old.csv"
    out.write_bytes(b"unique_id,ds,yhat\nA,2024-01-01,1\n")
    inputs = {p: p.read_bytes() for p in (trained.data, trained.model)}
    old = out.read_bytes()
    result = invoke(
        "predict", trained.data, "--model", trained.model, "-o", out, "--as-of", "2024-01-08",
        f"{option}={value}", ok=False,
    )  # fmt: skip
    assert_documented(result, option, value)
    assert {p: p.read_bytes() for p in inputs} == inputs
    if result.exit_code:
        assert out.read_bytes() == old


@pytest.mark.slow
@settings(max_examples=25, **CHEAP)
@given(
    option=st.sampled_from(["--horizon", "--lock-timeout", "--max-gap"]),
    value=NUMBERS,
)
def test_random_numeric_predict_options(tmp_path, trained, option, value):
    _hostile_predict(tmp_path, trained, option, value)


@pytest.mark.slow
@settings(max_examples=20, **CHEAP)
@given(
    option=st.sampled_from(["--max-age", "--as-of", "--format", "--freq", "--fallback"]),
    value=TEXTS,
)
def test_random_text_predict_options(tmp_path, trained, option, value):
    if option == "--freq":  # predict takes the model's frequency; --freq belongs to train
        option = "--max-age"
    _hostile_predict(tmp_path, trained, option, value)


@pytest.mark.slow
@settings(max_examples=25, **CHEAP)
@given(
    option=st.sampled_from(
        sorted(set(OPTION_RANGES) - {"folds", "step", "show", "last", "holdout"})
    ),
    value=NUMBERS,
)
def test_random_train_options_fail_cleanly_or_train(tmp_path, trained, option, value):
    """Any value: exit 0 (one step of a tiny model) or a documented code, model untouched."""
    model = tmp_path / "model.lstmcast"
    model.write_bytes(trained.model.read_bytes())
    before = {p: p.read_bytes() for p in (trained.data, model)}
    flag = "--" + option.replace("_", "-")
    extra = [] if option in ("max_steps", "epochs") else ["--max-steps", "1"]
    try:
        result = invoke(
            "train", trained.data, "--model", model, *TINY, *extra, f"{flag}={value}", "-q",
            ok=False,
        )  # fmt: skip
    finally:
        torch.set_num_threads(1)  # --threads lasts for the process; other tests expect one
    assert_documented(result, flag, value)
    assert trained.data.read_bytes() == before[trained.data]
    if result.exit_code:
        assert model.read_bytes() == before[model]


@pytest.mark.slow
@settings(max_examples=30, **CHEAP)
@given(
    option=st.sampled_from(["--max-gap", "--freq", "--target", "--time-col", "--id-col"]),
    value=st.one_of(NUMBERS, TEXTS),
)
def test_random_inspect_options(tmp_path, trained, option, value):
    before = trained.data.read_bytes()
    result = invoke("inspect", trained.data, f"{option}={value}", ok=False)
    assert_documented(result, option, value)
    assert trained.data.read_bytes() == before
