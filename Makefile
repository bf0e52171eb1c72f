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

# Regenerates docs/benchmarks.md's header and its whole-epoch section (issue 17; about 15 minutes);
# the file's other sections are each rewritten by the benchmark script named above them.
bench: $(STAMP)
	$(PY) -m pip install -q -c constraints.txt -e ".[bench]"
	OMP_NUM_THREADS=1 $(PY) benchmarks/bench_epochs.py --threads 1 2 --write docs/benchmarks.md

clean:
	rm -rf $(VENV) out build *.egg-info src/*.egg-info
