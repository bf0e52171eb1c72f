"""The ``Dataset`` base shared by every loader, and where data folders are found.

A data root is a folder laid out like ``shared/data`` (``planetoid/``, ``tu/NAME/``,
``traffic/``, ``fra-eng/``). Loaders take ``root=``; without it they use
``$GNNKIT_DATA``, else the user cache folder (``$XDG_CACHE_HOME/gnnkit/data``, by
default ``~/.cache/gnnkit/data``).
"""
from __future__ import annotations

import numbers
import os
from pathlib import Path
from typing import Callable, Sequence

import torch

from gnnkit.datasets.errors import DatasetFileError
from gnnkit.graph import Graph


def default_root() -> Path:
    """``$GNNKIT_DATA`` if set, else the user cache folder for gnnkit data."""
    env = os.environ.get("GNNKIT_DATA")
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "gnnkit" / "data"


def resolve_root(root: str | Path | None) -> Path:
    return default_root() if root is None else Path(root).expanduser()


def require_files(paths: Sequence[Path], dataset: str, hint: str = "") -> None:
    """Raise ``FileNotFoundError`` listing every missing file of ``dataset``."""
    missing = [str(p) for p in paths if not Path(p).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{dataset}: missing file(s) {', '.join(missing)}; put them under the data root "
            f"(root=... / --root / $GNNKIT_DATA){hint}"
        )


def read_text(path: Path) -> str:
    """A text file's content (``.gz`` decompressed), with errors naming the file."""
    import gzip
    import zlib

    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rt", encoding="utf-8") as f:
                return f.read()
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DatasetFileError(path, "file not found") from None
    except (EOFError, OSError, zlib.error) as err:
        raise DatasetFileError(path, f"cannot be read: truncated or corrupted ({err})") from None
    except UnicodeDecodeError as err:
        raise DatasetFileError(path, f"is not UTF-8 text ({err})") from None


class Dataset:
    """A list of graphs: indexable, sliceable by index tensors, with statistics.

    ``dataset[i]`` is a ``Graph`` (after ``transform``, if set); ``dataset[idx]`` with a
    slice, a list, a long tensor of indices or a bool mask is a ``Dataset`` over
    those graphs (sharing them, no copy). ``stats()`` summarises sizes and labels.

    Args:
        graphs: the graphs.
        transform: callable ``Graph -> Graph`` applied on every access.
        name: shown in ``repr`` and ``stats``.

    Example::

        ds = Dataset([g1, g2, g3], name="toy")
        ds[torch.tensor([0, 2])]          # Dataset(toy, 2 graphs)
        ds.stats()["avg_nodes"]
    """

    def __init__(self, graphs: Sequence[Graph], transform: Callable[[Graph], Graph] | None = None,
                 name: str = "dataset"):
        self.graphs = list(graphs)
        self.transform = transform
        self.name = name

    def __len__(self) -> int:
        return len(self.graphs)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def _subset(self, indices: list[int]) -> "Dataset":
        out = Dataset.__new__(type(self))
        out.__dict__.update(self.__dict__)
        out.graphs = [self.graphs[i] for i in indices]
        return out

    def __getitem__(self, idx):
        scalar_tensor = isinstance(idx, torch.Tensor) and idx.dim() == 0 and not idx.is_floating_point() \
            and idx.dtype != torch.bool
        if isinstance(idx, numbers.Integral) or scalar_tensor:
            i = int(idx)
            if not -len(self) <= i < len(self):
                raise IndexError(f"index {i} out of range for {self.name} with {len(self)} graphs")
            g = self.graphs[i]
            return self.transform(g) if self.transform is not None else g
        if isinstance(idx, slice):
            return self._subset(list(range(len(self)))[idx])
        return self._subset(self._indices(idx))

    def _indices(self, idx) -> list[int]:
        t = torch.as_tensor(idx)
        if t.dtype == torch.bool:
            if t.dim() != 1 or t.numel() != len(self):
                raise IndexError(f"bool mask must have shape [{len(self)}] (got {list(t.shape)})")
            return t.nonzero().view(-1).tolist()
        if t.is_floating_point() or t.dim() > 1:
            raise IndexError(f"index must be an int, a slice, a 1-D long tensor/list or a bool mask (got {t.dtype}, "
                             f"shape {list(t.shape)})")
        t = t.view(-1).long()
        if t.numel() and (int(t.max()) >= len(self) or int(t.min()) < -len(self)):
            raise IndexError(f"index out of range for {self.name} with {len(self)} graphs")
        return [i % len(self) for i in t.tolist()]

    def shuffle(self, seed: int = 0) -> "Dataset":
        perm = torch.randperm(len(self), generator=torch.Generator().manual_seed(seed))
        return self[perm]

    @property
    def num_features(self) -> int:
        return self[0].num_features if len(self) else 0

    @property
    def num_classes(self) -> int:
        ys = [g.y for g in self.graphs if g.y is not None]
        if not ys:
            return 0
        y = torch.cat([t.reshape(-1) for t in ys])
        y = y[y >= 0]
        return int(y.max()) + 1 if y.numel() else 0

    def stats(self) -> dict:
        """Counts: graphs, nodes, edges (directed entries), features, classes, averages;
        for single-graph datasets also the split sizes."""
        n = [g.num_nodes for g in self.graphs]
        e = [g.num_edges for g in self.graphs]
        B = max(len(self), 1)
        out = {
            "name": self.name,
            "graphs": len(self),
            "nodes": sum(n),
            "edges": sum(e),
            "avg_nodes": sum(n) / B,
            "avg_edges": sum(e) / B,
            "features": self.num_features,
            "classes": self.num_classes,
        }
        if len(self) == 1:
            g = self.graphs[0]
            for split in ("train", "val", "test"):
                mask = getattr(g, f"{split}_mask")
                if mask is not None:
                    out[split] = int(mask.sum())
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name}, {len(self)} graphs)"
