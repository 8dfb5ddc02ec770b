"""The methods registry, discovered from lstmcast.methods' modules, and the fitted methods
(ETS, Theta and their combination) on tiny seeded series."""

import importlib
import pkgutil

import numpy as np
import pytest

from lstmcast import methods, metrics
from lstmcast.methods import naive

FITTED = [m for m in methods.local_names() if methods.get(m).fitted]


def test_every_method_has_a_unique_name_label_and_order():
    found = list(methods.registry().values())
    assert len({m.name for m in found}) == len(found)
    assert len({m.label for m in found}) == len(found)
    assert len({m.order for m in found}) == len(found)
    assert list(methods.registry()) == [m.name for m in sorted(found, key=lambda m: m.order)]
    assert all(methods.registry()[m.name] is m for m in found)


def test_names_start_with_the_lstm_and_local_names_are_the_rest():
    names = methods.names()
    assert names[0] == "lstm" and methods.get("lstm") is methods.LSTM
    local = methods.local_names()
    assert names[1 : 1 + len(local)] == local
    # then the LSTM's half-and-half mix with each of them, named and labelled after it
    assert names[1 + len(local) :] == tuple(methods.mix(m) for m in local)
    assert all(methods.partner(methods.mix(m)) == m for m in local)
    assert methods.label(methods.mix("theta")) == "LSTM + Theta"
    assert all(methods.uses_lstm(m) for m in ("lstm", methods.mix("naive")))
    assert not any(methods.uses_lstm(m) for m in local)
    assert methods.LSTM.forecast is None
    assert all(callable(methods.get(m).forecast) for m in methods.local_names())
    assert {"naive", "seasonal_naive", "drift", "ets", "theta"} <= set(names)


def test_without_a_season_no_seasonal_method_is_a_candidate():
    assert "seasonal_naive" in methods.candidates(24)
    assert not any(methods.get(m).seasonal for m in methods.candidates(1))
    assert set(methods.candidates(1)) == {m for m in methods.local_names() if m != "seasonal_naive"}
    assert set(methods.candidates(7)) == set(methods.local_names())
    assert "lstm" not in methods.candidates(7)


def test_the_registry_is_every_module_of_the_package_that_defines_method():
    package = importlib.import_module("lstmcast.methods")
    defined = {}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"lstmcast.methods.{info.name}")
        if hasattr(module, "METHOD"):
            defined[module.METHOD.name] = module.METHOD
    assert defined  # naive, seasonal naive, drift, ...
    assert set(methods.local_names()) == set(defined)
    assert all(methods.get(name) is m for name, m in defined.items())


def test_an_unknown_method_is_refused_with_the_known_ones_named():
    with pytest.raises(ValueError, match="unknown method 'mean'.*naive"):
        methods.get("mean")


def test_labels_come_from_the_registry():
    assert methods.label("lstm") == "LSTM"
    assert methods.label("seasonal_naive") == methods.get("seasonal_naive").label
    assert methods.label("chosen") == "chosen per series"
    assert methods.label("elsewhere") == "elsewhere"  # a name from an older file: as is


# --- ETS and Theta --------------------------------------------------------------------------


def monthly(n: int = 96, seed: int = 0) -> np.ndarray:
    """A yearly cycle of amplitude 10 around 50 with a little noise: seasonal, positive."""
    rng = np.random.default_rng(seed)
    return 50 + 10 * np.sin(2 * np.pi * np.arange(n) / 12) + rng.normal(0, 1, n)


@pytest.mark.slow
@pytest.mark.parametrize("name", FITTED)
def test_a_fitted_method_forecasts_a_seasonal_series_better_than_naive(name):
    x = monthly()
    history, actual = x[:-12], x[-12:]
    fc = methods.get(name).forecast(history, 12, 12)
    assert fc.shape == (12,) and np.isfinite(fc).all()
    scale = metrics.mase_scale(history, 12)
    fitted = metrics.mase(actual, fc, scale)
    plain = metrics.mase(actual, naive.forecast(history, 12), scale)
    assert fitted < 0.5 * plain, (fitted, plain)


@pytest.mark.slow
@pytest.mark.parametrize("name", FITTED)
def test_a_fitted_method_is_deterministic(name):
    history = monthly()[:-12]
    forecast = methods.get(name).forecast
    np.testing.assert_array_equal(forecast(history, 12, 12), forecast(history.copy(), 12, 12))


@pytest.mark.parametrize("name", FITTED)
@pytest.mark.parametrize(
    "history",
    [np.array([7.0]), np.array([3.0, 5.0]), np.array([1.0, 2.0, 4.0]), np.full(40, 7.0)],
    ids=["one", "two", "three", "constant"],
)
def test_a_fitted_method_on_too_little_or_flat_data_is_naive(name, history):
    fc = methods.get(name).forecast(history, 5, 12)
    np.testing.assert_array_equal(fc, naive.forecast(history, 5))


def test_stop_workers_ends_fits_running_in_another_thread():
    """What train does when training fails beside the fits: the waiting thread gets an error
    at once, not the forecasts of every window after them."""
    import threading
    import time

    rng = np.random.default_rng(0)
    histories = [100 + np.cumsum(rng.normal(size=400)) for _ in range(400)]
    outcome = []

    def fit_all():
        try:
            outcome.append(methods.forecast_many("ets", histories, 7, 7, workers=1))
        except Exception as exc:  # the pool was killed under it
            outcome.append(exc)

    thread = threading.Thread(target=fit_all, daemon=True)
    thread.start()
    while not methods._pool:  # the pool is up and has the fits
        time.sleep(0.05)
    started = time.perf_counter()
    methods.stop_workers()
    thread.join(30)
    assert not thread.is_alive() and time.perf_counter() - started < 10
    assert len(outcome) == 1 and isinstance(outcome[0], Exception)
