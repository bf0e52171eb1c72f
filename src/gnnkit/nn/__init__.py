"""Graph neural network layers."""
from gnnkit.nn.message_passing import AGGREGATORS, MessagePassing
from gnnkit.nn.spectral import GCNConv

__all__ = ["AGGREGATORS", "MessagePassing", "GCNConv"]
