# Quán Triệt — the two commands of the quick start are `make demo` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= $(shell command -v python3.12 2>/dev/null || ls $$HOME/.pyenv/versions/3.12.*/bin/python 2>/dev/null | tail -1)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test lint typecheck install install-dev browser office serve worker messages clean

$(VENV)/.base: pyproject.toml requirements/base.txt
	@test -n "$(PYTHON)" || { echo "Python 3.12 not found (install it or set PYTHON=...)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements/base.txt
	$(PY) -m pip install -q --no-deps -e .
	@touch $@

$(VENV)/.dev: $(VENV)/.base requirements/dev.txt
	$(PY) -m pip install -q -r requirements/dev.txt
	@touch $@

install: $(VENV)/.base
install-dev: $(VENV)/.dev

## demo: build the demo organisation on SQLite and serve it on http://127.0.0.1:8000
demo: install
	$(PY) -m quantriet migrate --noinput
	$(PY) -m quantriet demo --scale small --if-empty
	@echo "Serving http://$(HOST):$(PORT)/ (the task worker runs alongside; Ctrl-C stops both)"
	$(PY) -m quantriet db_worker --interval 0.5 & worker=$$!; \
	  trap "kill $$worker 2>/dev/null" EXIT INT TERM; \
	  $(PY) -m quantriet runserver $(HOST):$(PORT)

## test: install what the tests need (incl. Debian's Chromium and LibreOffice Calc) and run
## the whole suite
test: install-dev browser office
	$(PY) -m pytest

## browser: Debian's Chromium for the Playwright tests (no browser download)
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Chromium is missing: sudo apt-get install chromium"; exit 1; fi; \
	fi

## office: Debian's LibreOffice Calc, with which a test opens the official results report
office:
	@if ! command -v soffice >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends libreoffice-calc >/dev/null; \
	  else echo "LibreOffice Calc is missing: sudo apt-get install libreoffice-calc"; exit 1; fi; \
	fi

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check quantriet/text
	$(VENV)/bin/mypy

serve: install
	$(PY) -m quantriet runserver $(HOST):$(PORT)

worker: install
	$(PY) -m quantriet db_worker

## messages: refresh and compile the Vietnamese translations
messages: install
	cd quantriet && PYTHONPATH=.. ../$(PY) -m django makemessages -l vi --no-obsolete --settings=quantriet.settings
	cd quantriet && PYTHONPATH=.. ../$(PY) -m django compilemessages --settings=quantriet.settings

clean:
	rm -rf $(VENV) var .pytest_cache
