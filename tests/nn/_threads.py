"""One intra-op thread for test modules that run many tiny tensors.

On a machine whose cores are busy with other work, two OpenMP threads spinning on
[12, 4] tensors make each op ~100x slower (a 12-node PGC layer call: 144 ms with 2
threads, under 1 ms with 1). Import the fixture into a test module to use it:
``from tests.nn._threads import one_thread  # noqa: F401``.
"""
import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
