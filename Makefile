# Two commands set everything up on a fresh machine:
#   make demo   creates the virtualenv, installs outreach, runs the 30-day demo
#   make test   installs the dev dependencies, runs lint, types and the whole suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck bench bench-email bench-peer-venv clean

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

# Email side by side with django-post-office (installed only here, never a dependency).
PEER_VENV := var/bench-peer-venv
$(PEER_VENV)/bin/python:
	$(PYTHON) -m venv $(PEER_VENV)
	$(PEER_VENV)/bin/pip install --quiet 'django-post-office==3.12.0' 'psycopg[binary]'

bench-peer-venv: $(PEER_VENV)/bin/python

bench-email: $(VENV)/.installed $(PEER_VENV)/bin/python
	$(BIN)/python bench/email_peer.py

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
