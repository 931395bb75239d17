# Two commands for a fresh machine with Python 3.10+ and make:
#   make lab   - install vislab with its notebook extras into .venv and start JupyterLab
#   make test  - install the test extras into .venv and run pytest (tests, doctests, notebooks)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check
LAB_PORT ?= 8888
PYTEST_ARGS ?=
# JupyterLab refuses to start as root unless told; containers and CI machines often are root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab test venv clean bench lint docs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# One stamp per extra: re-installs when pyproject.toml changes.  Alibaba's eas-prediction
# (the official EAS client the tests run against `vislab serve`) pins protobuf <= 3.20.3, which
# onnxruntime and pymilvus refuse, so the test extras get it without its dependencies (see the
# test extra in pyproject.toml).
$(VENV)/.installed-%: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e '.[$*]'
	$(if $(filter test bench dev,$*),$(PIP) install --quiet --no-deps 'eas-prediction==0.36')
	touch $@

venv: $(BIN)/python

lab: $(VENV)/.installed-notebook
	@echo "Starting JupyterLab on http://127.0.0.1:$(LAB_PORT)/lab (the URL with its token follows)"
	$(BIN)/jupyter lab --ip=127.0.0.1 --port=$(LAB_PORT) --no-browser $(ROOT_FLAG) \
		--ServerApp.root_dir=notebooks

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest tests notebooks --doctest-modules vislab --nbval-lax \
		--durations=15 $(PYTEST_ARGS)

bench: $(VENV)/.installed-bench
	for script in benchmarks/bench_*.py; do $(BIN)/python $$script || exit 1; done

# The docs: API reference from the docstrings and every notebook as a page (warnings fail).
docs: $(VENV)/.installed-docs
	rm -rf docs/_build docs/api/generated
	$(BIN)/python -m sphinx -W --keep-going -b html docs docs/_build/html
	@echo "docs built: docs/_build/html/index.html"

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check vislab tests benchmarks tools

clean:
	rm -rf $(VENV) .pytest_cache docs/_build docs/api/generated docs/notebooks
