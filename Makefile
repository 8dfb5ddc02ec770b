# Two commands set everything up: `make demo` and `make test`.
PYTHON ?= python3
TORCH  ?= torch==2.13.0
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint format bench clean

# The venv is rebuilt only when pyproject.toml changes, so repeat runs are quick.
# torch is installed first and pinned, so pip never resolves a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/lstmcast inspect sample_data/prices.csv
	$(BIN)/lstmcast inspect sample_data/stores.csv

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check lstmcast tests benchmarks
	$(BIN)/ruff format --check lstmcast tests benchmarks

format: $(STAMP)
	$(BIN)/ruff check --fix lstmcast tests benchmarks
	$(BIN)/ruff format lstmcast tests benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
