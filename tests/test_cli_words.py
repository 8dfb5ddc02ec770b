"""What plots, `evaluate` and every command say: panels that agree with their titles and draw
what `predict` ships, "6 of 50" with the option that picks others, a "wrote FILE" line per
file, one name ("chosen") in tables and files, help texts true for each command, `info
--quiet`, truncated tables that say how to see every row, and a progress bar whose ETA keeps
to --time-budget within 80 columns. Everything runs the real CLI on files in tmp_path."""

import io
import json
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from helpers import TINY, invoke, seasonal_frame

N_SERIES = 8
HORIZON = 7


def daily_frame() -> pd.DataFrame:
    """Eight daily series with a weekly profile over a new year (they end 2025-01-10)."""
    frame = seasonal_frame(n_series=N_SERIES, n=120)
    frame["ds"] += pd.Timestamp("2025-01-10") - frame["ds"].max()
    return frame


@pytest.fixture(scope="module")
def daily(trained_model):
    return trained_model("words-daily", daily_frame, ("--horizon", str(HORIZON)))


def png_text(path) -> dict[str, str]:
    """The PNG's text chunks: the figure's title and one line per panel."""
    from PIL import Image

    with Image.open(path) as image:
        return dict(image.text)


# --- 9. plots --------------------------------------------------------------------------


@pytest.mark.slow
def test_plot_of_some_series_says_how_many_of_how_many(tmp_path, daily):
    png = tmp_path / "p.png"
    result = invoke("plot", daily.data, "-m", daily.model, "-o", png)
    assert (
        f"wrote {png} (6 of {N_SERIES} series: s0, s1, s2, s3, s4, s5; --series picks others)"
        in (result.stderr)
    )
    assert png_text(png)["Title"].endswith(f"; 6 of {N_SERIES} series")
    doc = json.loads(invoke("plot", "-m", daily.model, "-o", png, "--json").stdout)
    assert doc["data"] == str(daily.data.resolve())  # the model's training file, not null
    assert (doc["series"], doc["series_in_data"]) == (6, N_SERIES)


@pytest.mark.slow
def test_backtest_plot_draws_what_predict_ships_and_agrees_on_folds(tmp_path, daily):
    """One series too short for three folds: the title says so, its panel says '1 of 3
    folds', the others '3 folds'; each panel names the method the forecasts file's `model`
    column gives, and the forecasts file's yhat is that method's forecast."""
    frame = daily.frame
    short = frame[(frame.unique_id != "s3") | (frame.ds > frame.ds.max() - pd.Timedelta(days=20))]
    data = tmp_path / "short.csv"
    short.to_csv(data, index=False)
    png, fc = tmp_path / "bt.png", tmp_path / "bt.csv"
    args = ("evaluate", data, "-m", daily.model, "--plot", png, "--forecasts", fc)
    invoke(*args, "--show", "4", "-q")
    text = png_text(png)
    assert text["Title"].startswith(
        f"Backtest of y: 3 folds of {HORIZON} steps (1 for the shortest"
    )
    windows = pd.read_csv(fc)
    panels = text["Description"].splitlines()
    assert len(panels) == N_SERIES
    for line in panels:
        uid = line.split(" — ")[0]
        rows = windows[windows.unique_id == uid]
        method = rows["model"].iloc[0]
        from lstmcast import methods

        assert line.startswith(f"{uid} — {methods.label(method)}, "), line
        folds = rows["cutoff"].nunique()
        assert line.endswith("mean of 1 of 3 folds" if uid == "s3" else "mean of 3 folds"), line
        assert folds == (1 if uid == "s3" else 3)
        if "+" not in method:  # a mix is the mean of two columns
            assert np.allclose(rows["yhat"], rows[method], atol=1e-4), uid


# --- 10. evaluate ----------------------------------------------------------------------


@pytest.mark.slow
def test_evaluate_shows_the_chosen_band_writes_lines_and_one_name(tmp_path, daily):
    out, fc, png = tmp_path / "ps.csv", tmp_path / "fc.parquet", tmp_path / "bt.png"
    args = ("evaluate", daily.data, "-m", daily.model, "--show", "1")
    result = invoke(*args, "-o", out, "--forecasts", fc, "--plot", png)
    chosen = next(line for line in result.stdout.splitlines() if "chosen per series" in line)
    cells = [c.strip() for c in chosen.split("│") if c.strip()]
    coverage, width = float(cells[-2]), float(cells[-1])  # the band that ships, scored
    assert 0 <= coverage <= 1 and width > 0, chosen
    assert f"wrote {out} (per-series table, {N_SERIES} series)" in result.stderr
    windows = N_SERIES * 3
    assert f"wrote {fc} ({windows * HORIZON} rows: {windows} windows of {HORIZON} steps)" in (
        result.stderr
    )
    # --show 1: the one worst and the one best series, in the tables and in the plot
    assert f"wrote {png} (2 of {N_SERIES} series: " in result.stderr
    assert "--show N draws N worst and N best" in result.stderr
    assert len(png_text(png)["Description"].splitlines()) == 2
    assert f"{N_SERIES - 2} series in between: --show {N_SERIES} lists every one" in result.stdout
    table = pd.read_csv(out)
    assert {"chosen_mase", "chosen_coverage", "chosen_width"} <= set(table.columns)
    assert not [c for c in table.columns if c.startswith("combined")]
    doc = json.loads(invoke(*args, "--json").stdout)
    assert doc["methods"]["chosen"]["mean"]["coverage"] == pytest.approx(coverage, abs=1e-3)


@pytest.mark.slow
def test_show_zero_leaves_nothing_to_plot(tmp_path, daily):
    png = tmp_path / "bt.png"
    result = invoke(
        "evaluate", daily.data, "-m", daily.model, "--show", "0", "--plot", png, ok=False
    )
    assert result.exit_code == 2, result.output
    assert "error: --show 0 leaves no series for --plot to draw" in result.stderr
    assert not png.exists()


# --- 11. words -------------------------------------------------------------------------


def test_help_texts_are_true_for_each_command():
    for command in ("train", "inspect"):
        text = invoke(command, "--help").stdout
        assert "the model's" not in text, command  # no model exists yet
        assert "--time-col" in text and "ds, date" in text
    for command in ("predict", "evaluate", "plot"):
        text = invoke(command, "--help").stdout
        assert re.search(r"--time-col TEXT\s+Time column \(default: the model's\)", text), command
    text = invoke("evaluate", "--help").stdout
    assert "MASE(best other" in text and "MASE(seasonal naive)" not in text
    assert "beats it when" in text
    assert "naive and drift on the same" not in invoke("train", "--help").stdout


@pytest.mark.slow
def test_info_quiet_prints_nothing_and_keeps_the_exit_code(tmp_path, daily):
    result = invoke("info", daily.model, "--quiet")
    assert result.stdout == "" and result.stderr == ""
    broken = tmp_path / "broken.lstmcast"
    broken.write_bytes(daily.model.read_bytes()[:100])
    result = invoke("info", broken, "-q", ok=False)
    assert result.exit_code == 4 and result.stdout == ""
    assert result.stderr.startswith("error: ")


@pytest.mark.slow
def test_truncated_forecast_table_says_how_to_see_every_row(daily):
    result = invoke("predict", daily.data, "-m", daily.model)
    rows = N_SERIES * HORIZON
    assert f"Forecast ({rows} rows), first 40" in result.stdout
    assert "every row: -o FILE or --format csv" in result.stdout


@pytest.mark.slow
def test_progress_bar_keeps_to_the_budget_and_80_columns(tmp_path, monkeypatch):
    """`train` on a terminal of 80 columns with --time-budget 2: every line of the bar fits,
    and no ETA is beyond the 2 seconds the budget allows."""
    from rich.console import Console

    from lstmcast.cli import progress

    screen = io.StringIO()
    console = Console(file=screen, width=80, force_terminal=True, color_system=None)
    monkeypatch.setattr(progress, "err", SimpleNamespace(get=lambda: console))
    monkeypatch.setattr(
        progress, "sys", SimpleNamespace(stderr=SimpleNamespace(isatty=lambda: True))
    )
    monkeypatch.delenv("NO_COLOR")
    data = tmp_path / "d.csv"
    daily_frame().to_csv(data, index=False)
    many = ("--epochs", "500", "--windows-per-epoch", "2048", "--time-budget", "2")
    invoke("train", data, "-m", tmp_path / "m.lstmcast", *TINY, *many, "--no-config")
    lines = [
        re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", line)
        for line in re.split(r"[\r\n]", screen.getvalue())
    ]
    bars = [line for line in lines if line.startswith("training")]
    assert bars, screen.getvalue()
    assert max(len(line.rstrip()) for line in bars) <= 80
    etas = [re.search(r"eta (\d+):(\d\d):(\d\d)", line) for line in bars]
    seconds = [int(h) * 3600 + int(m) * 60 + int(s) for h, m, s in (e.groups() for e in etas if e)]
    assert seconds and max(seconds) <= 2, bars


def test_inspect_of_many_columns_says_how_to_list_them(write_csv):
    wide = daily_frame().pivot(index="ds", columns="unique_id", values="y").reset_index()
    result = invoke("inspect", write_csv(wide))
    assert f"{N_SERIES} columns (--json lists every one)" in result.stdout
