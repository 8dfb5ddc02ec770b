"""The per-series choice's margin, set on M4 Hourly's training data alone.

Usage: python benchmarks/choice_margin.py [DATA_DIR] [--cuts 48,96] [--margins 0,0.1,...]
                                          [--test]

For each cut C, the last C hours of every training series are dropped, the 48 hours before
the cut become a pseudo-test, and the rest trains lstmcast with its default settings
(`lstmcast.api.train`, seed 0: about 10 minutes each on 2 cores). On the model's own
validation windows it records each series' mean MAE by method (LSTM, naive, seasonal naive,
drift); then it scores each margin of the choice rule (verdict._choose: the pooled winner,
left only for a method whose error on the series is that much lower) on the pseudo-test with
the M4 definitions. OWA divides by the published Naive2 test figures, so it compares rules
within a column, not periods. With --test it also trains on the whole training set and
scores the rules on the real test, which must not be used to choose.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from m4_hourly import DEFAULT_DIR, HORIZON, SEASON, owa

from lstmcast import api, evaluate, metrics, verdict
from lstmcast.config import ModelConfig, TrainConfig
from lstmcast.forecast import forecast_at
from lstmcast.methods import drift, naive, seasonal_naive
from lstmcast.windows import build_index, default_val_size, verdict_windows

METHODS = ("lstm", "naive", "seasonal_naive", "drift")  # the pool this margin was set on


def period(train: pd.DataFrame, cut: int, tmp: Path) -> tuple[Path, dict[str, np.ndarray]]:
    """Training rows before the last `cut` hours, and the 48 hours that follow them."""
    back = train.groupby("unique_id").cumcount(ascending=False)
    path = tmp / f"train_{cut}.csv"
    train[back >= cut].to_csv(path, index=False)
    test = train[(back < cut) & (back >= cut - HORIZON)]
    return path, {k: g["y"].to_numpy(float) for k, g in test.groupby("unique_id", sort=False)}


def series_errors(model_path: Path, data: Path, test: dict[str, np.ndarray]) -> dict:
    """Per series: validation MAE sums and counts by method (M, S), and test sMAPE and MASE
    of each method's 48-step forecast (M, S)."""
    model, _ = api.load_model(model_path)
    panel = api.load(data)
    cfg = model.cfg
    index = build_index(panel, cfg.lookback, cfg.horizon, default_val_size(panel, cfg.horizon))
    series, origin = verdict_windows(panel, index)
    preds = forecast_at(model, panel, series, origin, cfg.horizon).astype(np.float64)
    actual = evaluate.window_actuals(panel, series, origin, cfg.horizon)
    base = evaluate.local_forecasts(panel, series, origin, cfg.horizon, cfg.season, METHODS[1:])
    scale = evaluate.mase_scales(panel, series, origin, cfg.season)
    point = {"lstm": preds[:, :, cfg.median_index], **base}
    mae = np.stack([metrics.mae(actual, point[m]) for m in METHODS])
    scaled = mae / scale[None, :]
    lstm = api.predict(model_path, data, HORIZON, fallback="none").forecast
    lstm = {k: g["yhat"].to_numpy() for k, g in lstm.groupby("unique_id", sort=False)}
    smape, mase = np.zeros((len(METHODS), panel.n_series)), np.zeros((len(METHODS), panel.n_series))
    for i, uid in enumerate(panel.ids.astype(str)):
        h = panel.series(i).astype(np.float64)
        f = {
            "lstm": lstm[uid],
            "naive": naive.forecast(h, HORIZON),
            "seasonal_naive": seasonal_naive.forecast(h, HORIZON, SEASON),
            "drift": drift.forecast(h, HORIZON),
        }
        scale_i = metrics.mase_scale(h, SEASON)
        for m, name in enumerate(METHODS):
            smape[m, i] = metrics.smape(test[uid], f[name])
            mase[m, i] = metrics.mase(test[uid], f[name], scale_i)
    return {"n": panel.n_series, "series": series, "mae": mae, "scaled": scaled,
            "smape": smape, "mase": mase}  # fmt: skip


def rule_scores(e: dict, margins: list[float]) -> dict[str, float]:
    """OWA on the (pseudo-)test of the LSTM everywhere and of each margin's choice."""
    cols = np.arange(e["n"])

    def score(choice: np.ndarray) -> float:
        return owa(e["smape"][choice, cols].mean(), e["mase"][choice, cols].mean())

    out = {"lstm everywhere": score(np.zeros(e["n"], dtype=int))}
    for margin in margins:
        verdict.SWITCH_MARGIN = margin
        choice = verdict._choose(e["n"], e["series"], e["mae"], e["scaled"])
        out[f"margin {margin:g}"] = score(np.where(choice >= 0, choice, 0))
    out["oracle (lowest test MASE per series)"] = score(np.argmin(e["mase"], axis=0))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", default=str(DEFAULT_DIR))
    parser.add_argument("--cuts", default="48,96", help="hours held out before each pseudo-test")
    parser.add_argument("--margins", default="0,0.1,0.2,0.25,0.3,0.4,0.5,0.6")
    parser.add_argument("--test", action="store_true", help="also score on the real test")
    args = parser.parse_args()
    data = Path(args.data_dir)
    train = pd.read_csv(data / "train.csv")
    margins = [float(m) for m in args.margins.split(",")]
    columns = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        runs = [(f"pseudo-test {c} h before the end", *period(train, c, tmp)) for c in
                map(int, args.cuts.split(","))]  # fmt: skip
        if args.test:
            test = pd.read_csv(data / "test.csv")
            runs.append(("M4 test (not for choosing)", data / "train.csv",
                         {k: g["y"].to_numpy(float) for k, g in test.groupby("unique_id")}))  # fmt: skip
        for name, path, test in runs:
            model_path = tmp / "m.lstmcast"
            api.train(path, model_path, model_cfg=ModelConfig(),
                      train_cfg=TrainConfig(seed=0, device="cpu"))  # fmt: skip
            columns[name] = rule_scores(series_errors(model_path, path, test), margins)
            print(f"{name}: done", file=sys.stderr)
    table = pd.DataFrame(columns)
    print(table.to_string(float_format="{:.4f}".format))
    return 0


if __name__ == "__main__":
    sys.exit(main())
