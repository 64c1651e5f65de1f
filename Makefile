# Quick start: `make demo` (install + simulate KWS on a Cortex-M4) and `make test` (install + run the tests).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev

.PHONY: demo test install clean

# The demo needs only the runtime dependencies; the tests add LiteRT, TFLite Micro, Dask, hypothesis, ...
demo: $(RUNTIME)
	$(BIN)/tinysim run stm32l4r5 kws --per-layer --rate 1

test: $(DEV)
	$(BIN)/python -m pytest -q -n 2

install: $(RUNTIME)

$(VENV)/bin/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "tinysim needs Python >= 3.10"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME): pyproject.toml $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUNTIME)

$(DEV): pyproject.toml $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(DEV) $(RUNTIME)

clean:
	rm -rf $(VENV) build *.egg-info
