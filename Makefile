# Two commands set everything up on a fresh machine:
#   make demo   creates the virtualenv, installs outreach, runs the 30-day demo
#   make test   installs the dev dependencies, runs lint, types and the whole suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/outreach demo

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check outreach tests bench scripts
	$(BIN)/ruff format --check outreach tests bench scripts

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

# The suite runs on SQLite; with OUTREACH_TEST_POSTGRES_URL set, the database tests run
# again on PostgreSQL (and the multi-worker tests run there).
test: lint typecheck
	$(BIN)/pytest -q
	@if [ -n "$$OUTREACH_TEST_POSTGRES_URL" ]; then \
		echo "== database tests on PostgreSQL =="; \
		OUTREACH_TEST_DATABASE_URL="$$OUTREACH_TEST_POSTGRES_URL" $(BIN)/pytest -q -m db; \
	fi

bench: $(VENV)/.installed
	$(BIN)/python bench/pipeline.py
	$(BIN)/python bench/message_log.py

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
