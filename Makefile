# The README's two commands: `make dev` and `make test`. Both install everything they need first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(shell command -v $(PYTHON))

.PHONY: help install dev test lint typecheck unit simulate fuzz synth cfn-lint bench clean

help:
	@echo "make dev    install everything, then start punctual dev (API on 127.0.0.1:8000)"
	@echo "make test   install everything, then ruff, mypy, the whole pytest suite and cfn-lint"
	@echo "make synth  synthesize the CDK app to cdk.out/ (-e STAGE=prod for another stage)"
	@echo "make bench  run the benchmarks under bench/"
	@echo "make simulate SEED=1 STEPS=100000 [SEEDS=4]  a long simulation campaign (replays a failing seed)"
	@echo "make fuzz [FUZZ_EXAMPLES=1000] [FUZZ_SEED=n]  a long schemathesis campaign against the API in-process"

# uv itself is pinned and installed into .tools/, so a fresh machine needs only python3, pip and node.
$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock clients/python/pyproject.toml
	$(UV) sync --frozen
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(VENV)/.synced node_modules/.installed

dev: install
	$(BIN)/punctual dev

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy functions infra tools
	cd clients/python && $(CURDIR)/$(BIN)/mypy --strict

unit: install
	$(BIN)/pytest tests/unit -q

SEED ?= 1
STEPS ?= 100000
SEEDS ?= 1
simulate: install
	PYTHONPATH=. $(BIN)/python -m tests.simulation --seed $(SEED) --steps $(STEPS) --seeds $(SEEDS)

# The suite runs 160 derandomized examples per operation; this runs more, in one process (for the summary
# line of requests), with another seed when FUZZ_SEED is given.
FUZZ_EXAMPLES ?= 1000
FUZZ_SEED ?=
fuzz: install
	PUNCTUAL_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(if $(FUZZ_SEED),PUNCTUAL_FUZZ_SEED=$(FUZZ_SEED)) \
	  $(BIN)/pytest tests/integration/fuzz -q -p no:xdist $(if $(FUZZ_SEED),--hypothesis-seed=$(FUZZ_SEED))

STAGE ?= dev
STAGES := dev prod
synth: install
	node_modules/.bin/cdk synth --quiet -c stage=$(STAGE) > /dev/null

# Every stage's template, and punctual-region's (the same for every stage). W3005: CDK adds a DependsOn on the
# function's role that a GetAtt already implies.
cfn-lint: install
	@for stage in $(STAGES); do \
	  $(MAKE) --no-print-directory synth STAGE=$$stage && \
	  $(BIN)/cfn-lint --ignore-checks W3005 -- cdk.out/punctual-$$stage.template.json || exit 1; \
	done
	$(BIN)/cfn-lint --ignore-checks W3005 -- cdk.out/punctual-region.template.json

test: lint typecheck
	$(BIN)/pytest -n 2 -q
	$(MAKE) --no-print-directory cfn-lint

bench: install
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) $(TOOLS) node_modules cdk.out .pytest_cache .mypy_cache .ruff_cache
