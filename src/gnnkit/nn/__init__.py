"""Graph neural network layers."""
from gnnkit.nn.autoencoder import GAE, VGAE, InnerProductDecoder
from gnnkit.nn.diffpool import DenseSAGEConv, DiffPool, diff_pool, metis_assignment
from gnnkit.nn.diffusion import DiffusionConv
from gnnkit.nn.gat import GATConv
from gnnkit.nn.gin import GINConv, GINEConv
from gnnkit.nn.message_passing import AGGREGATORS, MessagePassing
from gnnkit.nn.mpnn import MPNNConv, Set2Set
from gnnkit.nn.nn4g import NN4GConv
from gnnkit.nn.pgc import PGCConv
from gnnkit.nn.pool import READOUTS, global_add_pool, global_max_pool, global_mean_pool, global_pool
from gnnkit.nn.recurrent import GatedGraphConv, RecurrentGNN, RecurrentInfo
from gnnkit.nn.sage import SAGEConv
from gnnkit.nn.spectral import ChebConv, GCNConv, SpectralConv
from gnnkit.nn.attention import MultiHeadAttention
from gnnkit.nn.graph_transformer import GraphTransformerConv
from gnnkit.nn.transformer import AddNorm, PositionalEncoding, PositionWiseFFN, TransformerDecoderBlock, TransformerEncoderBlock
from gnnkit.nn.temporal import NodeLayerNorm, STConvBlock, TemporalConv, graph_conv_over_time, repeat_adj

__all__ = ["AGGREGATORS", "MessagePassing", "GCNConv",
           "RecurrentGNN", "RecurrentInfo", "GatedGraphConv", "SpectralConv", "ChebConv",
           "NN4GConv", "DiffusionConv", "PGCConv", "MPNNConv", "Set2Set", "SAGEConv", "GATConv", "GINConv", "GINEConv",
           "READOUTS", "global_pool", "global_add_pool", "global_mean_pool", "global_max_pool"]
__all__ += ["GAE", "VGAE", "InnerProductDecoder"]
__all__ += ["TemporalConv", "STConvBlock", "NodeLayerNorm", "graph_conv_over_time", "repeat_adj"]
__all__ += ["MultiHeadAttention", "GraphTransformerConv", "AddNorm", "PositionalEncoding", "PositionWiseFFN",
            "TransformerDecoderBlock", "TransformerEncoderBlock"]
