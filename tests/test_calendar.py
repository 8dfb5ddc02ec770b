"""Calendar features: the cycles of each frequency, the positions of real dates in them,
and a model that can only learn a weekly effect through them."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

from lstmcast.config import ModelConfig, TrainConfig
from lstmcast.data.freq import YEAR_DAYS, calendar_periods
from lstmcast.data.load import load
from lstmcast.train import fit, resolve_model_config


def panel_of(frame: pd.DataFrame, freq: str | None = None):
    from lstmcast.config import DataSpec

    return load(frame, DataSpec(freq=freq))


def long_frame(starts: dict[str, str], n: int, freq: str) -> pd.DataFrame:
    parts = [
        pd.DataFrame(
            {"unique_id": uid, "ds": pd.date_range(s, periods=n, freq=freq), "y": np.arange(n)}
        )
        for uid, s in starts.items()
    ]
    return pd.concat(parts, ignore_index=True)


@pytest.mark.parametrize(
    ("freq", "expected"),
    [
        ("h", (("time of day", 24), ("day of week", 168))),
        ("30min", (("time of day", 48), ("day of week", 336))),
        ("15min", (("time of day", 96), ("day of week", 672))),
        ("D", (("day of week", 7), ("day of year", YEAR_DAYS))),
        ("B", (("day of week", 5), ("day of year", YEAR_DAYS * 5 / 7))),
        ("W-SUN", (("week of year", YEAR_DAYS / 7),)),
        ("MS", (("month of year", 12),)),
        ("ME", (("month of year", 12),)),
        ("QS-JAN", (("quarter of year", 4),)),
        ("YS-JAN", ()),
    ],
)
def test_calendar_periods_of_each_frequency(freq, expected):
    got = calendar_periods(freq)
    assert [name for name, _ in got] == [name for name, _ in expected]
    assert np.allclose([p for _, p in got], [p for _, p in expected])


@pytest.mark.parametrize(
    ("freq", "a", "b", "shift"),
    [
        # b starts k steps after a on the grid: its position in every cycle is k further on
        ("h", "2024-01-01 00:00", "2024-01-01 05:00", 5),
        ("D", "2024-01-01", "2024-01-04", 3),  # Monday -> Thursday
        ("B", "2024-01-01", "2024-01-04", 3),
        ("W-SUN", "2024-01-07", "2024-01-21", 2),
        ("MS", "2024-01-01", "2024-04-01", 3),
        ("QS-JAN", "2024-01-01", "2024-07-01", 2),
    ],
)
def test_phases_follow_the_calendar(freq, a, b, shift):
    panel = panel_of(long_frame({"a": a, "b": b}, 30, freq), freq)
    periods = tuple(p for _, p in calendar_periods(freq))
    ph = panel.phases(periods)
    assert ph.shape == (2, len(periods))
    assert np.allclose(np.mod(ph[1] - ph[0], periods), np.mod(shift, periods))
    # The same date a whole cycle later has the same position in that cycle.
    if periods[0] != int(periods[0]):
        return  # a year of weeks is 52.18 weeks: no whole number of steps
    later = str(pd.Timestamp(a) + pd.tseries.frequencies.to_offset(freq) * int(periods[0]))
    again = panel_of(long_frame({"a": a, "c": later}, 30, freq), freq).phases(periods[:1])
    assert np.allclose(again[0], again[1])


def test_hour_of_day_and_weekday_positions_are_the_real_ones():
    # 2024-01-01 was a Monday; hourly grid ordinals count from 1970-01-01 00:00, a Thursday.
    panel = panel_of(long_frame({"a": "2024-01-01 05:00"}, 30, "h"), "h")
    hour, week_hour = panel.phases((24.0, 168.0))[0]
    assert hour == 5
    assert week_hour == 4 * 24 + 5  # Thursday 00:00 -> Monday 05:00


def test_resolved_config_carries_season_then_calendar_cycles():
    panel = panel_of(long_frame({"a": "2024-01-01"}, 400, "h"), "h")
    assert resolve_model_config(ModelConfig(), panel).periods == (24.0, 168.0)
    assert resolve_model_config(ModelConfig(calendar=False), panel).periods == (24.0,)
    daily = panel_of(long_frame({"a": "2024-01-01"}, 400, "D"), "D")
    assert resolve_model_config(ModelConfig(), daily).periods == (7.0, YEAR_DAYS)


def test_old_model_files_without_periods_see_only_the_season():
    cfg = ModelConfig(lookback=8, horizon=4, season=4, patch=2)
    d = {k: v for k, v in dataclasses.asdict(cfg).items() if k not in ("periods", "calendar")}
    old = ModelConfig.from_dict(d)
    assert old.periods == (4.0,)
    assert old.calendar is False


def weekday_effect_frame(n_series=4, days=70) -> pd.DataFrame:
    """Hourly series whose level is higher on weekends, plus a daily cycle and noise.

    With a one-day lookback and horizon the weekend jump cannot be seen coming from the
    values alone; the day-of-week feature tells the model when it is due.
    """
    rng = np.random.default_rng(0)
    parts = []
    for k in range(n_series):
        ds = pd.date_range("2024-01-01", periods=24 * days, freq="h")
        weekend = (ds.day_of_week >= 5).astype(float)
        y = 10 + 8 * weekend + np.sin(2 * np.pi * ds.hour / 24) + rng.normal(0, 0.2, len(ds))
        parts.append(pd.DataFrame({"unique_id": f"s{k}", "ds": ds, "y": y}))
    return pd.concat(parts, ignore_index=True)


@pytest.mark.slow
def test_day_of_week_feature_lets_the_model_learn_a_weekend_effect():
    torch.set_num_threads(1)
    panel = panel_of(weekday_effect_frame(), "h")
    tcfg = TrainConfig(
        epochs=8, windows_per_epoch=2048, batch_size=64, lr=5e-3, device="cpu", val_size=24 * 14
    )
    losses = {}
    for calendar in (True, False):
        base = ModelConfig(
            lookback=24,
            horizon=24,
            patch=1,
            hidden_size=16,
            layers=1,
            dropout=0.0,
            calendar=calendar,
        )
        cfg = resolve_model_config(base, panel, tcfg.val_size)
        losses[calendar] = fit(panel, cfg, tcfg).best_val_loss
    # Without the weekday the weekend jumps are surprises: clearly worse validation loss.
    assert losses[True] < 0.7 * losses[False], losses
