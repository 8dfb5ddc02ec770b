"""lstmcast.cli.documents on small inputs: the keys of the --json documents, in order, and the
one JSON printer."""

import json

import numpy as np

from lstmcast.cli import documents


def test_print_json_writes_null_for_nan_and_plain_numbers_for_numpy(capsys):
    documents.print_json(
        {"a": float("nan"), "b": np.float32(1.5), "c": (1, np.int64(2)), 3: [np.inf]}
    )
    assert json.loads(capsys.readouterr().out) == {"a": None, "b": 1.5, "c": [1, 2], "3": [None]}


def test_train_and_info_documents_rename_the_paths_and_configs():
    doc = documents.train_document(
        {"data_path": "d.csv", "model_path": "m.lstmcast", "model": {"hidden_size": 8}, "steps": 4}
    )
    assert list(doc) == ["command", "schema_version", "data", "model", "steps", "model_config"]
    assert (doc["command"], doc["data"], doc["model"]) == ("train", "d.csv", "m.lstmcast")
    assert doc["model_config"] == {"hidden_size": 8}
    info = documents.info_document(
        {
            "file": {"path": "m.lstmcast", "bytes": 10},
            "data": {"path": "d.csv", "series": 2},
            "model": {"hidden_size": 8},
            "created_at": "now",
        }
    )
    assert info["command"] == "info" and info["model"] == "m.lstmcast" and info["bytes"] == 10
    assert info["data"] == "d.csv" and info["series"] == 2 and info["created_at"] == "now"
    assert info["train_config"] is None and info["model_config"] == {"hidden_size": 8}
    assert info["data_schema"] == {"path": "d.csv", "series": 2}
