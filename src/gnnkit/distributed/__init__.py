"""Multi-process training on ``torch.distributed``: ``gnnkit train -e NAME --nproc N`` starts N
processes through torchrun (gloo on CPU); each trains on its own share of the METIS clusters or
of the seed nodes, gradients are all-reduced by ``DistributedDataParallel``, rank 0 writes the
checkpoints, logs and result. See ``launch`` (the command line) and ``worker`` (one process)."""
from gnnkit.distributed.launch import add_arguments, launch, torchrun_command
from gnnkit.distributed.shard import shard_loader

__all__ = ["add_arguments", "launch", "shard_loader", "torchrun_command"]
