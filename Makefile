# Two entry points: `make demo` (the main job) and `make test` (the whole suite). Both build .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip setuptools wheel
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[all]"
	touch $@

demo: $(BIN)/.installed
	$(BIN)/arena tournament examples/kuhn.toml --db arena-results.sqlite

test: $(BIN)/.installed
	$(BIN)/ruff check arena tests benchmarks examples
	SDL_VIDEODRIVER=dummy $(BIN)/python -m pytest -n 2 -q

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) arena-results.sqlite*
