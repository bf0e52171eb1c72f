"""experiments/graph_transformer.py: the entries build from their tasks and train on the real data."""
import pytest

from gnnkit.experiments import get
from gnnkit.experiments.graph import GIN_GIVEN_TRAIN
from gnnkit.experiments.run import run


def test_mutag_entries_share_gin_mutags_protocol():
    gin = get("gin-mutag")
    for name in ("graph-transformer-mutag", "graph-transformer-rw-mutag"):
        e = get(name)
        assert (e.task, e.protocol, e.transform, e.batch_size) == (gin.task, gin.protocol, gin.transform, gin.batch_size)
        assert e.train == GIN_GIVEN_TRAIN


@pytest.mark.parametrize("name", ["graph-transformer-mutag", "graph-transformer-rw-mutag"])
def test_mutag_two_epochs_end_to_end(name, data_root):
    row = run(get(name).override(epochs=2), seed=0, root=data_root, quiet=True)
    assert row["epochs"] == 2 and 0.0 <= row["test"] <= 1.0


@pytest.mark.slow    # ~30 s: the dense eigendecomposition of Cora's 2,708-node Laplacian
def test_cora_sparse_two_epochs_end_to_end(data_root):
    row = run(get("graph-transformer-sparse-cora").override(epochs=2), seed=0, root=data_root, quiet=True)
    assert row["epochs"] == 2 and 0.0 <= row["test"] <= 1.0
