# Sopu's everyday commands. `make test` works on a fresh Debian machine with Python 3.11.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test

PYTHON_BASE := $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
BROWSER_DIR := tests/browser
# Only the packages that exist, so mypy has something to read in each.
PACKAGES := $(wildcard mediation storage graph cards bot jobs)

.PHONY: venv test test-deps lint typecheck pytest run package clean distclean

venv: $(VENV)/.installed

$(VENV): $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON_BASE) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

test: $(VENV)/.installed test-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(PACKAGES)
	$(BIN)/pytest -q || { status=$$?; \
	  if [ $$status = 5 ]; then echo "pytest collected no tests (exit 5): that is a failure" >&2; fi; \
	  exit $$status; }

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy $(PACKAGES)

pytest: $(VENV)/.installed
	$(BIN)/pytest -q

test-deps: $(BROWSER_DIR)/node_modules/.installed
	@if [ ! -x /usr/bin/chromium ] || [ ! -d /usr/share/fonts/truetype/liberation ]; then \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "Please install the Debian packages: sudo apt-get install chromium fonts-liberation" >&2; \
	    exit 1; \
	  fi; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium fonts-liberation; \
	fi
	@if ! pg_isready -q -h 127.0.0.1 -p 5432; then \
	  echo "PostgreSQL is not answering on 127.0.0.1:5432; starting it"; \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start; \
	  for _ in $$(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; \
	  pg_isready -h 127.0.0.1 -p 5432; \
	fi

$(BROWSER_DIR)/node_modules/.installed: $(BROWSER_DIR)/package.json $(BROWSER_DIR)/package-lock.json
	cd $(BROWSER_DIR) && npm ci --ignore-scripts --no-audit --no-fund
	touch $@

run: $(VENV)/.installed
	$(BIN)/python -m bot run-dev

package:
	$(PYTHON_BASE) appPackage/build.py --output build/sopu-teams-app.zip

# Build output and caches; `distclean` also drops the virtual environment and node_modules.
clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache *.egg-info
	find . -path ./.venv -prune -o -path ./$(BROWSER_DIR)/node_modules -prune \
	  -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) $(BROWSER_DIR)/node_modules
