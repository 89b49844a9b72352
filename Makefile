# Entry points; each builds .venv first. `make help` lists them.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SOURCES := arena tests benchmarks examples
# llama.cpp (the local-llm extra) is built for AVX2, not for every instruction of the build machine: its native
# build (AMX and AVX-512 kernels) crashed in batched prompt evaluation on the development machine's Xeon.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON

.PHONY: help demo llm-demo test lint format typecheck check bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml arena/tournaments/_elo.c  # the C kernel is built by the install
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip setuptools wheel
	$(BIN)/python -m pip install -q torch==2.13.0
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip install -q -e ".[all]"
	touch $@

demo: $(BIN)/.installed  ## run the default Kuhn-poker tournament and print the ranking
	$(BIN)/arena tournament examples/kuhn.toml --db arena-results.sqlite

llm-demo: $(BIN)/.installed  ## the packaged local model (SmolLM2-135M) vs random, CFR+, Hedge: Kuhn poker, repeated RPS
	$(BIN)/arena tournament examples/llm_local.toml --db llm-demo.sqlite
	$(BIN)/arena tournament examples/llm_local_rps.toml --db llm-demo.sqlite
	$(BIN)/arena report llm-demo.sqlite --tournament llm-local
	$(BIN)/arena report llm-demo.sqlite --tournament llm-local-rps

test: $(BIN)/.installed  ## the whole test suite (slow tests included), 2 workers
	SDL_VIDEODRIVER=dummy $(BIN)/python -m pytest -n 2 -q

lint: $(BIN)/.installed  ## ruff check and ruff format --check
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)

format: $(BIN)/.installed  ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix $(SOURCES)
	$(BIN)/ruff format $(SOURCES)

typecheck: $(BIN)/.installed  ## mypy over arena/ (settings in pyproject.toml)
	$(BIN)/mypy

check: lint typecheck test  ## everything CI runs

bench: $(BIN)/.installed  ## the benchmarks, side by side with their peers
	$(BIN)/python benchmarks/run_all.py

clean:  ## remove the venv and the demo's results
	rm -rf $(VENV) arena-results.sqlite* llm-demo.sqlite*
