# calcstats developer commands. Each target sets up .venv itself.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test example lint docs bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e ".[dev,docs]"
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m ruff check calcstats tests examples benchmarks docs/scripts
	$(PY) -m ruff format --check calcstats tests examples benchmarks docs/scripts
	$(PY) -m mypy calcstats
	MPLBACKEND=Agg $(PY) -m pytest

example: $(STAMP)
	MPLBACKEND=Agg $(PY) examples/cohort_study.py

lint: $(STAMP)
	$(PY) -m ruff check calcstats tests examples benchmarks docs/scripts
	$(PY) -m ruff format --check calcstats tests examples benchmarks docs/scripts

docs: $(STAMP)
	MPLBACKEND=Agg $(PY) docs/scripts/validation.py
	MPLBACKEND=Agg $(PY) docs/scripts/build_pages.py
	$(VENV)/bin/mkdocs build --strict

bench: $(STAMP)
	MPLBACKEND=Agg $(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) results site .pytest_cache
