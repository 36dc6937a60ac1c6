# The two commands: `make demo` and `make test`. Both create .venv on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip

.PHONY: demo test test-slow bench coverage clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml setup.py src/wengert/core/_speedups.c | $(BIN)/python
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml setup.py src/wengert/core/_speedups.c | $(BIN)/python
	$(PIP) install --quiet -e ".[test]"
	touch $@

$(VENV)/.installed-bench: pyproject.toml setup.py src/wengert/core/_speedups.c | $(BIN)/python
	$(PIP) install --quiet -e ".[bench]"
	touch $@

demo: $(VENV)/.installed
	$(BIN)/python examples/demo.py

# The suite runs twice: on the C hot paths the install built, and on their pure-Python
# reference (what a machine without a C compiler runs).
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q -m "not slow"
	WENGERT_PURE_PYTHON=1 $(BIN)/python -m pytest -q -m "not slow" -p no:cacheprovider

test-slow: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q -m slow

bench: $(VENV)/.installed-bench
	$(BIN)/python -m bench

# Regenerate docs/coverage.md from the rule registry (a test checks it is current).
coverage: $(VENV)/.installed-test
	$(BIN)/python -m wengert._coverage

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .hypothesis src/wengert/core/*.so
