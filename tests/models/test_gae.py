"""GAE / VGAE models (models/gae.py): the encoder, and a trained GAE on a planted partition."""
import torch

from gnnkit.datasets.link_split import link_split
from gnnkit.datasets.synthetic import planted_partition
from gnnkit.models import build_model
from gnnkit.models.gae import GCNEncoder, gcn_gae, gcn_vgae
from gnnkit.nn import GCNConv
from gnnkit.tasks.link import LinkPrediction
from gnnkit.train import TrainConfig, fit, seed_everything


def test_encoder_is_two_gcn_layers_without_bias():
    torch.manual_seed(0)
    enc = GCNEncoder(5, 4, 3, variational=True)
    g = planted_partition(2, 5, 0.8, 0.1, num_features=5, seed=0, num_train_per_class=2)
    mu, logstd = enc(g.x, g.edge_index)
    h = torch.relu(enc.conv1(g.x, g.edge_index))
    torch.testing.assert_close(mu, enc.conv_mu(h, g.edge_index))
    torch.testing.assert_close(logstd, enc.conv_logstd(h, g.edge_index))
    assert all(isinstance(c, GCNConv) and c.bias is None for c in (enc.conv1, enc.conv_mu, enc.conv_logstd))
    assert mu.shape == (10, 3)


def test_build_model_names():
    assert isinstance(build_model("gae", in_channels=4).encoder, GCNEncoder)
    vgae = build_model("vgae", in_channels=4)
    assert vgae.variational and vgae.encoder.conv_logstd is not None
    assert gcn_gae(4).encoder.conv_mu.out_channels == 16 and gcn_vgae(4).encoder.conv1.out_channels == 32


def test_trained_gae_separates_planted_partition_edges():
    # 4 blocks of 25 nodes, p_in 0.4, p_out 0.005: held-out edges are mostly inside blocks, non-edges
    # mostly across them, which the embeddings learn from the training edges (features carry the blocks
    # too). Seeds 0-2 of both models measured 0.923-0.934.
    g = planted_partition(4, 25, 0.4, 0.005, num_features=8, seed=0, num_train_per_class=5)
    task = LinkPrediction(g, link_split(g.edge_index, g.num_nodes, seed=0), probe=False)
    for make in (gcn_gae, gcn_vgae):
        seed_everything(0)
        result = fit(make(**task.model_args()), task, TrainConfig(epochs=60, lr=0.02, quiet=True))
        assert result.test["auc"] > 0.9, make.__name__
