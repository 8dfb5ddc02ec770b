# Two commands set everything up: `make demo` and `make test`.
PYTHON ?= python3
# Which torch: the pinned version from pip's default index, unless TORCH_INDEX names another
# (https://download.pytorch.org/whl/cpu for a CPU-only build, .../whl/cu126 for CUDA 12.6).
TORCH       ?= torch==2.13.0
TORCH_INDEX ?=
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
M4_DIR ?= ../shared/benchmarks/m4_hourly

.PHONY: demo test lint format bench bench-speed bench-scale clean

# The venv is rebuilt only when pyproject.toml changes, so repeat runs are quick (after
# changing TORCH or TORCH_INDEX, `make clean` first). torch is installed first, so the
# project's own install keeps it. TORCH is left unquoted so that it may carry pip options
# too: TORCH="torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu".
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH) $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Train on the multi-series sample, then forecast the next 24 hours of every store. The
# sample ends 2024-05-07 19:00: --as-of forecasts as on the night after, so predict does not
# warn that the data is stale (it is, by today's clock).
DEMO_AS_OF := 2024-05-08T02:00
demo: $(STAMP)
	$(BIN)/lstmcast inspect sample_data/stores.csv
	$(BIN)/lstmcast train sample_data/stores.csv --model demo.lstmcast --time-budget 30
	$(BIN)/lstmcast predict --model demo.lstmcast --output demo_forecast.csv --as-of $(DEMO_AS_OF)
	$(BIN)/lstmcast predict --model demo.lstmcast --format table --as-of $(DEMO_AS_OF)

# The suite in TEST_WORKERS processes (pytest-xdist): two take it from about 6 minutes to 4
# on 2 cores; 0 runs it in one process.
TEST_WORKERS ?= 2
test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

lint: $(STAMP)
	$(BIN)/ruff check lstmcast tests benchmarks
	$(BIN)/ruff format --check lstmcast tests benchmarks

format: $(STAMP)
	$(BIN)/ruff check --fix lstmcast tests benchmarks
	$(BIN)/ruff format lstmcast tests benchmarks

# M4 Hourly accuracy of the default settings (about 5-15 minutes on 2 cores).
bench: $(STAMP)
	$(BIN)/python benchmarks/m4_hourly.py $(M4_DIR)

# Time and peak memory of inspect, train (50 steps) and predict on 1 M, 3 M and 10 M rows
# (each three times: about 12-25 minutes on 2 shared cores; panels go to a temporary folder,
# results are appended to benchmarks/results/scale.md).
bench-scale: $(STAMP)
	$(BIN)/python benchmarks/scale.py

# Training steps/s: lstmcast's loop against a bare PyTorch loop and matmul (a minute or two).
bench-throughput: $(STAMP)
	$(BIN)/python benchmarks/throughput.py $(M4_DIR)

# Everything about speed and scale: throughput, accuracy per training second, memory at scale.
bench-speed: bench-throughput bench-budget bench-scale

.PHONY: bench-data bench-budget bench-throughput
BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $(BENCH_STAMP)

# Default settings on public datasets shipped in statsmodels and vega_datasets, and on the
# sample files, against seasonal naive and naive (about 10-20 minutes on 2 cores).
bench-data: $(BENCH_STAMP)
	$(BIN)/python benchmarks/datasets.py

# M4 Hourly OWA against the training budget (30, 60, 120, 300 s: about 10 minutes). Run it on
# an idle machine: the budget is wall-clock time.
bench-budget: $(STAMP)
	$(BIN)/python benchmarks/m4_budget.py $(M4_DIR)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache demo.lstmcast demo_forecast.csv
