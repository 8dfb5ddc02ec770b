"""`load`, the one entry point of data/: each step of the pipeline once, in order, and
the two ways in (by the options, by a trained model's schema)."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

from lstmcast.config import DataSpec
from lstmcast.data.load import ModelSchema, load

PACKAGE = "lstmcast.data."


def entries(run) -> list[tuple[int, str]]:
    """(depth, module) of each call into an lstmcast.data module from another one (or from
    outside, depth 0), consecutive repeats folded: the path a load takes through data/."""
    seen: list[tuple[int, str]] = []

    def module_of(frame) -> str | None:
        name = frame.f_globals.get("__name__", "")
        return name[len(PACKAGE) :] if name.startswith(PACKAGE) else None

    def profile(frame, event, arg):
        module = module_of(frame) if event == "call" else None
        if module is None:
            return
        chain, caller = [], frame.f_back
        while caller is not None:
            above = module_of(caller)
            if above and (not chain or chain[-1] != above):
                chain.append(above)
            caller = caller.f_back
        entry = (len(chain), module)
        if (not chain or chain[0] != module) and (not seen or seen[-1] != entry):
            seen.append(entry)

    sys.setprofile(profile)
    try:
        run()
    finally:
        sys.setprofile(None)
    return seen


def promo_csv(tmp_path) -> str:
    """Two daily series with dates written as text, a gap, and a known future promotion."""
    rows = ["shop,day,sales,promo"]
    for shop in ("a", "b"):
        for d in range(30):
            sales = "" if d >= 28 or (shop == "b" and d == 10) else str(100 + d)
            rows.append(f"{shop},{d + 1:02d}/01/2024,{sales},{d % 2}")
    path = tmp_path / "promo.csv"
    path.write_text("\n".join(rows) + "\n")
    return str(path)


def test_a_load_enters_each_step_once_in_pipeline_order(tmp_path):
    path = promo_csv(tmp_path)
    spec = DataSpec(id_col="shop", covariates=("promo",))
    path_taken = entries(lambda: load(path, spec))
    assert path_taken == [
        (0, "load"),
        (1, "io"),  # read
        (1, "lines"),  # empty rows dropped, rows named by their file line
        (1, "columns"),  # resolve the columns
        (1, "parse"),  # parse times and numbers
        (2, "dates"),  # (dates written as text)
        (1, "grid"),  # one regular grid
        (2, "freq"),  # (its frequency)
        (2, "fills"),  # (the dates it filled)
        (3, "freq"),
        (1, "covariates"),
        (1, "panel"),
    ]


def test_a_table_already_read_takes_the_same_steps(tmp_path):
    path = promo_csv(tmp_path)
    spec = DataSpec(id_col="shop", covariates=("promo",))
    from_file, from_table = load(path, spec), load(pd.read_csv(path, dtype={"shop": str}), spec)
    np.testing.assert_array_equal(from_file.values, from_table.values)
    np.testing.assert_array_equal(from_file.covariates, from_table.covariates)
    assert (
        from_file.warnings
        == from_table.warnings
        == [
            "dropped 1 row with an empty target",
            "filled 1 missing step by linear interpolation: 2024-01-11",
        ]
    )
    assert from_file.future.shape == (2, 2, 1)


def test_by_a_model_schema_series_and_columns_take_the_model_names(tmp_path):
    path = tmp_path / "prices.csv"
    days = pd.date_range("2024-01-01", periods=10, freq="D")
    pd.DataFrame({"When": days, "Price": np.arange(10.0)}).to_csv(path, index=False)
    given = DataSpec(time_col="When", target="Price")
    spec = DataSpec(time_col="When", target="Price", freq="D")
    panel = load(path, ModelSchema(spec, given, time_col="ds", targets=("Close",)))
    assert panel.ids.tolist() == ["Close"] and panel.source_columns == ("ds", "Close")
    assert panel.columns.targets == ("Price",)  # the file's own columns, as read
    assert load(path, spec).ids.tolist() == ["Price"]
