"""``gnnkit train -e NAME --nproc N``: the torchrun command that starts the worker processes.

One machine (``--standalone``: torchrun picks a free port and rendezvous locally)::

    gnnkit train -e cluster-gcn-cora --nproc 2

Several machines: the same command on each, with the number of machines, this machine's rank
and one rendezvous endpoint (``host:port`` of any machine, reachable from all)::

    gnnkit train -e cluster-gcn-cora --nproc 4 --nnodes 2 --node-rank 0 --rdzv-endpoint 10.0.0.1:29500
    gnnkit train -e cluster-gcn-cora --nproc 4 --nnodes 2 --node-rank 1 --rdzv-endpoint 10.0.0.1:29500

which runs ``torchrun --nnodes 2 --nproc-per-node 4 --node-rank R --rdzv-backend c10d
--rdzv-endpoint 10.0.0.1:29500 -m gnnkit.distributed.worker ...`` (the worker can be started by
torchrun directly, too).
"""
from __future__ import annotations

import argparse
import subprocess
import sys


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``gnnkit train`` flags of distributed training."""
    g = p.add_argument_group("distributed training (torchrun; gloo on CPU)")
    g.add_argument("--nproc", type=int, help="processes on this machine, each a rank of DistributedDataParallel (default: none, one "
                        "process without torch.distributed)")
    g.add_argument("--nnodes", type=int, default=1, help="machines taking part (default 1)")
    g.add_argument("--node-rank", type=int, default=0, help="this machine's rank among --nnodes (default 0)")
    g.add_argument("--rdzv-endpoint", help="host:port every machine can reach, needed with --nnodes > 1 "
                   "(default: none, --standalone)")
    g.add_argument("--dist-timeout", type=float, default=60.0,
                   help="seconds a collective may wait for the other ranks before failing (default 60)")


def torchrun_command(args) -> list[str]:
    """The command line that starts this machine's ``--nproc`` workers."""
    if args.nproc < 1:
        raise ValueError(f"--nproc must be >= 1 (got {args.nproc})")
    if args.model or args.dataset:
        raise ValueError("--nproc runs a named experiment: pass --experiment NAME (e.g. cluster-gcn-cora), "
                         "not --model/--dataset")
    if not args.experiment:
        raise ValueError("--nproc needs --experiment NAME, e.g. `gnnkit train -e cluster-gcn-cora --nproc 2`")
    cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc-per-node={args.nproc}"]
    if args.nnodes == 1 and not args.rdzv_endpoint:
        cmd.append("--standalone")
    else:
        if not args.rdzv_endpoint:
            raise ValueError(f"--nnodes {args.nnodes} needs --rdzv-endpoint HOST:PORT (one machine's address, "
                             "the same on every machine)")
        cmd += [f"--nnodes={args.nnodes}", f"--node-rank={args.node_rank}", "--rdzv-backend=c10d",
                f"--rdzv-endpoint={args.rdzv_endpoint}"]
    cmd += ["-m", "gnnkit.distributed.worker", "--experiment", args.experiment, "--seed", str(args.seed),
            "--out", str(args.out), "--timeout", str(args.dist_timeout)]
    for flag, value in (("--epochs", args.epochs), ("--root", args.root)):
        if value is not None:
            cmd += [flag, str(value)]
    if args.quiet:
        cmd.append("--quiet")
    return cmd


def launch(args) -> int:
    """Run torchrun and return its exit status (non-zero when any rank failed)."""
    cmd = torchrun_command(args)
    print("running: " + " ".join(cmd[1:]), flush=True)
    return subprocess.call(cmd)
