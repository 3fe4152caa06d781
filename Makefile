# Stepwise: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: run test lint bench setup clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	mkdir -p var
	$(BIN)/stepwise migrate --noinput
	$(BIN)/stepwise demo_load
	STEPWISE_REQUIRE_MFA=0 $(BIN)/stepwise runserver 127.0.0.1:$(PORT)

test: $(STAMP)
	mkdir -p var
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy stepwise
	$(BIN)/stepwise makemigrations --check --dry-run

bench: $(STAMP)
	$(BIN)/python -m stepwise.bench

clean:
	rm -rf $(VENV) var
