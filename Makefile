# Every target bootstraps what it needs: a fresh clone needs only Python 3.11+ (and, for the
# tests, Debian's PostgreSQL and Chromium, installed by `make test` when run as root).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HTMX_VERSION := 2.0.8
HTMX   := static/js/htmx.min.js
ALTCHA_VERSION := 3.2.2
ALTCHA := static/js/altcha.min.js
CHECKERS := tools/checkers/node_modules/.package-lock.json
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test test-future lint format messages system-deps bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

$(HTMX):
	@sh tools/fetch-htmx.sh $(HTMX_VERSION) $(HTMX)

# The proof-of-work widget the forms show while a contest is flooded (contest/botguard.py).
$(ALTCHA):
	@sh tools/fetch-altcha.sh $(ALTCHA_VERSION) $(ALTCHA)

# The page checkers the tests run, at the versions of tools/checkers/package-lock.json: the
# W3C Nu HTML checker (run by the machine's Java) and Lighthouse (driving Debian's Chromium).
# No install script runs: vnu-jar's would download a Java runtime of its own.
$(CHECKERS): tools/checkers/package.json tools/checkers/package-lock.json
	npm ci --prefix tools/checkers --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $(CHECKERS)

run: export CONTEST_BASE_URL ?= http://$(HOST):$(PORT)
run: $(STAMP) $(HTMX) $(ALTCHA)
	$(BIN)/contest migrate
	$(BIN)/contest demo
	$(BIN)/contest serve --host $(HOST) --port $(PORT)

system-deps:
	@sh tools/system-deps.sh

# The suite's workers: one per core, at most four (each starts its own PostgreSQL server,
# app server and browser); each test file runs whole on one worker.
TEST_JOBS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); [ $$n -gt 4 ] && n=4; echo $$n)

# system-deps first: npm, which fetches htmx and the widget, may be what it installs.
# Each test runs once, in one of two legs: the browser, PostgreSQL and API-fuzzing tests at
# today's date, then every other test (SQLite) with the clock 400 days ahead (test-future).
test: system-deps $(STAMP) $(HTMX) $(ALTCHA) $(CHECKERS)
	$(BIN)/pytest -n $(TEST_JOBS) --dist loadfile -k "$(TODAY_LEG)"
	@$(MAKE) --no-print-directory test-future

# The date-bomb leg: the machine's clock 400 days ahead (libfaketime), so that a test or a code
# path reading today's date instead of the injected clock fails now, not on the day the
# calendar gets there. It takes the SQLite variants: the PostgreSQL ones, at today's date, go
# through the same date logic, so each test runs once and the date logic at both dates. No
# browser tests: Chromium would run preloaded too, for minutes more. The reliability tests
# stay: the `contest serve` they start inherits the faked clock. The monotonic clock is
# shifted as well: with FAKETIME_DONT_FAKE_MONOTONIC=1, libfaketime 0.9.10 (Debian 12) makes
# every time.sleep() fail with EINVAL. The API's contract fuzzing (schemathesis,
# tests/contest/test_api.py) runs at today's date: under libfaketime its stateful phase's
# threads stall past the test timeout, and it reads no date of its own.
TODAY_LEG = browser or postgresql or openapi_document
FAKETIME_LIB = $(firstword $(wildcard /usr/lib/*/faketime/libfaketime.so.1))

test-future: system-deps $(STAMP) $(HTMX) $(ALTCHA) $(CHECKERS)
	@test -n "$(FAKETIME_LIB)" || { echo "libfaketime not found: apt-get install faketime" >&2; exit 1; }
	LD_PRELOAD=$(FAKETIME_LIB) FAKETIME=+400d \
		$(BIN)/pytest -n $(TEST_JOBS) --dist loadfile -k "not ($(TODAY_LEG))"

# Measures entries (SQLite and PostgreSQL, against a bare baseline), the draw, the lead export
# and the client import on this machine, and writes BENCHMARKS.md (a few minutes).
bench: system-deps $(STAMP) $(HTMX) $(ALTCHA)
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
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache tools/checkers/node_modules
