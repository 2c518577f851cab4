# Three commands, each setting itself up in .venv/ from nothing: run, demo, test.
VENV := .venv
PY := $(VENV)/bin/python
READY := $(VENV)/.ready
STORAGE := storage
INPUT ?= {"mode": "liquidation_map", "symbol": "Binance_BTCUSDT", "range": "1d"}
# Runtime and dev dependencies, read from pyproject.toml so they are listed in one place.
DEPS = $(shell python3 -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; print(' '.join(repr(d) for d in p['dependencies'] + p['optional-dependencies']['dev']))")

.PHONY: run demo test lint clean

$(READY): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check $(DEPS)
	touch $(READY)

run: $(READY)
	mkdir -p $(STORAGE)/key_value_stores/default
	printf '%s' '$(INPUT)' > $(STORAGE)/key_value_stores/default/INPUT.json
	APIFY_LOCAL_STORAGE_DIR=$(STORAGE) CRAWLEE_PURGE_ON_START=1 $(PY) -m src
	@$(PY) sandbox/show_items.py $(STORAGE)

demo: $(READY)
	$(PY) sandbox/demo.py

lint: $(READY)
	$(PY) -m ruff check src tests sandbox
	$(PY) -m ruff format --check src tests sandbox
	$(PY) -m mypy src tests sandbox

test: lint
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) $(STORAGE) .mypy_cache .ruff_cache
