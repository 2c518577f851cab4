# Four commands, each setting itself up in .venv/ from nothing: run, demo, test, bench.
VENV := .venv
PY := $(VENV)/bin/python
# The venv runs the image's Python (the Dockerfile's base tag), so tests and the benchmark run
# what users run; python3 where this machine has no such version. pyenv is told which version
# is meant, in case it manages the machine's Pythons.
IMAGE_PYTHON := $(shell sed -n 's|^FROM apify/actor-python:\([0-9.]*\).*|\1|p' Dockerfile)
BASE_PYTHON := $(shell PYENV_VERSION=$(IMAGE_PYTHON) python$(IMAGE_PYTHON) -c 'import sys; print(sys.executable)' 2>/dev/null || command -v python3)
# Named after its Python, so the venv is rebuilt when that changes.
READY := $(VENV)/.ready-$(notdir $(BASE_PYTHON))
STORAGE := storage
INPUT ?= {"mode": "liquidation_map", "symbol": "Binance_BTCUSDT", "range": "1d"}
# Runtime and dev dependencies, read from pyproject.toml so they are listed in one place.
DEPS = $(shell $(BASE_PYTHON) -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; print(' '.join(repr(d) for d in p['dependencies'] + p['optional-dependencies']['dev']))")

.PHONY: run demo test lint bench clean

$(READY): pyproject.toml
	$(BASE_PYTHON) -m venv --clear $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check $(DEPS)
	touch $(READY)

# SANDBOX=1 runs the input against the bundled CoinGlass sandbox instead: no key, no network.
run: $(READY)
	$(PY) scripts/local_run.py $(if $(filter 1,$(SANDBOX)),--sandbox) '$(INPUT)' $(STORAGE)

demo: $(READY)
	$(PY) scripts/demo.py

lint: $(READY)
	$(PY) -m ruff check coinglass_liquidation_map tests sandbox scripts bench
	$(PY) -m ruff format --check coinglass_liquidation_map tests sandbox scripts bench
	$(PY) -m mypy coinglass_liquidation_map tests sandbox scripts bench

# Two workers, as this machine has two cores: the process-level tests spend most of their time
# starting Python, which runs side by side.
test: lint
	$(PY) -m pytest -q -n 2

# A few minutes: the actor against its floor, side by side; prints the table, writes BENCHMARKS.md.
bench: $(READY)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) $(STORAGE) .mypy_cache .ruff_cache
