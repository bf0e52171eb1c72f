"""One rank of distributed training (started by torchrun; see ``launch``).

Each rank builds the experiment's task, keeps its own share of the training batches
(:func:`gnnkit.distributed.shard_loader`), wraps the model in ``DistributedDataParallel`` (which
broadcasts rank 0's initial weights and all-reduces the gradients in every backward pass, so the
ranks' weights stay identical) and runs the one training loop, :func:`gnnkit.train.fit`. Rank 0
writes ``OUT/<experiment>/metrics.jsonl``, ``checkpoint.pt`` and ``result.json``; every rank prints
its epochs' losses and, at the end, a checksum of its parameters.

A rank that dies (or a machine that becomes unreachable) makes the collectives of the others fail:
gloo reports the closed connection at once, and a peer that stops answering fails the collective
after ``--timeout`` seconds. The surviving ranks then print one line saying so and exit with status 3.

    python -m torch.distributed.run --standalone --nproc-per-node 2 -m gnnkit.distributed.worker -e cluster-gcn-cora
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os
import sys
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist

EXIT_LOST_PEER = 3


def parameter_checksum(model: torch.nn.Module) -> str:
    """blake2b of every parameter's bytes, in ``state_dict`` order."""
    h = hashlib.blake2b(digest_size=8)
    for v in model.state_dict().values():
        h.update(v.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gnnkit.distributed.worker", description=__doc__.splitlines()[0])
    p.add_argument("--experiment", "-e", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int)
    p.add_argument("--out", default="out")
    p.add_argument("--root")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds a collective may wait (default 60)")
    p.add_argument("--quiet", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    from torch.nn.parallel import DistributedDataParallel

    from gnnkit.distributed.shard import shard_loader
    from gnnkit.experiments import get
    from gnnkit.experiments.data import load_data, make_task
    from gnnkit.models import build_model
    from gnnkit.train import fit, seed_everything, write_json

    args = _parser().parse_args(argv)
    if "RANK" not in os.environ:
        print("gnnkit.distributed.worker: RANK is not set; start it through torchrun "
              "(`gnnkit train -e NAME --nproc N`)", file=sys.stderr)
        return 2
    dist.init_process_group("gloo", timeout=timedelta(seconds=args.timeout))
    rank, world = dist.get_rank(), dist.get_world_size()
    try:
        exp = get(args.experiment).override(epochs=args.epochs)
        if exp.task != "sampled":
            raise ValueError(f"{exp.name} trains full-batch; --nproc needs a loader-based experiment "
                             "(cluster-gcn-*, sage-sampled-*)")
        task = make_task(exp, load_data(exp, args.root))
        task.loader = shard_loader(task.loader, rank, world)
        seed_everything(args.seed)              # the same initial weights everywhere (DDP broadcasts rank 0's anyway)
        model = build_model(exp.model, **task.model_args(), **exp.model_args)
        torch.manual_seed(args.seed * 1_000 + rank)   # each rank its own batch order and dropout
        ddp = DistributedDataParallel(model)
        config = exp.train
        if config.decay is not None:            # DDP's parameter names carry a 'module.' prefix
            config = dataclasses.replace(config, decay=tuple(f"module.{d}" for d in config.decay))
        if args.quiet:
            config = dataclasses.replace(config, quiet=True)
        out = Path(args.out) / exp.name
        lead = rank == 0

        def report(epoch: int, row: dict) -> None:
            print(f"rank {rank}: epoch {epoch} train_loss {row['train_loss']:.4f} "
                  f"val_{exp.metric} {row.get(f'val_{exp.metric}')}", flush=True)

        result = fit(ddp, task, config, log_path=out / "metrics.jsonl" if lead else None,
                     checkpoint_path=out / "checkpoint.pt" if lead else None, callbacks=(report,))
        dist.barrier()
    except (RuntimeError, dist.DistBackendError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        print(f"gnnkit: rank {rank} of {world} lost contact with the other ranks ({first[:200]}); a rank died "
              f"or the network failed, so this rank stops too (collective timeout {args.timeout:g} s)",
              file=sys.stderr, flush=True)
        os._exit(EXIT_LOST_PEER)        # no teardown handshake with peers that are gone
    except ValueError as err:
        print(f"gnnkit: rank {rank}: {err}", file=sys.stderr, flush=True)
        os._exit(2)
    checksum = parameter_checksum(model)
    print(f"rank {rank}: parameters {checksum}", flush=True)
    if lead:
        m = exp.metric
        row = {"experiment": exp.name, "seed": args.seed, "world_size": world, "metric": m,
               "test": result.test.get(m), "val": result.val.get(m), "train": result.train.get(m),
               "test_metrics": result.test, "epochs": result.epochs, "best_epoch": result.best_epoch,
               "seconds": round(result.seconds, 3), "parameters": checksum}
        write_json(row, out / "result.json")
        print(f"epochs: {result.epochs}, {result.seconds:.1f} s on {world} processes; "
              f"test {m}: {result.test.get(m):.4f}; wrote {out / 'result.json'}", flush=True)
    dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
