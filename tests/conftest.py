"""Shared fixtures: where the real datasets are, and hypothesis settings."""
import os
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, settings

# The tests run many tiny tensors: one intra-op thread avoids OpenMP spin costs
# (measured ~100x per op on a busy 2-core machine). Benchmarks set their own.
torch.set_num_threads(1)

settings.register_profile("ci", max_examples=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")

_REPO = Path(__file__).resolve().parents[1]

# No test touches the network: datasets are never downloaded unless a test configures a file://
# mirror (GNNKIT_MIRROR) and clears this itself. Subprocesses inherit it.
os.environ["GNNKIT_OFFLINE"] = "1"


def find_data_root() -> Path | None:
    """``$GNNKIT_DATA`` if set, else ``../shared/data`` next to the repo (or /work/shared/data)."""
    candidates = [os.environ.get("GNNKIT_DATA"), _REPO.parent / "shared" / "data", "/work/shared/data"]
    for c in candidates:
        if c and Path(c).is_dir():
            return Path(c)
    return None


@pytest.fixture(scope="session")
def data_root() -> Path:
    root = find_data_root()
    if root is None:
        pytest.skip("real datasets absent: set GNNKIT_DATA to a folder laid out like ../shared/data")
    return root
