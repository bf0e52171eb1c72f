"""experiments.data.gin_features: the GIN paper's node inputs (Xu et al. 2019, Section 7) for TU data,
kept with the experiments rather than in the dataset reader."""
import pytest
import torch

from gnnkit.datasets import TUDataset
from gnnkit.experiments.data import gin_features
from gnnkit.transforms import Constant, Degree, OneHotDegree, OneHotNodeLabels


def _load(root, name):
    try:
        return TUDataset(root, name)
    except FileNotFoundError as err:
        pytest.skip(f"{name} absent from the data folder: {err}")


@pytest.mark.parametrize("name, kind, width", [("MUTAG", OneHotNodeLabels, 7), ("IMDB-BINARY", OneHotDegree, 136),
                                               ("REDDIT-BINARY", Constant, 1)])
def test_gin_features_per_kind_of_dataset(data_root, name, kind, width):
    ds = _load(data_root, name)
    transform = gin_features(ds)
    assert isinstance(transform, kind)
    g = transform(ds[0])
    assert g.x.shape == (ds[0].num_nodes, width)
    assert torch.equal(g.x.sum(1), torch.ones(g.num_nodes))   # one-hot rows (a constant 1 for REDDIT)


def test_mutag_gin_features_are_one_hot_node_labels(data_root):
    ds = _load(data_root, "MUTAG")
    g = gin_features(ds)(ds[0])
    assert torch.equal(g.x.argmax(1), torch.tensor([ds.node_label_values.index(v) for v in ds[0].node_label]))


def test_imdb_gin_features_are_one_hot_in_degree(data_root):
    ds = _load(data_root, "IMDB-BINARY")
    g = gin_features(ds)(ds[0])
    assert ds.max_degree() == 135
    assert torch.equal(g.x.argmax(1), torch.bincount(ds[0].edge_index[1], minlength=g.num_nodes))


def test_gin_degree_gives_every_social_set_the_degree_and_leaves_the_bio_sets_as_gin(data_root):
    # transform='gin-degree' (the 'fair' social entries, beside Errica et al.'s "SOCIAL + degree" numbers)
    from gnnkit.experiments import get

    for name in ("REDDIT-BINARY", "IMDB-BINARY"):
        ds = _load(data_root, name)
        transform = gin_features(ds, "degree")
        assert isinstance(transform, Degree)
        deg = torch.bincount(ds[0].edge_index[1], minlength=ds[0].num_nodes).float()
        assert torch.equal(transform(ds[0]).x.view(-1), deg)
    assert isinstance(gin_features(_load(data_root, "MUTAG"), "degree"), OneHotNodeLabels)
    assert get("baseline-reddit-b").transform == get("gin-fair-imdb-b").transform == "gin-degree"
    assert get("gin0-reddit-b").transform == get("gin0-collab").transform == get("baseline-nci1").transform == "gin"
    with pytest.raises(ValueError, match="social must be 'gin' or 'degree'"):
        gin_features(ds, "two")


def test_a_graph_entry_with_an_unknown_transform_is_refused_by_name(data_root):
    from gnnkit.experiments import get
    from gnnkit.experiments.data import load_data

    exp = get("gin0-mutag")
    bad = exp.__class__(**{**exp.__dict__, "transform": "onehot"})
    with pytest.raises(ValueError, match=r"gin0-mutag: graph classification needs a feature transform, one of "
                                         r"\('gin', 'gin-degree'\) \(got transform='onehot'\)"):
        load_data(bad, data_root)
