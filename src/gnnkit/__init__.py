"""gnnkit: graph neural networks on PyTorch alone."""
from gnnkit.graph import Batch, Graph

__version__ = "0.1.0"
__all__ = ["Graph", "Batch", "__version__"]
