"""`lstmcast evaluate` and `lstmcast plot` end to end on a tiny hourly panel."""

import json

import numpy as np
import pandas as pd
import pytest
from helpers import hourly_frame, invoke, train_tiny

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
METHODS = ("lstm", "naive", "seasonal_naive", "drift")
METRICS = ("mae", "rmse", "smape", "mape", "mase")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return train_tiny(tmp_path_factory.mktemp("evaluate"), "--quiet")


def assert_png(path):
    import matplotlib.image

    assert path.read_bytes()[:8] == PNG_SIGNATURE
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    assert image.std() > 0  # not a blank canvas
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []  # no temp


# --- evaluate ---------------------------------------------------------------------------


def test_evaluate_json_schema(trained):
    result = invoke("evaluate", trained.data, "--model", trained.model, "--folds", "2", "--json")
    doc = json.loads(result.stdout)
    # "combined": each series by the method the model file chose for it
    assert set(doc["methods"]) == {*METHODS, "combined"}
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
    assert doc["folds"] == 2
    assert doc["horizon"] == 24 and doc["step"] == 24 and doc["season"] == 24
    assert doc["series"] == 3
    assert doc["windows"] == 6
    assert doc["refit"] is False
    assert doc["overlaps_training"] is True  # the training file itself
    assert doc["data"] == str(trained.data)
    assert [r["unique_id"] for r in doc["per_series"]] == ["A", "B", "C"]
    assert all(r["folds"] == 2 for r in doc["per_series"])


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
        table["skill"], 1 - table["lstm_mase"] / table["seasonal_naive_mase"]
    )
    # the overlap with the training data is pointed out on stderr
    assert "optimistic" in result.stderr


def test_evaluate_refit_on_tiny_data(tmp_path, trained):
    result = invoke(
        "evaluate", trained.data, "--model", trained.model, "--folds", "2", "--refit", "--json"
    )
    doc = json.loads(result.stdout)
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


def test_evaluate_folds_that_do_not_fit_are_dropped_per_series(trained):
    doc = json.loads(
        invoke("evaluate", trained.data, "--model", trained.model, "--folds", "10", "--json").stdout
    )
    # origins n - 24 - k * 24 need 25 points of history: A (160) and B (150) fit 5, C (140) 4
    assert [r["folds"] for r in doc["per_series"]] == [5, 5, 4]
    assert doc["windows"] == 14


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


def test_evaluate_plot_writes_a_png(tmp_path, trained):
    png = tmp_path / "backtest.png"
    invoke("evaluate", trained.data, "--model", trained.model, "--folds", "2", "--plot", png, "-q")
    assert_png(png)


# --- plot -------------------------------------------------------------------------------


def test_plot_writes_a_png(tmp_path, trained):
    png = tmp_path / "x.png"
    result = invoke("plot", trained.data, "--model", trained.model, "--output", png)
    assert_png(png)
    assert f"wrote {png} (3 series: A, B, C)" in result.stderr
    assert result.stdout == ""


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
    assert "(2 series: C, A)" in result.stderr


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
