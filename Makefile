# The README's commands. `make demo` and `make test` each build .venv from pyproject.toml first.
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1:8000

.PHONY: demo test lint check-deploy messages clean

$(VENV)/.installed: pyproject.toml
	@py=$$(for p in python3.13 python3.12 python3; do \
	    command -v $$p >/dev/null 2>&1 && \
	    $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 && \
	    echo $$p && break; done); \
	if [ -z "$$py" ]; then echo "Réemploi needs Python 3.12 or newer." >&2; exit 1; fi; \
	test -x $(BIN)/python || $$py -m venv $(VENV); \
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	@touch $@

# HOST is runserver's [address:]port; 0.0.0.0:8000 lets phones on the same network in, and
# without SITE_URL the labels then encode this machine's address on that network.
demo: export REEMPLOI_DEMO_HOST = $(HOST)
demo: $(VENV)/.installed
	$(BIN)/python manage.py migrate --no-input -v 0
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py seed_logistics_demo
	$(BIN)/python manage.py runserver $(HOST)

test: $(VENV)/.installed
	$(BIN)/python -m pytest -q --durations=15

lint: $(VENV)/.installed
	$(BIN)/python -m ruff check .
	$(BIN)/python -m ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

# makemessages matches an --ignore pattern against directory names anywhere in the tree: no
# source directory may be called tests, bench, var or .venv.
messages: $(VENV)/.installed
	$(BIN)/python manage.py makemessages -l fr --no-obsolete \
	    --ignore '.venv/*' --ignore 'var/*' --ignore 'tests/*' --ignore 'bench/*'
	$(BIN)/python manage.py compilemessages -l fr --ignore '.venv/*'

clean:
	rm -rf $(VENV) var
