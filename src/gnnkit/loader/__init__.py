"""Loaders: batches of small graphs (``DataLoader``), sampled neighbourhoods (``NeighborLoader``)
and Cluster-GCN's METIS clusters (``ClusterData``, ``ClusterLoader``; ``DiskClusterData`` for a graph
kept on disk)."""
from gnnkit.loader.cluster import ClusterData, ClusterLoader
from gnnkit.loader.dataloader import DataLoader
from gnnkit.loader.disk import DiskClusterData
from gnnkit.loader.neighbor import NeighborLoader

__all__ = ["ClusterData", "ClusterLoader", "DataLoader", "DiskClusterData", "NeighborLoader"]
