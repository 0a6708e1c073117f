# The README's two commands are `make demo` and `make test`; .ci/run uses `make test` too.
# Every target that needs the virtual environment or the front-end packages depends on them,
# so each command works on its own from a fresh clone; `make install` does nothing when nothing changed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_ENV := DEBUG=1
PYTEST_ARGS ?=
PYTHON_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.package-lock.json

.PHONY: install demo run test coverage lint typecheck migrations-check system-packages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(PYTHON_STAMP): $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

install: $(PYTHON_STAMP) $(NODE_STAMP)

# Debian packages outside pip and npm (as root): Pango and fonts for the summary PDF (WeasyPrint), poppler-utils
# for its tests, chromium for the browser tests. .ci/run installs the same.
system-packages:
	apt-get update -qq && apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core poppler-utils \
		chromium chromium-driver

# Development settings for manage.py on this machine (git-ignored; never read by gunicorn).
.env:
	printf '# Local development only: read by manage.py, never by the WSGI server.\nDEBUG=1\n' > .env

demo: install .env
	$(DEMO_ENV) $(BIN)/python manage.py migrate --no-input
	$(DEMO_ENV) $(BIN)/python manage.py seed_demo --no-progress
	$(DEMO_ENV) $(BIN)/python manage.py runserver 127.0.0.1:8000

run: install
	$(DEMO_ENV) $(BIN)/python manage.py runserver 127.0.0.1:8000

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

# Line and branch coverage of the product's code (settings in pyproject.toml): the files not fully
# covered, then the two totals apart (the report's own total counts lines and branches together).
define COVERAGE_TOTALS
import json, sys
totals = json.load(sys.stdin)["totals"]
for name, covered, total in (("lines", "covered_lines", "num_statements"), ("branches", "covered_branches", "num_branches")):
    print(f"{name:<9}{totals[covered]:>7} of {totals[total]:<7}{100 * totals[covered] / max(totals[total], 1):.1f}%")
endef
export COVERAGE_TOTALS

coverage: install
	$(BIN)/coverage run -m pytest $(PYTEST_ARGS)
	$(BIN)/coverage report
	@$(BIN)/coverage json -q -o - | $(BIN)/python -c "$$COVERAGE_TOTALS"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

typecheck: install
	$(BIN)/mypy

migrations-check: install
	$(DEMO_ENV) $(BIN)/python manage.py makemigrations --check --dry-run
