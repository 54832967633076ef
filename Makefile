# Two commands set everything up on a fresh machine:
#   make demo   creates the virtualenv, installs outreach, runs the 30-day demo
#   make test   installs the dev dependencies, runs lint, types and the whole suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck bench bench-email bench-peer-venv bench-scale bench-claim bench-chart bench-explain clean

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

# Benchmarks, run by hand (docs/benchmarks.md has the latest figures). Each prints its
# figures beside its peer or floor; the headline figures go to var/bench/results.jsonl and
# `make bench-chart` draws them. BENCH_POSTGRES_URL (an empty database) adds PostgreSQL runs.
$(VENV)/.bench-installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e '.[bench]'
	touch $@ $(VENV)/.installed

bench: $(VENV)/.bench-installed bench-email
	$(BIN)/python bench/pipeline.py 20000
	$(BIN)/python bench/pipeline.py 20000 --processes 2
	$(BIN)/python bench/import.py 100000
	$(BIN)/python bench/message_log.py
	$(BIN)/python bench/explain.py
	@if [ -n "$$BENCH_POSTGRES_URL" ]; then \
		$(BIN)/python bench/email_peer.py --database-url "$$BENCH_POSTGRES_URL"; \
		OUTREACH_BENCH_POSTGRES_URL="$$BENCH_POSTGRES_URL" $(BIN)/python bench/claim.py; \
	fi
	$(BIN)/python bench/chart.py

# 1,000,000 debtors imported, planned and their first step dispatched (about 20 minutes).
bench-scale: $(VENV)/.bench-installed
	$(BIN)/python bench/scale.py 1000000 --dispatch-limit 100000

# `outreach compliance explain --jsonl` as a process: 200,000 scenarios beside the 20,000/s floor.
bench-explain: $(VENV)/.installed
	$(BIN)/python bench/explain.py

bench-chart: $(VENV)/.bench-installed
	$(BIN)/python bench/chart.py

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
