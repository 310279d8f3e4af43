# The two commands: `make serve` and `make test`. Everything installs into .venv on first use.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
SNNKB := $(BIN)/snnkb
TORCH := torch==2.13.0   # the CPU wheel on this machine's disk; an unpinned torch would pull a CUDA build
JOBS ?=
ARGS ?=

.PHONY: help install lock validate verify site serve test mutate bench clean

help:
	@echo "make serve   verify notebooks (cached), build the three-language site, serve it on http://127.0.0.1:8000"
	@echo "make test    install, then run the whole suite (validation, unit, notebooks, strict site build, browser)"
	@echo "make verify  execute changed notebooks only;   make site   build into build/site"
	@echo "make lock    re-pin requirements.lock from requirements.in"
	@echo "make mutate  mutation-test each paper's implementation against its notebook (build/mutation.json)"
	@echo "make bench   every speed figure against its target (build/bench.json)"

# Installs torch alone first (so nothing else can drag in a CUDA build), then the locked rest.
$(VENV)/.installed: requirements.lock requirements-peers.txt pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check "$(strip $(TORCH))"
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -r requirements-peers.txt
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed

lock: $(VENV)/.installed
	$(BIN)/pip install -q -r requirements.in
	{ head -n 2 requirements.lock; $(BIN)/pip freeze --exclude-editable | grep -v -i -E '^(snntorch|spikingjelly|loguru)==' | sed 's/^torch==\(.*\)+cpu$$/torch==\1/'; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

validate: $(VENV)/.installed
	$(SNNKB) validate

verify: $(VENV)/.installed
	$(SNNKB) verify $(if $(JOBS),-j $(JOBS)) $(ARGS)

site: install
	NO_MKDOCS_2_WARNING=1 $(SNNKB) site

serve: install
	$(SNNKB) verify $(if $(JOBS),-j $(JOBS)) || echo "some notebooks failed: their pages show it"
	NO_MKDOCS_2_WARNING=1 $(SNNKB) site --serve

mutate: $(VENV)/.installed
	$(SNNKB) mutate $(if $(JOBS),-j $(JOBS)) $(ARGS)

bench: install
	$(BIN)/python -m benchmarks.run $(ARGS)

# The whole suite: the catalog, every notebook (a failure names the paper and its assertion), the mutation gate
# (a paper below it is named with its surviving mutants; cached like verify), the real site built strictly in three
# languages, then the tests (tooling, fixture sites, browser).
test: install
	$(SNNKB) schema --check
	$(SNNKB) validate
	$(SNNKB) verify $(if $(JOBS),-j $(JOBS))
	$(SNNKB) mutate --gate $(if $(JOBS),-j $(JOBS))
	NO_MKDOCS_2_WARNING=1 $(SNNKB) site
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m pytest tests $(ARGS)

clean:
	rm -rf build
