"""Fuzzing every file reader: mutate a real file in a temporary copy and classify what the reader does.

Each case copies a reader's real files (the shared data folder, or the toy PPI folder) into a temporary
folder, applies one mutation to one file, and runs the reader under a time limit. Outcomes:

- ``same``: the reader returned the same data as from the untouched files;
- ``valid``: it returned other data that passed gnnkit's validation (the mutation changed a value
  into another legal value, e.g. a node label);
- ``clear``: it raised gnnkit's own error (``DatasetFileError``, ``DataAbsent``, ``CheckpointError``)
  whose message names the mutated file (or its folder);
- ``bare``: anything else (a numpy / torch / pickle / Python error, or gnnkit's error without the
  file's name), a time-out, or memory growth past ``MEMORY_BOUND``. The property is: no ``bare``.

``python -m tests.fuzz.harness --cases 1000`` runs every reader and prints the counts (the slow
profile); the test suite runs a few cases per reader.
"""
from __future__ import annotations

import argparse
import resource
import shutil
import signal
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from gnnkit.datasets.errors import DataAbsent, DatasetFileError
from gnnkit.train.checkpoint import CheckpointError

TIME_LIMIT_S = 30
MEMORY_BOUND_MB = 2048
OWN_ERRORS = (DatasetFileError, DataAbsent, CheckpointError)
OPS = ("flip", "truncate", "swap_lines", "huge", "negative", "nan", "wrong_type", "delete_line", "empty")


def mutate(data: bytes, op: str, rng: np.random.Generator) -> bytes:
    """One mutation of a file's bytes."""
    if op == "empty":
        return b""
    if op == "flip" and data:
        arr = bytearray(data)
        for _ in range(int(rng.integers(1, 4))):
            i = int(rng.integers(len(arr)))
            arr[i] ^= 1 << int(rng.integers(8))
        return bytes(arr)
    if op == "truncate":
        return data[: int(rng.integers(len(data) + 1))]
    lines = data.split(b"\n")
    if op in ("swap_lines", "delete_line") and len(lines) > 1:
        i, j = (int(v) for v in rng.integers(len(lines), size=2))
        if op == "swap_lines":
            lines[i], lines[j] = lines[j], lines[i]
        else:
            del lines[i]
        return b"\n".join(lines)
    # replace one number token of a text file
    tokens = [(li, ti) for li, line in enumerate(lines[:5000]) for ti, tok in enumerate(line.split(b" "))
              if tok.strip().lstrip(b"-").replace(b".", b"", 1).isdigit()]
    if not tokens:
        return mutate(data, "flip", rng)
    li, ti = tokens[int(rng.integers(len(tokens)))]
    parts = lines[li].split(b" ")
    parts[ti] = {"huge": b"99999999999", "negative": b"-7", "nan": b"NaN", "wrong_type": b"abc"}.get(op, b"0")
    lines[li] = b" ".join(parts)
    return b"\n".join(lines)


@dataclass
class Reader:
    """A reader to fuzz: ``files(root)`` copies its files under ``root`` and returns those that may be
    mutated; ``read(root)`` runs the reader and returns something comparable with ``==`` after
    :func:`fingerprint`."""

    name: str
    files: Callable[[Path], list[Path]]
    read: Callable[[Path], object]


def fingerprint(obj) -> object:
    """A comparable summary of what a reader returned (tensors by value)."""
    if obj is None or isinstance(obj, (str, bytes, int, float, bool, np.generic)):
        return obj
    if isinstance(obj, np.ndarray):
        obj = torch.from_numpy(np.ascontiguousarray(obj))
    if isinstance(obj, torch.Tensor):
        return ("tensor", tuple(obj.shape), obj.dtype, obj.to_dense().double().nan_to_num(1e300).sum().item())
    if isinstance(obj, (list, tuple)):
        return tuple(fingerprint(o) for o in obj)
    if isinstance(obj, dict):
        return tuple(sorted((k, fingerprint(v)) for k, v in obj.items()))
    if hasattr(obj, "keys") and hasattr(obj, "get") and hasattr(obj, "num_nodes"):      # a Graph
        return ("graph", obj.num_nodes, tuple((k, fingerprint(obj.get(k))) for k in sorted(obj.keys())))
    if hasattr(obj, "__len__") and hasattr(obj, "__getitem__"):
        return tuple(fingerprint(obj[i]) for i in range(len(obj)))
    return obj


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout


def run_case(reader: Reader, source_root: Path, op: str, seed: int) -> tuple[str, str]:
    """``(outcome, detail)`` of one mutation of one of ``reader``'s files."""
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        clean = tmp / "clean"
        files = reader.files(clean, source_root)
        expected = fingerprint(reader.read(clean))
        bad = tmp / "bad"
        shutil.copytree(clean, bad, symlinks=False)
        target = bad / files[int(rng.integers(len(files)))].relative_to(clean)
        target.write_bytes(mutate(target.read_bytes(), op, rng))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        old = signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(TIME_LIMIT_S)
        try:
            got = fingerprint(reader.read(bad))
            outcome = ("same", "") if got == expected else ("valid", "")
        except _Timeout:
            outcome = ("bare", f"timed out after {TIME_LIMIT_S} s")
        except OWN_ERRORS as err:
            named = target.name in str(err) or str(target.parent) in str(err)
            outcome = ("clear", str(err)) if named else ("bare", f"{type(err).__name__} without the file: {err}")
        except Exception as err:     # noqa: BLE001 -- classifying every escape is the point
            outcome = ("bare", f"{type(err).__name__}: {err}")
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)
        grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        if grown_mb > MEMORY_BOUND_MB:
            outcome = ("bare", f"memory grew {grown_mb:.0f} MB")
        return outcome[0], f"{target.relative_to(bad)} {op}: {outcome[1]}"[:300]


# ------------------------------------------------------------------ the readers
def _copy(names: list[str]):
    def files(root: Path, source: Path) -> list[Path]:
        out = []
        for name in names:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source / name, root / name)
            out.append(root / name)
        return out

    return files


def _planetoid(root: Path):
    from gnnkit.datasets.planetoid import read_planetoid

    g, num_train = read_planetoid(root / "planetoid", "cora")
    return g, num_train


def _tu(fmt: str):
    def read(root: Path):
        from gnnkit.datasets.tu import TUDataset

        return list(TUDataset(root, "MUTAG", format=fmt))

    return read


def _folds(root: Path):
    from gnnkit.datasets.tu import TUDataset

    return TUDataset(root, "MUTAG").folds()


def _traffic(root: Path):
    from gnnkit.datasets.traffic import los_loop

    s = los_loop(root)
    return s.signal, s.graph


def _sentence_files(root: Path, source: Path) -> list[Path]:
    """The first 3,000 lines of the real fra.txt (the whole file takes seconds per read)."""
    path = root / "fra-eng" / "fra.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(source / "fra-eng" / "fra.txt", "rb") as f:
        path.write_bytes(b"".join(line for _, line in zip(range(3000), f)))
    return [path]


def _sentences(root: Path):
    from gnnkit.datasets.sentences import SentencePairs

    return SentencePairs(root, num_examples=None).stats()


def _ppi_files(root: Path, source: Path) -> list[Path]:
    from tests.datasets.ppi_files import write_ppi

    write_ppi(root)
    return sorted((root / "ppi").iterdir())


def _ppi(root: Path):
    from gnnkit.datasets.ppi import PPI

    return [list(PPI(root, split)) for split in ("train", "val", "test")]


def _checkpoint_files(root: Path, source: Path) -> list[Path]:
    from gnnkit.train.checkpoint import save_checkpoint

    root.mkdir(parents=True, exist_ok=True)
    save_checkpoint({"model": {"w": torch.arange(6.0).view(2, 3)}, "epoch": 3, "history": [{"epoch": 1}]},
                    root / "checkpoint.pt")
    return [root / "checkpoint.pt"]


def _checkpoint(root: Path):
    from gnnkit.train.checkpoint import load_checkpoint

    return load_checkpoint(root / "checkpoint.pt")


MUTAG_RAW = [f"tu/MUTAG/raw/MUTAG_{p}.txt" for p in ("A", "graph_indicator", "graph_labels", "node_labels",
                                                      "edge_labels")]
READERS = [
    Reader("planetoid", _copy([f"planetoid/ind.cora.{p}" for p in ("x", "y", "tx", "ty", "allx", "ally", "graph",
                                                                   "test.index")]), _planetoid),
    Reader("tu-gin-text", _copy(["tu/MUTAG/MUTAG.txt"]), _tu("gin")),
    Reader("tu-raw", _copy(MUTAG_RAW), _tu("tu")),
    Reader("fold-files", _copy(["tu/MUTAG/MUTAG.txt"] + [f"tu/MUTAG/10fold_idx/{s}_idx-{k}.txt"
                                                         for s in ("train", "test") for k in range(1, 11)]), _folds),
    Reader("traffic", _copy(["traffic/los-loop/los_speed.csv", "traffic/los-loop/los_adj.csv"]), _traffic),
    Reader("sentences", _sentence_files, _sentences),
    Reader("ppi", _ppi_files, _ppi),
    Reader("checkpoint", _checkpoint_files, _checkpoint),
]


def main(argv=None) -> int:
    from tests.conftest import find_data_root

    parser = argparse.ArgumentParser(description="fuzz gnnkit's file readers; print outcome counts per reader")
    parser.add_argument("--cases", type=int, default=100, help="cases per reader")
    parser.add_argument("--readers", nargs="*", help="reader names (default: all)")
    args = parser.parse_args(argv)
    root = find_data_root()
    total_bare = 0
    for reader in READERS:
        if args.readers and reader.name not in args.readers:
            continue
        counts, examples = Counter(), []
        for case in range(args.cases):
            outcome, detail = run_case(reader, root, OPS[case % len(OPS)], seed=case)
            counts[outcome] += 1
            if outcome == "bare" and len(examples) < 5:
                examples.append(detail)
        total_bare += counts["bare"]
        print(f"{reader.name:<12} cases {args.cases:>5}  " + "  ".join(f"{k} {counts[k]}" for k in
                                                                       ("same", "valid", "clear", "bare")))
        for e in examples:
            print(f"    bare: {e}")
    return 1 if total_bare else 0


if __name__ == "__main__":
    raise SystemExit(main())
