# Kiln: `make run` starts everything locally with the virtual LATP lab driving it;
# `make test` installs what the tests need and runs them.

PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PORT   ?= 8000
export PORT

.DEFAULT_GOAL := help
.PHONY: help venv run demo test test-fast lint format bench bench-bo bench-believer clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)  ## Create .venv and install Kiln with its dev tools

run: $(STAMP)  ## Start Redis, the intake and a worker; KILN_DEMO=1 (default) drives the virtual LATP lab
	KILN_DEMO=$${KILN_DEMO:-1} $(PY) -m devstack

demo: $(STAMP)  ## Drive 4 closed-loop iterations against a running stack (KILN_URL, KILN_TOKEN)
	$(PY) -m instrument

test: $(STAMP)  ## Run every test: unit, integration (real Redis), end-to-end (gunicorn + Celery)
	$(PY) -m pytest

test-fast: $(STAMP)  ## Run the tests not marked slow
	$(PY) -m pytest -m 'not slow'

lint: $(STAMP)  ## ruff (lint + format check) and mypy on the domain library
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

format: $(STAMP)  ## Apply ruff's formatting and safe fixes
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

bench: bench-bo bench-believer  ## Run every benchmark

bench-bo: $(STAMP)  ## Virtual experiments (the study's Figure 3 protocol) on the virtual LATP grid
	$(PY) bench/bo.py

bench-believer: $(STAMP)  ## Fast Kriging believer against a naive refitting believer, side by side
	$(PY) bench/believer.py

clean:  ## Remove the virtualenv and local data
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
