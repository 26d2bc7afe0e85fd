# The two commands: `make run` and `make test`. Everything else is a step they use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
TRANSLATIONS := sharing/translations

.PHONY: run test install install-dev chromium migrate demo serve translations extract clean bench-catalog bench-loans bench-uploads bench-reports bench-routing

run: install translations migrate demo serve

test: install-dev translations chromium
	$(BIN)/ruff check sharing tests bench
	$(BIN)/mypy
	$(BIN)/pytest $(PYTEST_ARGS)
ifeq ($(SHARING_SKIP_BROWSER_TESTS),1)
	@echo "WARNING: SHARING_SKIP_BROWSER_TESTS=1: the browser tests were NOT RUN." >&2
endif

# The browser tests drive Debian's Chromium (never a downloaded one): installed when missing,
# as root, as CI runs. SHARING_CHROMIUM names another Chromium (then nothing is installed);
# SHARING_SKIP_BROWSER_TESTS=1 skips the browser tests instead, and the run says so.
chromium:
ifeq ($(SHARING_SKIP_BROWSER_TESTS),1)
	@echo "WARNING: SHARING_SKIP_BROWSER_TESTS=1: the browser tests will be SKIPPED, not run." >&2
else ifeq ($(SHARING_CHROMIUM),)
	@command -v chromium >/dev/null || { \
	  echo "== Chromium is missing: installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } || { \
	  echo "Could not install chromium (as root: apt-get install chromium)." \
	       "To run the suite without the browser tests: SHARING_SKIP_BROWSER_TESTS=1 make test" >&2; exit 1; }
endif

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(VENV)/.installed
$(VENV)/.installed: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

install-dev: $(VENV)/.installed-dev
$(VENV)/.installed-dev: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

migrate: install
	SHARING_ENV=$${SHARING_ENV:-development} $(BIN)/alembic upgrade head
	SHARING_ENV=$${SHARING_ENV:-development} $(BIN)/sharing catalog reindex

demo: install
	SHARING_ENV=$${SHARING_ENV:-development} $(BIN)/sharing demo load

# Served as in production (gunicorn.conf.py), on this machine only; one worker by default,
# since an import's progress on SQLite is kept in the memory of the worker that runs it.
# Beside it one scheduler runs the periodic jobs (never the workers: each would run them all),
# stopped when the server stops (Ctrl-C included) once its running jobs are done.
serve: install
	export SHARING_ENV=$${SHARING_ENV:-development}; \
	$(BIN)/sharing jobs run & scheduler=$$!; \
	trap 'kill $$scheduler 2>/dev/null; wait $$scheduler' EXIT; trap 'exit 130' INT TERM; \
	GUNICORN_BIND=127.0.0.1:5000 GUNICORN_WORKERS=$${GUNICORN_WORKERS:-1} $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

# Statistics only for Swedish: English is the source language, its catalog is empty on purpose.
translations: install
	$(BIN)/pybabel compile --directory $(TRANSLATIONS) --locale sv --statistics
	$(BIN)/pybabel compile --directory $(TRANSLATIONS) --locale en

# Developers: after changing user-facing text, refresh the catalogs and translate.
extract: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_pgettext:1c,2 -k N_ -k NP_:1,2 --no-location --sort-output -o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-fuzzy-matching --ignore-obsolete

# Benchmarks print their figures; they are not tests.
LISTINGS ?= 100000
bench-catalog: install translations
	$(BIN)/python bench/catalog.py --listings $(LISTINGS)

BOOKINGS ?= 200000
bench-loans: install translations
	$(BIN)/python bench/loans.py --listings $(or $(LOAN_LISTINGS),10000) --bookings $(BOOKINGS)

bench-uploads: install
	$(BIN)/python bench/uploads.py

EVENTS ?= 1000000
bench-reports: install translations
	$(BIN)/python bench/reports.py --events $(EVENTS) $(if $(BENCH_KEEP),--keep $(BENCH_KEEP))

# The route planner on a folder of Li & Lim instances (any folder of that layout), at each time
# limit in seconds (space- or comma-separated), then on generated days of the three municipalities.
INSTANCES ?= ../shared/bench/pdptw
LIMITS ?= 10 60
bench-routing: install
	$(BIN)/python bench/routing.py --instances "$(INSTANCES)" --limits "$(LIMITS)"

clean:
	rm -rf $(VENV) *.egg-info $(TRANSLATIONS)/*/LC_MESSAGES/*.mo
