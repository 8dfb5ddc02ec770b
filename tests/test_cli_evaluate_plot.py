"""`lstmcast evaluate` and `lstmcast plot` end to end on a tiny hourly panel."""

import json
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from helpers import WEEKLY_LSTM, hourly_frame, invoke, trending_weekly_frame

from lstmcast import methods as registry
from lstmcast import metrics

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
METHODS = (
    "lstm",
    *registry.local_names(),
)  # the LSTM and every per-series method, scored on every window
METRICS = ("mae", "rmse", "smape", "mape", "mase")


def assert_png(path):
    import matplotlib.image

    assert path.read_bytes()[:8] == PNG_SIGNATURE
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    assert image.std() > 0  # not a blank canvas
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []  # no temp


# --- evaluate ---------------------------------------------------------------------------


@pytest.mark.slow
def test_evaluate_json_schema(trained):
    result = invoke("evaluate", trained.data, "--model", trained.model, "--folds", "2", "--json")
    doc = json.loads(result.stdout)
    # "chosen": each series by the method the model file chose for it
    assert set(doc["methods"]) == {*METHODS, "chosen"}
    for method in METHODS:
        for how in ("mean", "median"):
            row = doc["methods"][method][how]
            assert set(METRICS) <= set(row), (method, how)
            assert all(np.isfinite(row[m]) for m in METRICS), (method, how)
    assert {"coverage", "width"} <= set(doc["methods"]["lstm"]["mean"])
    assert "coverage" not in doc["methods"]["naive"]["mean"]
    mean = doc["methods"]
    assert doc["skill_vs_seasonal_naive"] == pytest.approx(
        1 - mean["lstm"]["mean"]["mase"] / mean["seasonal_naive"]["mean"]["mase"]
    )
    assert doc["beats_seasonal_naive"] == (doc["skill_vs_seasonal_naive"] > 0)
    # against the best other method: "beats" only when the skill's interval is above 0
    assert doc["best_baseline"] in registry.local_names()
    # 3 series are too few to resample (metrics.MIN_UNITS): no interval, so a tie
    assert doc["series"] < metrics.MIN_UNITS
    assert doc["skill_interval"] is None and doc["verdict"] == "ties"
    assert doc["beats_best_baseline"] is False
    assert doc["folds"] == 2
    assert doc["horizon"] == 24 and doc["step"] == 24 and doc["season"] == 24
    assert doc["series"] == 3
    assert doc["windows"] == 6
    assert doc["refit"] is False
    assert doc["overlaps_training"] is True  # the training file itself
    assert doc["data"] == str(trained.data)
    assert [r["unique_id"] for r in doc["per_series"]] == ["A", "B", "C"]
    assert all(r["folds"] == 2 for r in doc["per_series"])


@pytest.mark.slow
def test_evaluate_baseline_scores_match_a_hand_computation(tmp_path, trained):
    out = tmp_path / "metrics.csv"
    invoke("evaluate", trained.data, "--model", trained.model, "--folds", "2", "-o", out, "-q")
    table = pd.read_csv(out).set_index("unique_id")
    for uid, part in trained.frame.groupby("unique_id"):
        y = part["y"].to_numpy(dtype=np.float32).astype(np.float64)
        n = len(y)
        naive, snaive, snaive_mase = [], [], []
        for origin in (n - 48, n - 24):
            actual, history = y[origin : origin + 24], y[:origin]
            naive.append(np.abs(actual - history[-1]).mean())
            err = np.abs(actual - history[-24:]).mean()
            snaive.append(err)
            snaive_mase.append(err / np.abs(history[24:] - history[:-24]).mean())
        row = table.loc[uid]
        assert row["naive_mae"] == pytest.approx(np.mean(naive), rel=1e-6), uid
        assert row["seasonal_naive_mae"] == pytest.approx(np.mean(snaive), rel=1e-6), uid
        assert row["seasonal_naive_mase"] == pytest.approx(np.mean(snaive_mase), rel=1e-6), uid


@pytest.mark.slow
def test_evaluate_output_per_series_table(tmp_path, trained):
    out = tmp_path / "metrics.csv"
    result = invoke("evaluate", trained.data, "--model", trained.model, "--folds", "2", "-o", out)
    assert "Backtest" in result.stdout
    table = pd.read_csv(out)
    assert list(table["unique_id"]) == ["A", "B", "C"]
    assert list(table.columns[:2]) == ["unique_id", "folds"]
    for method in METHODS:
        for metric in METRICS:
            assert f"{method}_{metric}" in table.columns
    assert {"lstm_coverage", "lstm_width", "skill"} <= set(table.columns)
    np.testing.assert_allclose(
        table["skill"], 1 - table["lstm_mase"] / table["seasonal_naive_mase"], rtol=1e-6
    )
    # scores as float32 writes them (at most 9 significant digits), not float64's 17
    cells = [c for line in out.read_text().splitlines()[1:] for c in line.split(",")[2:]]
    numbers = [c.split("e")[0].lstrip("-") for c in cells if re.fullmatch(r"-?[\d.]+(e-?\d+)?", c)]
    digits = [len(c.replace(".", "").lstrip("0")) for c in numbers]
    assert digits and max(digits) <= 9 and max(digits) >= 5, max(digits)
    # the overlap with the training data is pointed out on stderr
    assert "optimistic" in result.stderr


@pytest.mark.slow
def test_evaluate_shows_worst_and_best_by_skill(trained):
    args = ("evaluate", trained.data, "--model", trained.model, "--folds", "2")
    per_series = json.loads(invoke(*args, "--json").stdout)["per_series"]
    skill = {r["unique_id"]: r["skill_vs_best_baseline"] for r in per_series}
    for r in per_series:
        best = min(registry.local_names(), key=lambda b: r[f"{b}_mase"])
        assert r["best_baseline"] == best
        assert skill[r["unique_id"]] == pytest.approx(1 - r["lstm_mase"] / r[f"{best}_mase"])
    order = sorted(skill, key=skill.get)  # worst first
    out = invoke(*args, "--show", "1").stdout
    worst, best = out.split("Worst 1 series by skill against the best baseline")[1].split(
        "Best 1 series by skill against the best baseline"
    )
    row = "│ {} ".format
    assert row(order[0]) in worst and row(order[-1]) not in worst
    assert row(order[-1]) in best and row(order[0]) not in best
    assert "median of 3 series" in out
    out = invoke(*args, "--show", "2").stdout  # 3 series < 2 x 2: one table, worst first
    ranking = out.split("All 3 series by skill against the best baseline, worst first")[1]
    assert [ranking.index(f"│ {uid} ") for uid in order] == sorted(
        ranking.index(f"│ {uid} ") for uid in order
    )
    assert "Worst" not in out


@pytest.mark.slow
def test_evaluate_one_series_gives_one_table(tmp_path, trained):
    data = tmp_path / "one.csv"
    trained.frame[trained.frame["unique_id"] == "B"].to_csv(data, index=False)
    out = invoke("evaluate", data, "--model", trained.model, "--folds", "2").stdout
    assert out.count("Backtest") == 1
    assert "Backtest of series 'B', mean of 2 windows" in out
    assert "median" not in out and "by skill" not in out


@pytest.mark.slow
def test_evaluate_refit_on_tiny_data(tmp_path, trained, backtest_files):
    path = tmp_path / "cv.csv"
    result = invoke(
        "evaluate", trained.data, "--model", trained.model, "--folds", "2", "--refit", "--json",
        "--forecasts", path,
    )  # fmt: skip
    doc = json.loads(result.stdout)
    # the same windows, forecast by the refitted models; the baselines do not change
    cv, plain_cv = pd.read_csv(path), backtest_files.cv
    assert len(cv) == len(plain_cv) == 3 * 2 * 24
    assert (pd.to_datetime(cv["ds"]) == pd.to_datetime(plain_cv["ds"])).all()
    assert (pd.to_datetime(cv["cutoff"]) == pd.to_datetime(plain_cv["cutoff"])).all()
    for name in ("y", "naive", "seasonal_naive", "drift"):
        np.testing.assert_array_equal(cv[name], plain_cv[name])
    assert not np.allclose(cv["yhat"], plain_cv["yhat"])
    assert doc["refit"] is True
    assert doc["overlaps_training"] is False
    assert doc["windows"] == 6
    assert np.isfinite(doc["methods"]["lstm"]["mean"]["mase"])
    # the baselines do not depend on the model: same numbers as without --refit
    plain = json.loads(
        invoke("evaluate", trained.data, "--model", trained.model, "--folds", "2", "--json").stdout
    )
    for method in ("naive", "seasonal_naive", "drift"):
        assert doc["methods"][method] == plain["methods"][method]


def test_evaluate_defaults_to_the_training_file(trained):
    doc = json.loads(invoke("evaluate", "--model", trained.model, "--folds", "1", "--json").stdout)
    assert doc["data"] == str(trained.data.resolve())
    assert doc["windows"] == 3


@pytest.mark.slow
def test_evaluate_folds_that_do_not_fit_are_dropped_per_series(trained):
    doc = json.loads(
        invoke("evaluate", trained.data, "--model", trained.model, "--folds", "10", "--json").stdout
    )
    # origins n - 24 - k * 24 need 25 points of history: A (160) and B (150) fit 5, C (140) 4
    assert [r["folds"] for r in doc["per_series"]] == [5, 5, 4]
    assert doc["windows"] == 14
    assert "3 series scored on fewer than 10 folds (e.g. 'A')" in doc["warnings"]


def test_evaluate_names_a_series_too_short_to_score(tmp_path, trained):
    # A series the backtest cannot score is not dropped without a word.
    data = tmp_path / "with-short.csv"
    short = hourly_frame((("SHORT", "2024-01-05 00:00", 20),), seed=4)
    pd.concat([trained.frame, short], ignore_index=True).to_csv(data, index=False)
    result = invoke("evaluate", data, "--model", trained.model, "--folds", "2", "--json")
    doc = json.loads(result.stdout)
    assert [r["unique_id"] for r in doc["per_series"]] == ["A", "B", "C"]
    warning = "1 series too short to backtest, left out of the scores (e.g. 'SHORT')"
    assert warning in doc["warnings"]
    assert f"warning: {warning}" in result.stderr


def test_evaluate_with_no_fold_that_fits_is_exit_3(trained):
    result = invoke(
        "evaluate", trained.data, "--model", trained.model, "--horizon", "200", ok=False
    )
    assert result.exit_code == 3, result.output
    assert "3 folds of 200 steps" in result.stderr
    assert "--folds" in result.stderr  # the hint


def test_evaluate_overlap_note_with_a_new_late_series(tmp_path, trained):
    # The training series' windows still lie inside the training data; a new series that
    # starts after it must not hide that (the check compared per-series positions, not times).
    data = tmp_path / "more.csv"
    frame = pd.concat(
        [trained.frame, hourly_frame((("NEW", "2024-01-08 00:00", 60),), seed=3)],
        ignore_index=True,
    )
    frame.to_csv(data, index=False)
    doc = json.loads(
        invoke("evaluate", data, "--model", trained.model, "--folds", "2", "--json").stdout
    )
    assert doc["overlaps_training"] is True


def test_evaluate_missing_model_is_exit_4(tmp_path, trained):
    result = invoke("evaluate", trained.data, "--model", tmp_path / "none.lstmcast", ok=False)
    assert result.exit_code == 4


@pytest.mark.slow
def test_evaluate_plot_writes_a_png(tmp_path, trained):
    png = tmp_path / "backtest.png"
    invoke("evaluate", trained.data, "--model", trained.model, "--folds", "2", "--plot", png, "-q")
    assert_png(png)


# --- plot -------------------------------------------------------------------------------


@pytest.mark.slow
def test_plot_writes_a_png(tmp_path, trained):
    png = tmp_path / "x.png"
    result = invoke("plot", trained.data, "--model", trained.model, "--output", png)
    assert_png(png)
    assert f"wrote {png} (3 series: A, B, C)" in result.stderr
    assert "warning" not in result.stderr  # the trained horizon
    assert result.stdout == ""


@pytest.mark.slow
def test_plot_chosen_series_with_holdout(tmp_path, trained):
    png = tmp_path / "x.png"
    result = invoke(
        "plot",
        trained.data,
        "-m",
        trained.model,
        "-o",
        png,
        "-s",
        "C",
        "-s",
        "A",
        "--holdout",
        "24",
    )
    assert_png(png)
    assert "(2 of 3 series: C, A)" in result.stderr


@pytest.mark.slow
def test_plot_quiet(tmp_path, trained):
    png = tmp_path / "x.png"
    result = invoke("plot", "-m", trained.model, "-o", png, "--quiet")
    assert result.stdout == "" and result.stderr == ""
    assert_png(png)


def test_plot_unknown_series_is_exit_3(tmp_path, trained):
    png = tmp_path / "x.png"
    result = invoke("plot", trained.data, "-m", trained.model, "-o", png, "-s", "Z", ok=False)
    assert result.exit_code == 3, result.output
    assert "--series Z" in result.stderr
    assert "A, B, C" in result.stderr  # names the series that exist
    assert not png.exists()


def test_plot_keeps_the_old_png_on_failure(tmp_path, trained):
    png = tmp_path / "x.png"
    png.write_bytes(b"old")
    result = invoke(
        "plot", trained.data, "-m", trained.model, "-o", png, "--holdout", "1000", ok=False
    )
    assert result.exit_code == 3, result.output
    assert "--holdout 1000" in result.stderr
    assert png.read_bytes() == b"old"


# --- evaluate --forecasts -----------------------------------------------------------------


@pytest.fixture(scope="module")
def backtest_files(trained, tmp_path_factory):
    """One evaluate run with --folds 2: the forecasts file and the per-series table."""
    folder = tmp_path_factory.mktemp("backtest")
    forecasts, table = folder / "cv.csv", folder / "metrics.csv"
    invoke(
        "evaluate", trained.data, "--model", trained.model, "--folds", "2",
        "--forecasts", forecasts, "-o", table, "-q",
    )  # fmt: skip
    cv = pd.read_csv(forecasts, parse_dates=["ds", "cutoff"])
    return SimpleNamespace(cv=cv, table=pd.read_csv(table).set_index("unique_id"))


def test_evaluate_forecasts_file_has_every_window(trained, backtest_files):
    cv = backtest_files.cv
    assert list(cv.columns) == [
        "unique_id", "ds", "cutoff", "y", "yhat", "yhat_lower", "yhat_upper", "model",
        "lstm", *registry.local_names(),
    ]  # fmt: skip
    assert len(cv) == 3 * 2 * 24  # series x folds x horizon
    assert (cv["cutoff"] < cv["ds"]).all()
    from lstmcast.api import model_info

    chosen = model_info(trained.model)["methods"]  # the method predict uses per series
    assert (cv["model"] == cv["unique_id"].astype(str).map(chosen)).all()
    windows = cv.groupby(["unique_id", "cutoff"])["ds"]
    assert (windows.size() == 24).all()
    # the window starts one step after the cutoff; the last fold ends at the series' last row
    first = windows.min().reset_index()
    assert (first["ds"] - first["cutoff"] == pd.Timedelta("1h")).all()
    last = trained.frame.groupby("unique_id")["ds"].max()
    assert (cv.groupby("unique_id")["ds"].max() == last).all()
    # y is the data, and naive repeats the value observed at the cutoff
    data = trained.frame.assign(ds=pd.to_datetime(trained.frame["ds"]))
    y = data.set_index(["unique_id", "ds"])["y"].astype(np.float32)
    np.testing.assert_allclose(
        cv["y"], y.loc[list(zip(cv["unique_id"], cv["ds"], strict=True))], rtol=1e-6
    )
    at_cutoff = y.loc[list(zip(cv["unique_id"], cv["cutoff"], strict=True))].to_numpy()
    np.testing.assert_allclose(cv["naive"], at_cutoff, rtol=1e-6)
    day_before = y.loc[list(zip(cv["unique_id"], cv["ds"] - pd.Timedelta("24h"), strict=True))]
    np.testing.assert_allclose(cv["seasonal_naive"], day_before.to_numpy(), rtol=1e-6)


def test_evaluate_forecasts_give_the_per_series_errors(backtest_files):
    # MAE recomputed from the file, per window then averaged over folds, is the table's; yhat
    # and its band are the forecast that ships ("chosen"), by the method `model` names
    cv, table = backtest_files.cv, backtest_files.table
    for column, method in (
        ("yhat", "chosen"), ("lstm", "lstm"), ("naive", "naive"),
        ("seasonal_naive", "seasonal_naive"), ("drift", "drift"),
    ):  # fmt: skip
        err = (cv[column] - cv["y"]).abs().groupby([cv["unique_id"], cv["cutoff"]]).mean()
        mae = err.groupby(level="unique_id").mean()
        np.testing.assert_allclose(
            mae.loc[table.index], table[f"{method}_mae"], rtol=1e-5, err_msg=method
        )
    inside = (cv["y"] >= cv["yhat_lower"]) & (cv["y"] <= cv["yhat_upper"])
    coverage = inside.groupby([cv["unique_id"], cv["cutoff"]]).mean().groupby(level=0).mean()
    np.testing.assert_allclose(coverage.loc[table.index], table["chosen_coverage"])


@pytest.mark.slow
def test_evaluate_forecasts_equal_predict_from_each_cutoff(tmp_path, trained, backtest_files):
    cv = backtest_files.cv
    data = trained.frame.assign(ds=pd.to_datetime(trained.frame["ds"]))
    cutoffs = cv.groupby("unique_id")["cutoff"].unique()
    for fold in range(2):
        cut = {uid: sorted(c)[fold] for uid, c in cutoffs.items()}
        past = data[data["ds"] <= data["unique_id"].map(cut)]
        past.to_csv(tmp_path / "past.csv", index=False)
        out = tmp_path / "fc.csv"
        # yhat is the forecast predict ships: each series by its method, with its band
        invoke("predict", tmp_path / "past.csv", "--model", trained.model, "-o", out, "-q")
        fc = pd.read_csv(out, parse_dates=["ds"]).set_index(["unique_id", "ds"])
        rows = cv[cv["cutoff"] == cv["unique_id"].map(cut)].set_index(["unique_id", "ds"])
        assert len(rows) == 3 * 24
        for col in ("yhat", "yhat_lower", "yhat_upper"):
            np.testing.assert_allclose(rows[col], fc.loc[rows.index, col], rtol=1e-5, err_msg=col)


@pytest.mark.slow
@pytest.mark.parametrize("ext", ["parquet", "json"])
def test_evaluate_forecasts_by_extension(tmp_path, trained, backtest_files, ext):
    path = tmp_path / f"cv.{ext}"
    invoke("evaluate", trained.data, "-m", trained.model, "--folds", "2", "--forecasts", path, "-q")
    if ext == "parquet":
        cv = pd.read_parquet(path)
    else:
        cv = pd.read_json(path, dtype=False)
        cv[["ds", "cutoff"]] = cv[["ds", "cutoff"]].apply(pd.to_datetime)
    assert list(cv.columns) == list(backtest_files.cv.columns)
    assert len(cv) == len(backtest_files.cv)
    assert (cv["cutoff"] < cv["ds"]).all()
    np.testing.assert_allclose(cv["yhat"], backtest_files.cv["yhat"], rtol=1e-6)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left


def test_evaluate_forecasts_unknown_type_fails_before_the_backtest(tmp_path, trained):
    path = tmp_path / "cv.xlsx"
    result = invoke("evaluate", trained.data, "-m", trained.model, "--forecasts", path, ok=False)
    assert result.exit_code == 2, result.output  # an output problem, not bad data
    assert "cv.xlsx" in result.stderr and ".csv" in result.stderr
    assert "Backtest" not in result.stdout
    assert not path.exists()


# --- what the plots say -----------------------------------------------------------------


@pytest.fixture
def drawn(monkeypatch):
    """Record the panels, frequency and title of every figure drawn, then draw it as usual."""
    import lstmcast.plot

    calls, draw = [], lstmcast.plot.plot_series

    def record(plots, path, freq, title=None, **kw):
        calls.append(SimpleNamespace(plots=plots, freq=freq, title=title))
        draw(plots, path, freq, title, **kw)

    monkeypatch.setattr(lstmcast.plot, "plot_series", record)
    return calls


@pytest.mark.slow
def test_plot_names_series_origin_and_target(tmp_path, trained, drawn):
    from lstmcast.plot import build_figure

    invoke("plot", trained.data, "-m", trained.model, "-o", tmp_path / "x.png", "--holdout", "24")
    (call,) = drawn
    assert call.title == "Forecast of y: 24 steps (hourly) against the last 24 values, held out"
    ends = pd.to_datetime(trained.frame.groupby("unique_id")["ds"].max())
    methods = json.loads(invoke("info", trained.model, "--json").stdout)["methods"]
    for p, uid in zip(call.plots, "ABC", strict=True):
        origin = ends[uid] - pd.Timedelta("24h")
        label = registry.label(methods[uid])
        assert p.title == f"{uid} — {label}, forecast origin {origin.isoformat()}"
        assert p.forecasts[0].cutoff == origin == p.hist_ds[-1]
        assert len(p.hist_ds) == 72  # three horizons (two seasons are 48)
        assert p.ylabel == "y"
    fig = build_figure(call.plots, call.freq, call.title)
    fig.canvas.draw()
    ax = fig.axes[0]
    assert ax.get_title(loc="left") == call.plots[0].title
    assert ax.get_ylabel() == "y"
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert "12:00" in labels, labels  # hour ticks; the date is written at midnight
    assert fig.get_suptitle() == call.title


@pytest.mark.slow
def test_plot_beyond_the_trained_horizon_warns_as_predict_does(tmp_path, trained_model, trained):
    """The roll-out warning is about the LSTM's steps: predict gives it where the LSTM
    forecasts, and neither predict nor plot where a per-series method does."""
    weekly = trained_model("weekly-lstm", trending_weekly_frame, WEEKLY_LSTM)
    fc = tmp_path / "fc.csv"
    # ETS wins these series at validation; --fallback none has the LSTM forecast them
    args = ("-m", weekly.model, "--horizon", "30")
    predicted = invoke("predict", weekly.data, *args, "--fallback", "none", "-o", fc)
    assert set(pd.read_csv(fc)["model"]) == {"lstm"}
    assert "horizon 30 is longer than the trained 7" in predicted.stderr
    for data, model, uid in ((weekly.data, weekly.model, "s1"), (trained.data, trained.model, "A")):
        args = ("-m", model, "--horizon", "30")
        predicted = invoke("predict", data, *args, "-o", tmp_path / "fc2.csv")
        used = set(pd.read_csv(tmp_path / "fc2.csv")["model"])
        network = any(registry.uses_lstm(m) for m in used)  # the LSTM, or a mix with it
        result = invoke("plot", data, *args, "-o", tmp_path / "y.png", "-s", uid, "--json")
        plotted = any("longer than the trained" in w for w in json.loads(result.stdout)["warnings"])
        assert ("longer than the trained" in predicted.stderr) == network
        assert plotted == network


@pytest.mark.slow
def test_backtest_plot_draws_every_fold_with_its_figures(tmp_path, trained, drawn, backtest_files):
    invoke(
        "evaluate",
        trained.data,
        "-m",
        trained.model,
        "--folds",
        "2",
        "--plot",
        tmp_path / "b.png",
        "-q",
    )
    (call,) = drawn
    assert call.title == (
        "Backtest of y: 2 folds of 24 steps; worst and best series by skill against the best baseline"
    )
    cv, table = backtest_files.cv, backtest_files.table
    skill = table["skill_vs_best_baseline"]
    assert [p.series for p in call.plots] == list(skill.sort_values().index)  # worst first
    for p in call.plots:
        rows = cv[cv["unique_id"] == p.series]
        cutoffs = sorted(rows["cutoff"].unique())
        assert [pd.Timestamp(f.cutoff) for f in p.forecasts] == cutoffs
        for f, cutoff in zip(p.forecasts, cutoffs, strict=True):
            np.testing.assert_allclose(
                f.yhat, rows.loc[rows["cutoff"] == cutoff, "yhat"], rtol=1e-6
            )
        row = table.loc[p.series]
        best = row["best_baseline"]
        assert f"skill {row['skill_vs_best_baseline']:+.3f} vs {registry.label(best)}" in p.note
        assert f"MASE {row['lstm_mase']:.3f} vs {row[f'{best}_mase']:.3f}" in p.note
        assert p.note.endswith("mean of 2 folds")
        assert p.title.startswith(f"{p.series} — {registry.label(rows['model'].iloc[0])}, ")
        assert p.actual_ds[0] == p.forecasts[0].cutoff and p.actual_ds[-1] == rows["ds"].max()


@pytest.mark.slow
def test_plot_draws_each_series_as_predict_forecasts_it(tmp_path, trained, drawn):
    """By the LSTM or by the baseline the model file chose for it: the same median and band."""
    fc = tmp_path / "fc.csv"
    invoke("predict", trained.data, "-m", trained.model, "-o", fc)
    written = pd.read_csv(fc)
    invoke("plot", trained.data, "-m", trained.model, "-o", tmp_path / "x.png")
    (call,) = drawn
    assert [p.series for p in call.plots] == ["A", "B", "C"]
    for p in call.plots:
        rows, f = written[written["unique_id"] == p.series], p.forecasts[0]
        np.testing.assert_allclose(f.yhat, rows["yhat"], rtol=1e-5)
        np.testing.assert_allclose(f.lower, rows["yhat_lower"], rtol=1e-5)
        np.testing.assert_allclose(f.upper, rows["yhat_upper"], rtol=1e-5)
    assert set(written["model"]) != {"lstm"}  # a baseline forecasts some series here
