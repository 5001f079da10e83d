# Every target bootstraps what it needs: a fresh clone needs only Python 3.11+ (and, for the
# tests, Debian's PostgreSQL and Chromium, installed by `make test` when run as root).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HTMX_VERSION := 2.0.8
HTMX   := static/js/htmx.min.js
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint format messages system-deps bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

$(HTMX):
	@sh tools/fetch-htmx.sh $(HTMX_VERSION) $(HTMX)

run: export CONTEST_BASE_URL ?= http://$(HOST):$(PORT)
run: $(STAMP) $(HTMX)
	$(BIN)/contest migrate
	$(BIN)/contest demo
	$(BIN)/contest serve --host $(HOST) --port $(PORT)

system-deps:
	@sh tools/system-deps.sh

test: $(STAMP) $(HTMX) system-deps
	$(BIN)/pytest

# Measures entries (SQLite and PostgreSQL, against a bare baseline), the draw, the lead export
# and the client import on this machine, and writes BENCHMARKS.md (a few minutes).
bench: $(STAMP) $(HTMX) system-deps
	@sh tools/system-deps.sh --bench
	$(BIN)/python -m bench.run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	@# Known vulnerabilities in the installed dependencies (PyPI's advisory data). Where that
	@# service is out of reach, pip-audit lists the packages it could not check.
	$(BIN)/pip-audit --skip-editable --progress-spinner off

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Extract the messages from the code and templates, and merge them into the catalogues.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k gettext:2 --no-location --sort-output -o contest/locale/messages.pot .
	$(BIN)/pybabel update -i contest/locale/messages.pot -d contest/locale --no-fuzzy-matching --ignore-obsolete --width 100

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
