# The README's two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT
# Two test processes (pytest-xdist), one per core: each gets its own database and Celery queue.
PYTEST_ARGS ?= -n 2

.PHONY: run test test-faults install services setup lint bench clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed

services:
	@scripts/ensure_services.sh

## Prepare everything the processes need: database, schema, static files, dev data. Idempotent.
setup: install services
	$(PY) manage.py ensure_database
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py bootstrap_dev

## Run web, worker and beat in the foreground with prefixed logs; Ctrl-C stops them all.
run: setup
	@mkdir -p .run
	@scripts/run.sh

## Run the whole test suite against real Postgres and Redis.
test: install services
	@scripts/ensure_browser.sh
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/pytest $(PYTEST_ARGS)

## The long fault campaign (tests/faults/test_campaign.py: private Redis/Postgres killed under load).
test-faults: install services
	$(VENV)/bin/pytest tests/faults -m slow -s $(PYTEST_ARGS)

bench: install services
	@echo "See bench/README.md for each benchmark's options."

clean:
	rm -rf .run staticfiles .pytest_cache
