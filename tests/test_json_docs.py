"""docs/json.md lists the keys of every --json document; the real documents must agree."""

import json
import re
from pathlib import Path

import pytest
from helpers import invoke

# One run of every command, a plot among them, for the documents.
pytestmark = pytest.mark.slow

DOC = Path(__file__).resolve().parent.parent / "docs" / "json.md"


def documented() -> dict[str, list[str]]:
    """Section name (`train`, ..., `Errors`) -> the keys in the first column of its table."""
    sections, current = {}, None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"## (?:`lstmcast (\w+)|(\w+))", line)
        if heading:
            current = heading.group(1) or heading.group(2)
            sections[current] = []
        elif current and (row := re.match(r"\| `(\w+)` \|", line)):
            sections[current].append(row.group(1))
    return sections


@pytest.fixture(scope="module")
def docs(trained, tmp_path_factory) -> dict[str, dict]:
    """The real --json document of every command on tiny data, and of a failure."""
    data, model, folder = trained.data, trained.model, tmp_path_factory.mktemp("json")
    common = ("--model", model, "--no-config")
    argv = {
        "inspect": ("inspect", data),
        "predict": ("predict", data, *common, "--as-of", "2024-01-08"),
        "evaluate": ("evaluate", data, *common, "--folds", "1", "--show", "0"),
        "plot": ("plot", data, "--model", model, "-o", folder / "p.png"),
        "info": ("info", model),
    }
    docs = {name: json.loads(invoke(*args, "--json").stdout) for name, args in argv.items()}
    docs["train"] = trained.summary  # the shared model's own `train --json`
    # a failure is a document too, with the same two leading keys
    missing = invoke("predict", "--model", folder / "nope.lstmcast", "--json", ok=False)
    docs["Errors"] = json.loads(missing.stdout)
    return docs


def test_every_document_has_exactly_the_documented_keys(docs):
    sections = documented()
    assert set(docs) <= set(sections), sorted(set(docs) - set(sections))
    for name, doc in docs.items():
        assert list(doc)[:2] == ["command", "schema_version"], name
        assert doc["schema_version"] == 1
        assert doc["command"] == (name if name != "Errors" else "predict")
        assert set(doc) == set(sections[name]), (
            f"{name}: in the output but not in docs/json.md: {sorted(set(doc) - set(sections[name]))}; "
            f"documented but not in the output: {sorted(set(sections[name]) - set(doc))}"
        )


def test_the_same_thing_has_the_same_key_in_every_command(docs):
    for name in ("train", "predict", "evaluate", "plot", "info"):
        assert Path(docs[name]["model"]).name.endswith(".lstmcast"), name
    for name in ("inspect", "train", "predict", "evaluate", "plot", "info"):
        assert isinstance(docs[name]["series"], int), name  # a count everywhere
        assert Path(docs[name]["data"]).name == "data.csv", name
    assert docs["plot"]["output"].endswith("p.png") and docs["predict"]["output"] is None
    for name in ("inspect", "train", "predict", "evaluate"):
        assert isinstance(docs[name]["warnings"], list), name
    assert docs["train"]["model_config"]["hidden_size"] == 8
    assert docs["info"]["model_config"]["hidden_size"] == 8
