# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_EVENTS ?= 4000

.PHONY: run test venv migrate demo lint bench worker clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

venv: $(VENV)/.installed

migrate: venv
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py demo --events $(DEMO_EVENTS)

run: demo
	@scripts/run.sh "$(PY)" "$(HOST)" "$(PORT)"

# With DATABASE_URL set (CI: PostgreSQL) the store's tests run a second time on the embedded
# SQLite default, so both backends are checked in one run.
test: venv
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest -q
	@if [ -n "$$DATABASE_URL" ]; then \
	  echo "again on SQLite:"; \
	  env -u DATABASE_URL $(PY) -m pytest -q -m "not browser and not integration" tests/ingest tests/identities; \
	fi

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

bench: migrate
	$(PY) manage.py bench --json bench.json

worker: venv
	$(VENV)/bin/celery -A forensics worker -Q ingest,correlate,exports -B --loglevel=INFO

clean:
	rm -rf var staticfiles .pytest_cache
