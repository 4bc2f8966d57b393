# The README's commands. Each target installs what it needs into .venv from
# the pinned constraints, so a fresh machine with Python 3.11+ is enough.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev
STAMP_BENCH := $(VENV)/.installed-bench

.PHONY: run test bench screenshots translations lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt -e '.[embedded]'
	touch $@

$(STAMP_DEV): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@ $(STAMP_RUN)

$(STAMP_BENCH): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,bench]'
	touch $@ $(STAMP_DEV) $(STAMP_RUN)

# `make run ARGS=--discard` (or any of `python -m local.launcher --help`).
run: $(STAMP_RUN)
	$(BIN)/python -m local.launcher $(ARGS)

test: $(STAMP_DEV)
	$(BIN)/python -m tests.browser_setup
	$(BIN)/python -m pytest

# Regenerates docs/benchmarks.md and its plots (about 20 minutes; never part of
# `make test`). wrk drives the intake benchmark: a Debian package, installed here.
bench: $(STAMP_BENCH)
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; } \
		|| { echo "make bench needs wrk: apt-get install wrk" >&2; exit 1; }
	$(BIN)/python -m bench.run_all

# Refreshes the README's screenshots in docs/screenshots from the browser tests.
screenshots: $(STAMP_DEV)
	$(BIN)/python -m tests.browser_setup
	SCREENSHOTS_DIR=docs/screenshots $(BIN)/python -m pytest tests/e2e

# After changing the pages' words: extracts them (babel.cfg) and adds new ones
# to every translations/<lang>/LC_MESSAGES/messages.po, drops removed ones.
# Fill in the new msgstr entries: `make test` fails until every one is there.
# (The .po files are compiled by the app at start: no .mo is kept.)
translations: $(STAMP_DEV)
	mkdir -p build
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext --no-location --sort-output -o build/messages.pot .
	$(BIN)/pybabel update -i build/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete --width 100

lint: $(STAMP_DEV)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache
