"""Each rank's share of the training batches.

DistributedDataParallel all-reduces gradients once per backward pass, so every rank must take the
same number of steps per epoch, or the ranks with more steps wait forever for the others. The
shares are therefore equal:

- Cluster-GCN: rank ``r`` of ``W`` owns clusters ``r, r + W, r + 2W, ...``; the number of clusters
  must be a multiple of ``W`` (otherwise the error says which counts work).
- Neighbour sampling: rank ``r`` owns seeds ``r, r + W, ...`` of the training nodes, cut to
  ``floor(n / W)`` each (at most ``W - 1`` training nodes are left out of the epoch).
"""
from __future__ import annotations

from gnnkit.loader import ClusterLoader, NeighborLoader


def shard_loader(loader, rank: int, world_size: int):
    """The loader that yields rank ``rank``'s equal share of ``loader``'s batches (see the module docstring).

    Example::

        loader = shard_loader(ClusterLoader(ClusterData(g, 128), batch_size=16, shuffle=True), rank, 4)
    """
    if not 0 <= rank < world_size:
        raise ValueError(f"rank must be in [0, {world_size}) (got {rank})")
    if world_size == 1:
        return loader
    if isinstance(loader, ClusterLoader):
        clusters = loader.clusters
        if clusters.numel() % world_size:
            raise ValueError(f"{clusters.numel()} clusters do not split evenly over {world_size} processes; use a "
                             f"number of processes that divides {clusters.numel()} (or change num_parts)")
        return ClusterLoader(loader.data, loader.batch_size, loader.shuffle, clusters=clusters[rank::world_size],
                             generator=loader.generator)
    if isinstance(loader, NeighborLoader):
        seeds = loader.input_nodes
        share = seeds.numel() // world_size
        if share == 0:
            raise ValueError(f"{seeds.numel()} seed nodes cannot be shared by {world_size} processes")
        return NeighborLoader(loader.graph, loader.num_neighbors, loader.batch_size, loader.shuffle,
                              input_nodes=seeds[rank::world_size][:share], replace=loader.replace,
                              drop_last=loader.drop_last, generator=loader.generator)
    raise TypeError(f"distributed training shards a ClusterLoader or a NeighborLoader (got {type(loader).__name__}); "
                    "run a cluster-gcn-* or sage-sampled-* experiment")
