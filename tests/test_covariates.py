"""Exogenous covariates end to end: file → panel → windows → model → model file → forecasts."""

import io
import json
import re

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import TINY, invoke

from lstmcast import api
from lstmcast.config import DataSpec, ModelConfig, TrainConfig
from lstmcast.data.load import load
from lstmcast.errors import DataError, UsageError
from lstmcast.forecast import forecast_at
from lstmcast.methods.lstm import LSTMForecaster
from lstmcast.train import fit, resolve_model_config

N, FUTURE, EFFECT = 300, 30, 10.0
# Enough steps (96) for a small model to learn the promotion's effect.
LEARN = [
    "--hidden-size", "16", "--epochs", "6", "--windows-per-epoch", "512", "--lookback", "48",
    "--horizon", "24",
]  # fmt: skip


def promo_frame(seed: int = 0, n: int = N, future: int = FUTURE) -> pd.DataFrame:
    """Hourly series whose value rises by EFFECT in the (random) promotion hours.

    The last `future` rows of each series have an empty y and carry the promotions to come;
    `visits` is a past covariate with no value in those rows.
    """
    rng = np.random.default_rng(seed)
    parts = []
    for k, uid in enumerate("ABC"):
        ds = pd.date_range("2024-01-01", periods=n + future, freq="h")
        promo = (rng.random(n + future) < 0.2).astype(int)
        daily = 3 * np.sin(2 * np.pi * ds.hour.to_numpy() / 24)
        y = 10 * (k + 1) + daily + EFFECT * promo + rng.normal(0, 0.5, n + future)
        visits = 100 + 5 * daily + rng.normal(0, 1, n + future)
        y[n:], visits[n:] = np.nan, np.nan
        parts.append(pd.DataFrame({"unique_id": uid, "ds": ds, "y": y, "promo": promo, "visits": visits}))  # fmt: skip
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def trained(trained_model):
    """In this module: a model trained with --covariates promo on promo_frame(), read-only."""
    return trained_model("promo", promo_frame, (*LEARN, "--covariates", "promo"))


def predict_csv(data, model, *extra, ok=True):
    return invoke("predict", data, "--model", model, "--format", "csv", "--as-of", "2024-01-13", *extra, ok=ok)  # fmt: skip


# --- the model learns from a covariate ---------------------------------------------------


@pytest.mark.slow
def test_a_known_future_covariate_lowers_the_validation_loss():
    frame = promo_frame(seed=0)
    loss = {}
    for names in ((), ("promo",)):
        panel = load(frame, DataSpec(covariates=names))
        cfg = resolve_model_config(
            ModelConfig(lookback=48, horizon=24, hidden_size=16, layers=1), panel
        )
        tcfg = TrainConfig(epochs=6, windows_per_epoch=512, batch_size=32, device="cpu")
        loss[names] = fit(panel, cfg, tcfg).best_val_loss
    # Measured 0.15 to 0.19 of the loss without over data seeds 0 to 4.
    assert loss[("promo",)] < 0.5 * loss[()], loss


@pytest.mark.slow
def test_predict_reads_the_future_rows_and_forecasts_the_promotions(trained):
    result = predict_csv(trained.data, trained.model)
    forecast = pd.read_csv(io.StringIO(result.stdout), parse_dates=["ds"])
    assert len(forecast) == 3 * 24
    future = trained.frame[trained.frame["y"].isna()]
    merged = forecast.merge(future[["unique_id", "ds", "promo"]], on=["unique_id", "ds"])
    assert len(merged) == len(forecast)  # forecasts start right after the last target
    assert merged["ds"].min() == pd.Timestamp("2024-01-01") + pd.Timedelta(hours=N)
    mean = merged.groupby(["unique_id", "promo"])["yhat"].mean().unstack()
    # The promotion adds 10; every series' promotion hours are forecast clearly higher
    # (by 11.6 to 12.8 here; at least 7.5 over data seeds 0 to 4).
    assert (mean[1] - mean[0] > 0.5 * EFFECT).all(), mean
    assert "dropped" not in result.stderr  # future rows are not dropped rows


@pytest.mark.slow
def test_a_horizon_beyond_the_trained_one_needs_its_covariates_too(trained, tmp_path):
    result = predict_csv(trained.data, trained.model, "--horizon", str(FUTURE))
    assert len(pd.read_csv(io.StringIO(result.stdout))) == 3 * FUTURE
    result = predict_csv(trained.data, trained.model, "--horizon", str(FUTURE + 1), ok=False)
    assert result.exit_code == 3, result.output
    when = pd.Timestamp("2024-01-01") + pd.Timedelta(hours=N + FUTURE)
    assert (
        f"error: series 'A': covariate 'promo' has no value for {when.isoformat()} "
        f"(needed for the {FUTURE + 1}-step horizon; 3 values missing in all)"
    ) in result.stderr


@pytest.mark.slow
def test_a_missing_future_value_is_exit_3_and_keeps_the_old_forecast(trained, tmp_path):
    frame = trained.frame.copy()
    row = frame.index[(frame["unique_id"] == "B") & frame["y"].isna()][5]
    frame.loc[row, "promo"] = np.nan
    frame.to_csv(tmp_path / "gap.csv", index=False)
    out = tmp_path / "forecast.csv"
    invoke("predict", trained.data, "--model", trained.model, "-o", out, "-q")
    before = out.read_bytes()

    result = invoke("predict", tmp_path / "gap.csv", "--model", trained.model, "-o", out, ok=False)
    assert result.exit_code == 3, result.output
    first = result.stderr.splitlines()[0]
    when = pd.Timestamp(frame.loc[row, "ds"]).isoformat()
    assert first == (
        f"error: series 'B': covariate 'promo' has no value for {when} "
        "(needed for the 24-step horizon)"
    )
    assert "empty target" in result.stderr  # the hint says how to give future values
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["forecast.csv", "gap.csv"]


@pytest.mark.slow
def test_a_missing_covariate_column_in_predict_is_exit_3(trained, tmp_path):
    trained.frame.drop(columns="promo").to_csv(tmp_path / "plain.csv", index=False)
    result = predict_csv(tmp_path / "plain.csv", trained.model, ok=False)
    assert result.exit_code == 3, result.output
    assert "covariate 'promo'" in result.stderr
    assert "columns: unique_id, ds, y, visits" in result.stderr


@pytest.mark.slow
def test_backtests_use_the_known_covariates_of_each_horizon(trained):
    model, _ = api.load_model(trained.model)
    panel = api.load(trained.data, DataSpec(covariates=("promo",)))
    series, origin = np.array([0, 1]), panel.lengths[:2] - 24
    before = forecast_at(model, panel, series, origin, 24)
    panel.covariates[panel.offsets[2] - 24 : panel.offsets[2], 0] = 1.0  # a promotion all day
    after = forecast_at(model, panel, series, origin, 24)
    assert np.array_equal(after[0], before[0])  # series A: untouched
    assert after[1, :, 1].mean() > before[1, :, 1].mean() + 4  # series B: higher (by 7.8)

    result = invoke("evaluate", trained.data, "--model", trained.model, "--folds", "2", "--json")
    methods = json.loads(result.stdout)["methods"]
    assert methods["lstm"]["mean"]["mase"] < methods["seasonal_naive"]["mean"]["mase"]


# --- past covariates, config file, model file ---------------------------------------------


@pytest.mark.slow
def test_past_covariates_from_the_config_need_no_future_rows(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    frame = promo_frame(seed=1)
    history = frame[frame["y"].notna()]
    history.to_csv("data.csv", index=False)
    (tmp_path / "lstmcast.toml").write_text(
        '[train]\npast-covariates = ["visits"]\ncovariates = []\n'
    )
    invoke("train", "data.csv", "--model", "past.lstmcast", *TINY, "-q")
    model = json.loads(invoke("info", "past.lstmcast", "--json").stdout)["model_config"]
    assert (model["covariates"], model["past_covariates"]) == ([], ["visits"])

    result = predict_csv("data.csv", "past.lstmcast")
    forecast = pd.read_csv(io.StringIO(result.stdout), parse_dates=["ds"])
    assert len(forecast) == 3 * 24 and forecast["yhat"].notna().all()
    assert forecast["ds"].min() == pd.Timestamp("2024-01-01") + pd.Timedelta(hours=N)
    # Rows after the last target (here with an empty visits) change nothing.
    frame.to_csv("with_future.csv", index=False)
    assert predict_csv("with_future.csv", "past.lstmcast").stdout == result.stdout


@pytest.mark.slow
def test_the_model_file_keeps_the_covariate_names(trained):
    header = api.model_info(trained.model)
    assert header["model"]["covariates"] == ["promo"]
    assert header["model"]["past_covariates"] == []
    model, _ = api.load_model(trained.model)
    assert (model.cfg.covariates, model.cfg.past_covariates) == (("promo",), ())
    table = invoke("info", trained.model).stdout
    assert "known ahead: promo; past only: —" in table


def test_old_model_headers_and_models_without_covariates_are_unchanged():
    cfg = ModelConfig(lookback=48, horizon=24, hidden_size=8, layers=1, season=24, patch=8)
    cfg = resolve_model_config(cfg, load(promo_frame(future=0)))
    assert (cfg.covariates, cfg.past_covariates) == ((), ())
    old = {k: v for k, v in cfg.__dict__.items() if "covariates" not in k}
    assert ModelConfig.from_dict(json.loads(json.dumps(old))) == cfg  # files from before
    torch.manual_seed(0)
    plain = LSTMForecaster(cfg)
    assert plain.lstm.input_size == 8 + 2 * len(cfg.periods)
    assert plain.head[0].in_features == 8
    assert not hasattr(plain, "future_step")
    torch.manual_seed(0)
    with_cov = LSTMForecaster(ModelConfig(**{**cfg.__dict__, "covariates": ("promo",)}))
    assert with_cov.lstm.input_size == 8 + 2 * len(cfg.periods) + 8
    assert with_cov.head[0].in_features == 8 + 24


@pytest.mark.parametrize(
    "future, past, skip", [(("p",), (), True), (("p", "q"), ("v",), False), ((), ("v",), True)]
)
def test_forward_with_each_kind_of_covariate(future, past, skip):
    cfg = ModelConfig(
        lookback=48, horizon=24, hidden_size=8, layers=1, dropout=0.0, season=24, patch=8,
        skip=skip, calendar=False, periods=(24.0,), covariates=future, past_covariates=past,
    )  # fmt: skip
    model = LSTMForecaster(cfg)
    x, phase = torch.randn(5, 48), torch.zeros(5, 1)
    cov = torch.zeros(5, 72, len(future) + len(past))
    cov[:, :48] = torch.randn(5, 48, cov.shape[-1])
    yhat, _, _ = model(x, phase, cov)
    assert yhat.shape == (5, 24, 3) and torch.isfinite(yhat).all()
    cov[:, 48:] = 1e9  # past covariates' horizon steps are never read; clipped otherwise
    again, _, _ = model(x, phase, cov)
    assert torch.isfinite(again).all()
    assert torch.equal(again, yhat) == (not future)
    with pytest.raises(AssertionError, match="covariates"):
        model(x, phase)


# --- reading covariates from files ----------------------------------------------------------


def test_future_rows_become_the_panel_future_and_gaps_stay_gaps():
    frame = promo_frame(n=40, future=3)
    frame.loc[10, "y"] = np.nan  # a gap inside the history keeps its covariate value
    frame.loc[12, "promo"] = np.nan  # a missing covariate value inside is interpolated
    panel = load(frame, DataSpec(covariates=("promo",), past_covariates=("visits",)))
    assert list(panel.lengths) == [40, 40, 40]
    assert panel.last[0] == pd.Timestamp("2024-01-01") + pd.Timedelta(hours=39)
    assert panel.covariates.shape == (120, 2) and panel.future.shape == (3, 3, 1)
    a = frame[frame["unique_id"] == "A"]
    np.testing.assert_array_equal(panel.future[0, :, 0], a["promo"].to_numpy()[40:])
    assert panel.covariates[10, 0] == a["promo"].iloc[10]
    assert panel.covariates[12, 0] == pytest.approx((a["promo"].iloc[11] + a["promo"].iloc[13]) / 2)
    np.testing.assert_allclose(panel.covariates[:40, 1], a["visits"].to_numpy()[:40], rtol=1e-6)
    assert any("1 missing covariate value" in w for w in panel.warnings)
    assert any("dropped 1 row with" in w for w in panel.warnings)  # only the gap, not the future
    assert panel.summary()["columns"]["covariates"] == ["promo"]

    plain = load(frame)  # without covariates: trailing empty rows are dropped as before
    assert "dropped 10 rows with an empty target" in plain.warnings
    assert "covariates" not in plain.summary()["columns"] and plain.covariates is None


def test_single_series_with_covariates_and_true_false_flags(write_csv):
    lines = ["date,sales,price,holiday"]
    for d in range(12):
        sales = "" if d >= 10 else str(100 + d)
        lines.append(f"2024-01-{d + 1:02d},{sales},{2 + d % 3},{'true' if d % 7 == 0 else 'false'}")
    path = write_csv("\n".join(lines) + "\n")
    panel = api.load(path, DataSpec(covariates=("PRICE", "holiday")))
    assert panel.columns.layout == "single" and panel.columns.targets == ("sales",)
    assert panel.columns.covariates == ("price", "holiday")
    assert panel.future.shape == (1, 2, 2)
    np.testing.assert_array_equal(panel.covariates[:, 1], [1, 0, 0, 0, 0, 0, 0, 1, 0, 0])


def test_a_long_covariate_gap_is_an_error_naming_series_column_and_time():
    frame = promo_frame(n=60, future=0)
    frame.loc[5:40, "promo"] = np.nan
    with pytest.raises(DataError) as exc:
        load(frame, DataSpec(covariates=("promo",)))
    assert exc.value.message == (
        "series 'A': covariate 'promo' has a gap of 36 missing steps from 2024-01-01T05:00:00; "
        "at most 24 are filled"
    )
    assert "--max-gap 36" in exc.value.hint
    assert load(frame, DataSpec(covariates=("promo",), max_gap=36)).covariates is not None


@pytest.mark.parametrize(
    "spec, needle",
    [
        (
            DataSpec(covariates=("promo", "pirce")),
            "--covariates pirce: no such column (columns: unique_id, ds, y, promo, visits)",
        ),  # fmt: skip
        (DataSpec(past_covariates=("nope",)), "--past-covariates nope: no such column"),
    ],
)
def test_unknown_covariate_columns_name_the_columns(spec, needle):
    with pytest.raises(DataError, match="^" + re.escape(needle)):
        load(promo_frame(n=20, future=0), spec)


@pytest.mark.slow
def test_covariate_errors_in_the_cli(tmp_path):
    frame = promo_frame(n=40, future=0)
    frame.to_csv(tmp_path / "long.csv", index=False)
    model = ("--model", tmp_path / "m.lstmcast")
    result = invoke("train", tmp_path / "long.csv", *model, "--covariates", "price", ok=False)
    assert result.exit_code == 3, result.output
    assert result.stderr.startswith("error: --covariates price: no such column (columns: ")

    text = frame.astype({"promo": str})
    text.loc[7, "promo"] = "lots"
    text.to_csv(tmp_path / "text.csv", index=False)
    result = invoke("train", tmp_path / "text.csv", *model, "--covariates", "promo", ok=False)
    assert result.exit_code == 3, result.output
    assert "covariate column 'promo' is not numeric: 'lots' in file line 9" in result.stderr

    wide = frame.pivot(index="ds", columns="unique_id", values="y").reset_index()
    wide["promo"] = 1
    wide.to_csv(tmp_path / "wide.csv", index=False)
    result = invoke("train", tmp_path / "wide.csv", *model, "--covariates", "promo", ok=False)
    assert result.exit_code == 2, result.output
    assert "wide" in result.stderr and "hint:" in result.stderr

    both = ["--covariates", "promo", "--past-covariates", "promo"]
    result = invoke("train", tmp_path / "long.csv", *model, *both, ok=False)
    assert result.exit_code == 2, result.output


@pytest.mark.slow
def test_inspect_shows_the_covariates(tmp_path):
    promo_frame(n=40, future=5).to_csv(tmp_path / "data.csv", index=False)
    args = (
        "inspect",
        tmp_path / "data.csv",
        "--covariates",
        "promo",
        "--past-covariates",
        "visits",
    )
    summary = json.loads(invoke(*args, "--json").stdout)
    assert summary["columns"]["covariates"] == ["promo"]
    assert summary["columns"]["past_covariates"] == ["visits"]
    assert summary["rows"] == 3 * 40 and summary["warnings"] == []
    assert "known ahead: promo; past only: visits" in invoke(*args).stdout


def test_covariates_clash_with_explicit_columns():
    with pytest.raises(UsageError, match="already the --target"):
        load(promo_frame(n=20, future=0), DataSpec(target="promo", covariates=("promo",)))


def test_covariates_named_by_the_spec_are_never_dropped():
    # Covariates are a step of the one loading pipeline: no way of loading leaves them out.
    spec = DataSpec(covariates=("promo",), past_covariates=("visits",))
    panel = load(promo_frame(n=20, future=0), spec)
    assert panel.covariates.shape[1] == 2
    assert (panel.columns.covariates, panel.columns.past_covariates) == (("promo",), ("visits",))
