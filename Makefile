# The README's two commands: `make demo` (reduced study + report) and `make test`.
# Both set up the environment themselves: a .venv at the repo root with the pinned dependencies —
# the study's for demo, study and report; with the [dev] extra (tests, lint, docs) for the rest.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEV_STAMP := $(VENV)/.dev-stamp
CORES ?= all

.PHONY: setup setup-dev demo study report test lint format clean slurm-profile device-wheels device-check-dry \
	docs docs-check

$(STAMP): pyproject.toml
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  echo "python3 -m venv failed: installing python3-venv (Debian)"; \
	  apt-get update -qq && apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	@touch $@

# the test, lint and documentation tools: a quarter of a fresh setup's time, which `make demo`
# does without
$(DEV_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

setup: $(STAMP)

setup-dev: $(DEV_STAMP)

demo: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) --configfile config/demo.yaml
	$(BIN)/snakemake --cores 1 --configfile config/demo.yaml --report results/report.html
	@echo "Report: results/report.html"

study: $(STAMP)
	$(BIN)/snakemake --cores $(CORES)

report: $(STAMP)
	$(BIN)/snakemake --cores 1 --report results/report.html

test: $(DEV_STAMP)
	$(BIN)/python -m pytest

# The documentation (docs/): HTML in docs/_build/html, warnings as errors. The configuration
# reference and the results index are generated from the repository as the build starts.
docs: $(DEV_STAMP)
	$(BIN)/python -m sphinx -W --keep-going -q -j auto -b html docs docs/_build/html
	@echo "Documentation: docs/_build/html/index.html"

# The built site (and REPORT=results/report.html, if given) in headless Chromium: screenshots in
# docs/_build/screenshots, fails on blank pages and page errors. Needs Debian's chromium; not CI.
REPORT ?=
docs-check: docs
	$(BIN)/python docs/check_browser.py $(if $(REPORT),--report $(REPORT))

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests workflow_scripts benchmarks
	$(BIN)/snakefmt --check Snakefile rules
	$(BIN)/snakemake --lint

format: $(DEV_STAMP)
	$(BIN)/ruff check --fix src tests workflow_scripts benchmarks
	$(BIN)/ruff format src tests workflow_scripts benchmarks
	$(BIN)/snakefmt Snakefile rules

clean:
	rm -rf results logs .snakemake docs/_build docs/_generated docs/api/generated

# `snakemake --profile slurm` looks the name up in ./slurm, ~/.config/snakemake/slurm and
# /etc/xdg/snakemake/slurm, not in profiles/: link this repository's profile into the user's
# Snakemake config directory (an existing different profile is left alone).
SNAKEMAKE_PROFILES ?= $(HOME)/.config/snakemake
slurm-profile:
	@mkdir -p $(SNAKEMAKE_PROFILES)
	@if [ -e $(SNAKEMAKE_PROFILES)/slurm ] && [ "$$(readlink -f $(SNAKEMAKE_PROFILES)/slurm)" != "$(CURDIR)/profiles/slurm" ]; then \
	  echo "$(SNAKEMAKE_PROFILES)/slurm exists and is not this repository's profile: left alone"; exit 1; fi
	ln -sfn $(CURDIR)/profiles/slurm $(SNAKEMAKE_PROFILES)/slurm
	@echo "snakemake --profile slurm now uses $(CURDIR)/profiles/slurm"

# The prepared GPU check (benchmarks/device_check.sh) runs on a lent machine with Python 3.12 and
# torch but none of our other dependencies, and no network: carry these wheels there.
DEVICE_WHEELS ?= .device-wheels
device-wheels: $(STAMP)
	$(BIN)/python -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
	  --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
	  --platform manylinux2014_x86_64 --platform any -d $(DEVICE_WHEELS) \
	  pyyaml==6.0.3 iminuit==2.33.0 jsonschema==4.26.0 jsonschema-specifications referencing \
	  rpds-py attrs typing-extensions
	@du -sh $(DEVICE_WHEELS)

device-check-dry: $(STAMP)
	PYTHON=$(BIN)/python benchmarks/device_check.sh --dry-run
