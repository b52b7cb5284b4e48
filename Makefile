# One command sets up the environment (if needed) and runs the main job; one the tests.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup demo test test-fast clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade 'pip<27'
	# torch/torchvision pinned to the builds that install together here (DESIGN.md).
	$(PY) -m pip install -q torch==2.14.1 torchvision==0.29.1
	$(PY) -m pip install -q -e '.[lite,tune,tests]'
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(PY) tools/invert.py registry_configs/demo/leaps_r3d.py

test: setup
	$(PY) -m pytest -q tests

test-fast: setup
	$(PY) -m pytest -q -m "not slow" tests

clean:
	rm -rf work_dirs
