# The two commands a newcomer needs: `make demo` and `make test`. Each installs what it needs.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock requirements-dev.lock pyproject.toml dev/pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: help install demo dashboards screenshots test test-fast airflow warehouse docs finance-export down lock lint bench reliability clean

help:
	@echo "make demo     run the nightly DAG end to end for the last 3 logical dates (embedded defaults)"
	@echo "make dashboards  the dashboards on http://127.0.0.1:8501 (after make demo)"
	@echo "make screenshots a PNG of each dashboard in .local/screenshots (headless Chromium)"
	@echo "make test     the whole test suite (starts its own PostgreSQL)"
	@echo "make airflow  Airflow UI + scheduler (standalone) on the same warehouse"
	@echo "make finance-export MONTH=2026-11   the month's budget variance + reconciliation (CSV, XLSX)"
	@echo "make docs     build the dbt docs beside the GX Data Docs and open both"
	@echo "make down     stop the sandbox APIs and the embedded warehouse"
	@echo "make bench    build a warehouse of BENCH_ROWS (default 1M) ad-day rows in .local/bench and time loader, nights, BI queries"
	@echo "make reliability  a night with 10% of API calls faulted (throttles included) against the same night clean: calls, seconds, ratio"

install: $(STAMP)

# requirements.lock is the runtime (what the Docker image and Airflow workers get); the dev lock
# adds the test runner and the embedded PostgreSQL, and dev/ holds the sandboxes and sample data.
$(STAMP): requirements.lock requirements-dev.lock pyproject.toml dev/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check "uv==0.13.*"
	@$(BIN)/uv pip install --python $(BIN)/python -q -r requirements.lock -r requirements-dev.lock
	@$(BIN)/uv pip install --python $(BIN)/python -q --no-deps -e . -e dev
	@rm -f $(VENV)/.installed-* && touch $@

demo:
	@s=$$(date +%s%N); $(MAKE) --no-print-directory install; e=$$(date +%s%N); \
	SOCIALWH_INSTALL_SECONDS=$$(( (e - s) / 1000000 ))e-3 $(BIN)/socialwh demo

dashboards: install
	@$(BIN)/socialwh dashboards

screenshots: install
	@$(BIN)/socialwh dashboards --screenshots

# The suite's modules run on TEST_WORKERS processes side by side (pytest-xdist, whole modules per
# worker: a module's fixtures are built once); each worker starts its own embedded PostgreSQL.
TEST_WORKERS ?= 2
test: install
	@$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

airflow: install
	@$(BIN)/socialwh airflow -- standalone

warehouse: install
	@$(BIN)/socialwh warehouse start

finance-export: install
	@test -n "$(MONTH)" || { echo "usage: make finance-export MONTH=2026-11"; exit 2; }
	@$(BIN)/socialwh finance-export --month $(MONTH)

docs: install
	@$(BIN)/socialwh docs

down:
	@test -x $(BIN)/socialwh && $(BIN)/socialwh down || echo "nothing installed, nothing running"

# Not part of `make test`: its own embedded PostgreSQL and sandbox under .local/bench (never the demo's).
# BENCH_ROWS=10000000 make bench for the 10M case; BENCH_ARGS="--keep --bi-runs 50" for more options.
bench: install
	@SOCIALWH_LOCAL_DIR=$(CURDIR)/.local/bench $(BIN)/python -m socialwh_dev.bench \
		$(if $(BENCH_ROWS),--rows $(BENCH_ROWS)) $(BENCH_ARGS)

# Issue #13: calls per platform and the faulted/clean time ratio (target <= 2x), in .local/bench (database
# `faults`). RELIABILITY_ARGS="--parallel 1" for dag.test's serial extraction.
reliability: install
	@SOCIALWH_LOCAL_DIR=$(CURDIR)/.local/bench $(BIN)/python -m socialwh_dev.faultbench $(RELIABILITY_ARGS)

lock:
	@$(BIN)/uv pip compile requirements.in -o requirements.lock --python-version 3.11
	@$(BIN)/uv pip compile requirements-dev.in -o requirements-dev.lock --python-version 3.11

lint: install
	@$(BIN)/uv pip install --python $(BIN)/python -q ruff && $(BIN)/ruff check plugins dags tests

clean: down
	rm -rf .local dbt_project/target dbt_project/logs
