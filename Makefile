# The two commands of the README. Each one sets up .venv on a fresh machine first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/gnnkit train

test: $(STAMP)
	$(PY) -m pytest -m "not slow" -p no:cacheprovider

bench: $(STAMP)
	$(PY) -m pip install -q -c constraints.txt -e ".[bench]"
	for b in ops layers runs; do $(PY) benchmarks/bench_$$b.py || exit 1; done

clean:
	rm -rf $(VENV) out build *.egg-info src/*.egg-info
