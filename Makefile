# Four commands, each setting itself up in .venv/ from nothing: run, demo, test, bench.
VENV := .venv
PY := $(VENV)/bin/python
READY := $(VENV)/.ready
STORAGE := storage
INPUT ?= {"mode": "liquidation_map", "symbol": "Binance_BTCUSDT", "range": "1d"}
# Runtime and dev dependencies, read from pyproject.toml so they are listed in one place.
DEPS = $(shell python3 -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; print(' '.join(repr(d) for d in p['dependencies'] + p['optional-dependencies']['dev']))")

.PHONY: run demo test lint bench clean

$(READY): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check $(DEPS)
	touch $(READY)

run: $(READY)
	$(PY) scripts/local_run.py '$(INPUT)' $(STORAGE)

demo: $(READY)
	$(PY) scripts/demo.py

lint: $(READY)
	$(PY) -m ruff check src tests sandbox scripts bench
	$(PY) -m ruff format --check src tests sandbox scripts bench
	$(PY) -m mypy src tests sandbox scripts bench

test: lint
	$(PY) -m pytest -q

# A few minutes: the actor against its floor, side by side; prints the table, writes BENCHMARKS.md.
bench: $(READY)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) $(STORAGE) .mypy_cache .ruff_cache
