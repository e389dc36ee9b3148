# klarjournal: `make run` and `make test` set everything up on a fresh clone.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test test-fast test-browser test-slow bench service-load soak lexicon-check model clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# The CPU wheel of torch lies on this machine; a plain `torch` would pull CUDA packages.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: install
	$(BIN)/klarjournal serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest -q -n 2
	$(BIN)/python -m pytest -q -m browser

test-fast: install
	$(BIN)/python -m pytest -q -x

test-browser: install
	$(BIN)/python -m pytest -q -m browser

test-slow: install
	$(BIN)/python -m pytest -q -m slow

bench: install
	$(BIN)/klarjournal bench

# The service under load (1/8/32 clients, 60 s each), with the context model then without.
service-load: install
	$(BIN)/python bench/service_load.py --seconds 60
	$(BIN)/python bench/service_load.py --seconds 60 --lexicon-only

# 30 minutes of steady load, RSS sampled every 30 s; not in CI. SOAK_ARGS=--lexicon-only etc.
soak: install
	$(BIN)/python bench/service_soak.py --minutes 30 $(SOAK_ARGS)

lexicon-check: install
	$(BIN)/klarjournal lexicon check

model: install
	$(BIN)/klarjournal train

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
