"""tests/fuzz/catalogue.py: the outcome classes, and the Graph/layer part of the catalogue holds its targets."""
import pytest

from tests.fuzz import catalogue
from tests.fuzz.catalogue import Case, classify


def _raise(err):
    def run(tmp):
        raise err
    return run


@pytest.mark.parametrize("run, expect, outcome", [
    (lambda t: None, "", "handled"),
    (_raise(AssertionError("wrong")), "", "silent"),
    (_raise(ValueError("x is node-level and must have 3 rows")), "node-level", "clear"),
    (_raise(ValueError("something went wrong")), "node-level", "unclear"),
    (_raise(RuntimeError("expected m1 and m2 to have the same dtype")), "dtype", "traceback"),
    (_raise(IndexError("index 5 is out of bounds")), "", "traceback"),
    (_raise(catalogue.CliError(2, ["usage: gnnkit", "gnnkit: error: x"])), "x", "unclear"),
    (_raise(catalogue.CliError(2, ["gnnkit: error: --epochs must be positive"])), "--epochs", "clear"),
])
def test_classify_reads_the_outcome(tmp_path, run, expect, outcome):
    assert classify(Case("g", "n", run, expect), tmp_path)[0] == outcome


def test_graph_and_task_cases_have_no_silent_result_and_no_traceback(tmp_path):
    rows = catalogue.run_all(catalogue._graph_cases() + catalogue._task_cases())
    bad = [(c.name, o, m) for c, o, m in rows if o in ("silent", "traceback", "unclear")]
    assert bad == []


def test_the_table_counts_every_outcome():
    rows = [(Case("g", "a", None), "clear", "m"), (Case("g", "b", None), "silent", "")]
    text = catalogue.table(rows)
    assert "| clear | 1 |" in text and "| silent | 1 | 0 |" in text and "| g | b | silent |" in text
