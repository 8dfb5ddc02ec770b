"""M4 Hourly benchmark: lstmcast with its default settings against the published scores.

Usage: python benchmarks/m4_hourly.py [DATA_DIR] [--time-budget S] [--max-steps N] [--seed N]
                                      [--set NAME=VALUE ...] [--json]

Trains through `lstmcast.api.train` (the code path of `lstmcast train`) on train.csv with
the CLI's default horizon (24, rolled out to 48; or --trained-horizon 48, a direct head), forecasts 48
steps with `lstmcast.api.predict` both as `predict` does by default (each series by the
method that won at validation) and with the LSTM alone, and scores against test.csv
with the M4 definitions (sMAPE, MASE with m = 24 and the scale from train, OWA against the
published Naive2 18.383 / 2.395). It also scores seasonal naive and Naive2 itself: they
must reproduce 13.912 / 1.193 and 18.383 / 2.395, a check on the metric code.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from m4_metrics import naive2_forecast

from lstmcast import api, metrics
from lstmcast.config import ModelConfig, TrainConfig
from lstmcast.methods import seasonal_naive

HORIZON, SEASON = 48, 24
NAIVE2 = (18.383, 2.395)  # published M4 Hourly Naive2 sMAPE and MASE
REFERENCE = {"seasonal_naive": (13.912, 1.193), "naive2": NAIVE2}
DEFAULT_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "benchmarks" / "m4_hourly"


def owa(smape: float, mase: float) -> float:
    return (smape / NAIVE2[0] + mase / NAIVE2[1]) / 2


def score(
    train: dict[str, np.ndarray], test: dict[str, np.ndarray], forecasts: dict[str, np.ndarray]
) -> tuple[float, float]:
    """Mean over series of sMAPE and MASE (scale: in-sample seasonal naive MAE, m = 24)."""
    s, m = [], []
    for uid, actual in test.items():
        f = forecasts[uid]
        s.append(metrics.smape(actual, f))
        m.append(metrics.mase(actual, f, metrics.mase_scale(train[uid], SEASON)))
    return float(np.mean(s)), float(np.mean(m))


def overrides(
    model_cfg: ModelConfig, train_cfg: TrainConfig, pairs: list[str]
) -> tuple[ModelConfig, TrainConfig]:
    """Apply NAME=VALUE pairs to whichever config has the field, typed like its default."""
    for pair in pairs:
        name, _, text = pair.partition("=")
        for which, cfg in (("model", model_cfg), ("train", train_cfg)):
            if name in {f.name for f in dataclasses.fields(cfg)}:
                current = getattr(cfg, name)
                if isinstance(current, bool):
                    value = text.lower() in ("1", "true", "yes", "on")
                elif isinstance(current, tuple) or name == "quantiles":
                    value = tuple(float(v) for v in text.split(","))
                elif isinstance(current, int) or name in ("lookback", "patch", "season"):
                    value = int(text)
                elif isinstance(current, float):
                    value = float(text)
                else:
                    value = text
                cfg = dataclasses.replace(cfg, **{name: value})
                if which == "model":
                    model_cfg = cfg
                else:
                    train_cfg = cfg
                break
        else:
            raise SystemExit(f"--set {pair}: no ModelConfig or TrainConfig field '{name}'")
    return model_cfg, train_cfg


def uncalibrated_band(model_path: Path, data: Path) -> tuple[dict, dict]:
    """The 80 % band as the network emits it, before conformal calibration."""
    from lstmcast.forecast import forecast_panel

    model, _ = api.load_model(model_path)
    model.calibration.zero_()
    panel = api.load(data)
    preds = forecast_panel(model, panel, HORIZON)
    ids = [str(i) for i in panel.ids]
    return dict(zip(ids, preds[:, :, 0], strict=True)), dict(zip(ids, preds[:, :, -1], strict=True))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", default=str(DEFAULT_DIR))
    parser.add_argument(
        "--time-budget", type=float, default=None, help="seconds of training (default: none)"
    )
    parser.add_argument("--max-steps", type=int, default=None, help="cap on optimiser steps")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--trained-horizon",
        type=int,
        default=None,
        help="horizon the model is trained for; below 48 the rest is rolled out "
        "(default: the CLI's, one seasonal cycle: 24)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a ModelConfig or TrainConfig field, e.g. --set calendar=false --set lr=1e-3",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    data = Path(args.data_dir)

    train_df = pd.read_csv(data / "train.csv")
    test_df = pd.read_csv(data / "test.csv")
    train = {k: g["y"].to_numpy(float) for k, g in train_df.groupby("unique_id", sort=False)}
    test = {k: g["y"].to_numpy(float) for k, g in test_df.groupby("unique_id", sort=False)}

    baselines = {}
    for name, fn in (
        ("seasonal_naive", lambda x: seasonal_naive.forecast(x, HORIZON, SEASON)),
        ("naive2", lambda x: naive2_forecast(x, HORIZON, SEASON)),
    ):
        s, m = score(train, test, {k: fn(v) for k, v in train.items()})
        baselines[name] = {"smape": s, "mase": m, "owa": owa(s, m)}
    checks_ok = all(
        round(baselines[k]["smape"], 3) == ref[0] and round(baselines[k]["mase"], 3) == ref[1]
        for k, ref in REFERENCE.items()
    )

    model_cfg, train_cfg = overrides(
        ModelConfig(horizon=args.trained_horizon),
        TrainConfig(
            seed=args.seed, time_budget=args.time_budget, max_steps=args.max_steps, device="cpu"
        ),
        args.set,
    )
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        model_path = Path(tmp) / "m4.lstmcast"
        summary = api.train(
            data / "train.csv",
            model_path,
            model_cfg=model_cfg,
            train_cfg=train_cfg,
        )
        result = api.predict(model_path, data / "train.csv", HORIZON)
        wall = time.perf_counter() - started
        alone = api.predict(model_path, data / "train.csv", HORIZON, fallback="none").forecast
        raw_lower, raw_upper = uncalibrated_band(model_path, data / "train.csv")
    fc = result.forecast
    point = {k: g["yhat"].to_numpy() for k, g in fc.groupby("unique_id", sort=False)}
    lower = {k: g["yhat_lower"].to_numpy() for k, g in fc.groupby("unique_id", sort=False)}
    upper = {k: g["yhat_upper"].to_numpy() for k, g in fc.groupby("unique_id", sort=False)}
    s, m = score(train, test, point)
    cover = float(np.mean([metrics.coverage(test[k], lower[k], upper[k]) for k in test]))
    lstm_point = {k: g["yhat"].to_numpy() for k, g in alone.groupby("unique_id", sort=False)}
    lstm_lo = {k: g["yhat_lower"].to_numpy() for k, g in alone.groupby("unique_id", sort=False)}
    lstm_hi = {k: g["yhat_upper"].to_numpy() for k, g in alone.groupby("unique_id", sort=False)}
    ls, lm = score(train, test, lstm_point)
    lstm_cover = float(np.mean([metrics.coverage(test[k], lstm_lo[k], lstm_hi[k]) for k in test]))
    forecast_by = fc.groupby("unique_id", sort=False)["model"].first().value_counts().to_dict()
    raw_cover = float(
        np.mean([metrics.coverage(test[k], raw_lower[k], raw_upper[k]) for k in test])
    )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    try:
        commit = (
            subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
            ).stdout.strip()
            or "?"
        )
    except OSError:  # no git where the tree was copied to
        commit = "?"
    doc = {
        "lstmcast": {
            "smape": s,
            "mase": m,
            "owa": owa(s, m),
            "coverage_80": cover,
            "coverage_80_uncalibrated": raw_cover,
            "forecast_by": forecast_by,
        },
        "lstm_alone": {"smape": ls, "mase": lm, "owa": owa(ls, lm), "coverage_80": lstm_cover},
        "trained_horizon": summary.model["horizon"],
        "verdict": {
            k: summary.validation.get(k)
            for k in ("windows", "best_baseline", "skill_vs_best_baseline", "beats_best_baseline")
        },
        "baselines": baselines,
        "baseline_checks_passed": checks_ok,
        "wall_seconds": wall,
        "train_seconds": summary.seconds,
        "epochs": summary.epochs,
        "steps": summary.steps,
        "stop_reason": summary.stop_reason,
        "peak_rss_mb": peak_mb,
        "cores": os.cpu_count(),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "commit": commit,
        "seed": args.seed,
        "device": summary.device,
        "time_budget": args.time_budget,
        "max_steps": args.max_steps,
        "overrides": args.set,
    }
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        print(
            f"M4 Hourly (414 series, h={HORIZON}, trained horizon {summary.model['horizon']}), "
            f"lstmcast default settings, commit {commit}, {os.cpu_count()} cores"
        )
        print(f"  {'method':<16}{'sMAPE':>8}{'MASE':>8}{'OWA':>8}")
        print(
            f"  {'lstmcast':<16}{s:8.3f}{m:8.3f}{owa(s, m):8.3f}   80% interval coverage {cover:.3f}"
            f" ({raw_cover:.3f} before calibration); forecast by {forecast_by}"
        )
        print(
            f"  {'LSTM alone':<16}{ls:8.3f}{lm:8.3f}{owa(ls, lm):8.3f}   80% interval coverage {lstm_cover:.3f}"
        )
        for name, b in baselines.items():
            print(f"  {name:<16}{b['smape']:8.3f}{b['mase']:8.3f}{b['owa']:8.3f}")
        print(
            f"  baseline check against the published figures: {'passed' if checks_ok else 'FAILED'}"
        )
        print(f"  wall {wall:.1f} s (training {summary.seconds:.1f} s, {summary.epochs} epochs, {summary.steps} steps, "
              f"stopped by {summary.stop_reason}); peak RSS {peak_mb:.0f} MB")  # fmt: skip
    return 0 if checks_ok else 1


if __name__ == "__main__":
    sys.exit(main())
