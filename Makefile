# Kiln: `make run` starts everything locally with the virtual LATP lab driving it;
# `make test` installs what the tests need and runs them.

PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.bench-installed
PEERS_STAMP := $(VENV)/.peers-installed
PORT   ?= 8000
export PORT

.DEFAULT_GOAL := help
.PHONY: help venv run demo test test-fast lint format bench bench-proposal bench-bo bench-believer \
	bench-intake bench-loop bench-refit bench-quality bench-quality-peers bench-constraints \
	bench-constraints-peers bench-moo bench-moo-peers \
	clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml shared/kiln_client/pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@# the kadi extra (kadi-apy -> niquests -> urllib3-future): built so that it leaves the real
	@# urllib3 alone (its wheel's .pth file copies itself over urllib3, which breaks requests' users)
	URLLIB3_NO_OVERRIDE=1 $(PY) -m pip install --quiet --no-binary urllib3-future \
		-e 'shared/kiln_client[kadi]' -e '.[dev]'
	@# a venv made before the client was split off: upgrading the old `kiln` removed its bin/kiln
	@test -x $(VENV)/bin/kiln || $(PY) -m pip install --quiet --no-deps --force-reinstall -e shared/kiln_client
	@touch $(STAMP)

venv: $(STAMP)  ## Create .venv and install Kiln (and its client, shared/kiln_client) with its dev tools

# The benchmark-only tools (the `bench` extra), installed by the bench targets that need them.
$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	@touch $(BENCH_STAMP)

# The peer (the `peers` extra: BayBE with PyTorch's CPU wheel), installed only by the *-peers
# benchmarks; `make venv`, `make test` and the other benchmarks never install it.
$(PEERS_STAMP): $(BENCH_STAMP)
	$(PY) -m pip install --quiet -e '.[dev,bench,peers]'
	@touch $(PEERS_STAMP)

run: $(STAMP)  ## Start Redis, the intake and a worker; KILN_DEMO=1 (default) drives the virtual LATP lab
	KILN_DEMO=$${KILN_DEMO:-1} $(PY) -m kiln_services.devstack

demo: $(STAMP)  ## Drive 4 closed-loop iterations against a running stack (KILN_URL, KILN_TOKEN)
	$(PY) -m kiln_client.demo

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

bench: bench-proposal bench-intake bench-loop bench-bo bench-quality  ## Run every benchmark

bench-proposal: $(BENCH_STAMP)  ## Refit + batch latency: fast believer vs naive believer vs scikit-optimize
	$(PY) bench/proposal.py

bench-bo: $(BENCH_STAMP)  ## Virtual experiments (the study's Figure 3 protocol) on the virtual LATP grid
	$(PY) bench/bo.py

bench-believer: $(BENCH_STAMP)  ## Fast Kriging believer against a naive refitting believer, side by side
	$(PY) bench/believer.py

bench-intake: $(BENCH_STAMP)  ## Results/s and p50/p99 of the intake (gunicorn + Redis) against a no-op ceiling
	$(PY) bench/intake.py

bench-loop: $(BENCH_STAMP)  ## Result posted -> a batch with it at a long-polling client, 1 and 3 workers
	$(PY) bench/loop.py

bench-refit: $(BENCH_STAMP)  ## The worker's refits against the previous path and a cold fit: LML and fit time
	$(PY) bench/refit.py

bench-quality: $(BENCH_STAMP)  ## Closed-loop quality: the worker's path beside kiln.propose, random and the paper's GP loop
	$(PY) bench/quality.py $(BENCH_QUALITY_ARGS)

bench-moo: $(BENCH_STAMP)  ## Multi-objective loops (VLMOP2, Branin-Currin, the virtual LATP lab) beside random and the published runs; BENCH_MOO_ARGS=--full for 20 seeds
	$(PY) bench/moo.py $(BENCH_MOO_ARGS)

bench-quality-peers: $(PEERS_STAMP)  ## BayBE on bench-quality's problems (opt-in: installs the peers extra, ~30 min)
	$(PY) bench/peers.py $(BENCH_PEERS_ARGS)

bench-constraints: $(BENCH_STAMP)  ## Furnace runs to 95 % of the LATP optimum: shared firings vs free batches vs random
	$(PY) bench/constraints.py $(BENCH_CONSTRAINTS_ARGS)

BENCH_CONSTRAINTS_PEERS_ARGS ?= --full --max-wall 1200
bench-constraints-peers: $(PEERS_STAMP)  ## bench-constraints with BayBE 0.15 beside Kiln (opt-in: peers extra, ~35 min)
	$(PY) bench/constraints.py --peers $(BENCH_CONSTRAINTS_PEERS_ARGS)

BENCH_MOO_PEERS_ARGS ?= --setups branin-currin-q4,vlmop2-q4 --methods ehvi --seeds 2
bench-moo-peers: $(PEERS_STAMP)  ## bench-moo with BayBE's ParetoObjective (qLogNEHVI) beside Kiln's EHVI (opt-in: peers extra, ~45 min)
	$(PY) bench/moo.py --peers $(BENCH_MOO_PEERS_ARGS)

clean:  ## Remove the virtualenv and local data
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
