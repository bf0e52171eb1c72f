"""Fuzzing every file reader (tests/fuzz/harness.py): mutated copies of the real files either read back,
or raise gnnkit's own error naming the file; never a bare numpy / torch / pickle error, a hang, or a
runaway allocation. The fast profile runs a few cases per reader; `pytest -m slow tests/fuzz` many."""
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.harness import OPS, READERS, run_case

FAST = int(os.environ.get("GNNKIT_FUZZ_FAST", "4"))
SLOW = int(os.environ.get("GNNKIT_FUZZ_SLOW", "150"))


def _fuzz(reader, data_root, cases: int) -> None:
    """``cases`` hypothesis-drawn mutations of ``reader``'s files; none may end 'bare'."""
    @settings(max_examples=cases, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(op=st.sampled_from(OPS), seed=st.integers(0, 2**32 - 1))
    def case(op, seed):
        outcome, detail = run_case(reader, data_root, op, seed)
        assert outcome != "bare", detail

    case()


@pytest.mark.parametrize("reader", READERS, ids=[r.name for r in READERS])
def test_mutated_files_read_back_or_raise_an_error_naming_the_file(reader, data_root):
    _fuzz(reader, data_root, FAST)


@pytest.mark.slow
@pytest.mark.parametrize("reader", READERS, ids=[r.name for r in READERS])
def test_many_mutations_slow_profile(reader, data_root):
    _fuzz(reader, data_root, SLOW)
