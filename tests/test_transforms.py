"""transforms.py: feature transforms computed by hand."""
import pytest
import torch

from gnnkit import Graph
from gnnkit.transforms import Compose, Constant, Degree, NormalizeFeatures, OneHotDegree, OneHotNodeLabels


def _path3(**kw):
    # 0 - 1 - 2, both directions; in-degrees [1, 2, 1]
    return Graph(edge_index=torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]), num_nodes=3, **kw)


def test_normalize_features_rows_sum_to_one_and_zero_rows_stay_zero():
    g = _path3(x=torch.tensor([[1.0, 3.0], [0.0, 0.0], [2.0, 2.0]]))
    out = NormalizeFeatures()(g)
    # [1, 3] / 4 = [0.25, 0.75]; [0, 0] stays; [2, 2] / 4 = [0.5, 0.5]
    assert out.x.tolist() == [[0.25, 0.75], [0.0, 0.0], [0.5, 0.5]]
    assert g.x[0].tolist() == [1.0, 3.0]  # a new graph: the input is untouched
    assert torch.equal(out.edge_index, g.edge_index)


def test_one_hot_degree_hand_computed():
    out = OneHotDegree(max_degree=3)(_path3())
    assert out.x.tolist() == [[0, 1, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0]]


def test_degree_is_one_float_column_of_in_degrees():
    assert Degree()(_path3()).x.tolist() == [[1.0], [2.0], [1.0]]
    g = _path3(x=torch.tensor([[5.0], [6.0], [7.0]]))
    assert Degree(cat=True)(g).x.tolist() == [[5.0, 1.0], [6.0, 2.0], [7.0, 1.0]]


def test_one_hot_degree_too_small_says_how_to_fix():
    with pytest.raises(ValueError, match="node degree 2 is out of range for 2 one-hot columns"):
        OneHotDegree(max_degree=1)(_path3())


def test_one_hot_node_labels_uses_value_order():
    g = _path3(extra={"node_label": torch.tensor([7, 3, 7])}, levels={"node_label": "node"})
    out = OneHotNodeLabels([3, 5, 7])(g)
    assert out.x.tolist() == [[0, 0, 1], [1, 0, 0], [0, 0, 1]]
    with pytest.raises(ValueError, match=r"node labels \[7\] are not among values"):
        OneHotNodeLabels([3, 5])(g)
    with pytest.raises(ValueError, match="reads node field 'tag'"):
        OneHotNodeLabels([3], key="tag")(g)


def test_constant_and_compose_with_cat():
    g = _path3(x=torch.tensor([[1.0], [2.0], [3.0]]))
    out = Compose([Constant(0.5, cat=True), OneHotDegree(2, cat=True)])(g)
    assert out.x.tolist() == [[1, 0.5, 0, 1, 0], [2, 0.5, 0, 0, 1], [3, 0.5, 0, 1, 0]]
    assert Constant()(_path3()).x.tolist() == [[1.0], [1.0], [1.0]]


def test_normalize_features_needs_x():
    with pytest.raises(ValueError, match="needs node features x"):
        NormalizeFeatures()(_path3())
