"""Loaders: batches of small graphs (``DataLoader``)."""
from gnnkit.loader.dataloader import DataLoader

__all__ = ["DataLoader"]
