# The README's two commands are `make demo` and `make test`; .ci/run uses `make test` too.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_ENV := DEBUG=1

.PHONY: install demo run test lint migrations-check

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

install: $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	npm ci --no-audit --no-fund

# Development settings for manage.py on this machine (git-ignored; never read by gunicorn).
.env:
	printf '# Local development only: read by manage.py, never by the WSGI server.\nDEBUG=1\n' > .env

demo: install .env
	$(DEMO_ENV) $(BIN)/python manage.py migrate --no-input
	$(DEMO_ENV) $(BIN)/python manage.py seed_demo --no-progress
	$(DEMO_ENV) $(BIN)/python manage.py runserver 127.0.0.1:8000

run:
	$(DEMO_ENV) $(BIN)/python manage.py runserver 127.0.0.1:8000

test:
	$(BIN)/pytest

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

migrations-check:
	$(DEMO_ENV) $(BIN)/python manage.py makemigrations --check --dry-run
