"""Every dataset gnnkit knows by name: which files it needs, where they are, how to load it.

``entries(root)`` lists the known datasets (and any extra TU folder found under the
root); ``load(name, root)`` returns the loaded object, whose ``stats()`` the CLI prints.
This is the one place that knows which files a dataset needs: ``load`` raises
:class:`DataAbsent` with the one-line 'data absent' message when any is missing.

Example::

    for e in entries(root):
        print(e.name, e.present(root), e.missing(root))
    load("cora", root).stats()["nodes"]      # 2708
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from gnnkit.datasets import planetoid, ppi, tu
from gnnkit.datasets import pemsd7
from gnnkit.datasets.base import Dataset, resolve_root
from gnnkit.datasets.errors import DataAbsent


@dataclass
class Entry:
    """A named dataset: ``kind`` (node / graph / traffic / text / builtin), the files it
    needs relative to the data root (any one of each inner tuple), its loader
    (``loader(root, **options)``), and for the 'data absent' line optionally a ``describe``
    that shortens the list of missing names and the ``source`` to fetch them from."""

    name: str
    kind: str
    files: list[tuple[str, ...]]
    loader: Callable[..., object]
    describe: Callable[[list[str]], str] | None = None
    source: str | None = None

    def missing(self, root) -> list[str]:
        root = resolve_root(root)
        return [" or ".join(alts) for alts in self.files if not any((root / a).is_file() for a in alts)]

    def present(self, root) -> bool:
        return not self.missing(root)

    def require(self, root) -> None:
        """Raise :class:`DataAbsent` (one line) when any needed file is missing under ``root``."""
        missing = self.missing(root)
        if not missing:
            return
        root = resolve_root(root)
        folder = root / Path(self.files[0][0]).parent
        names = [Path(m.split(" or ")[0]).name for m in missing]
        listed = self.describe(names) if self.describe else ", ".join(names)
        source = f" ({self.source}, unpacked)" if self.source else ""
        raise DataAbsent(f"data absent: {self.name} needs {listed} in {folder}{source}; pass --root DIR or set "
                         f"GNNKIT_DATA=DIR to a folder holding {Path(self.files[0][0]).parent}/")

    def location(self, root) -> str:
        root = resolve_root(root)
        if not self.files:
            return "(built in)"
        first = self.files[0]
        found = next((root / a for a in first if (root / a).is_file()), root / first[0])
        return str(found.parent)


def _planetoid(name: str) -> Entry:
    return Entry(name, "node", [(f"planetoid/ind.{name}.{p}",) for p in planetoid.PARTS],
                 lambda root, **kw: planetoid.Planetoid(root, name, **kw))


def _tu(folder: str) -> Entry:
    raw = f"tu/{folder}/raw/{folder}_A.txt"
    return Entry(folder, "graph", [(f"tu/{folder}/{folder}.txt", f"tu/{folder}/{folder}.txt.gz", raw)],
                 lambda root, **kw: tu.TUDataset(root, folder, **kw))


def _karate(root, **options):
    from gnnkit.datasets.karate import karate_club

    return Dataset([karate_club()], name="karate")


def _los_loop(root, **options):
    from gnnkit.datasets.traffic import los_loop

    return los_loop(root, **options)


def _metr_la(root, **options):
    from gnnkit.datasets.traffic import metr_la_graph

    return Dataset([metr_la_graph(root)], name="METR-LA graph")


def _synth(size: str, seed: int) -> Dataset:
    from gnnkit.datasets.large import synthetic_graph   # generated from the seed (datasets/large.py)

    return Dataset([synthetic_graph(size, seed)], name=f"synth-{size}")


def _fra_eng(root, **options):
    from gnnkit.datasets.sentences import SentencePairs

    return SentencePairs(root, **({"num_examples": None} | options))


TU_NAMES = ("MUTAG", "PTC", "PTC_MR", "NCI1", "PROTEINS", "ENZYMES", "DD", "IMDBBINARY", "IMDBMULTI", "COLLAB",
            "REDDITBINARY", "REDDITMULTI5K", "REDDITMULTI12K")


def entries(root=None) -> list[Entry]:
    """Known datasets, plus any other TU folder present under ``root/tu``."""
    out = [_planetoid(n) for n in ("cora", "citeseer", "pubmed")]
    folders = list(TU_NAMES) + [f for f in tu.available(root) if tu.canonical(f) not in
                                {tu.canonical(n) for n in TU_NAMES}]
    for name in folders:
        actual = tu.find_folder(resolve_root(root), name)
        out.append(_tu(actual.name if actual is not None else name))
    out += [
        Entry("los-loop", "traffic", [("traffic/los-loop/los_speed.csv",), ("traffic/los-loop/los_adj.csv",)],
              _los_loop),
        Entry("pemsd7m", "traffic", [("traffic/PeMSD7M/PeMSD7_V_228.csv",), ("traffic/PeMSD7M/PeMSD7_W_228.csv",)],
              lambda root, **kw: pemsd7.pemsd7m(root, **kw),
              source="the STGCN authors' repository VeritasYin/STGCN_IJCAI-18, dataset/"),
        Entry("metr-la-graph", "graph only", [("traffic/METR-LA-sensor-graph/adj_mx.pkl",),
                                              ("traffic/METR-LA-sensor-graph/graph_sensor_locations.csv",)],
              _metr_la),
        Entry("ppi", "node (multi-label)", [(f"ppi/{f}",) for f in ppi.expected_files()],
              lambda root, split="train", **kw: ppi.PPI(root, split, **kw), describe=ppi.describe,
              source=f"DGL's {ppi.URL}"),
        Entry("fra-eng", "sentence pairs", [("fra-eng/fra.txt",)], _fra_eng),
        Entry("karate", "node (networkx)", [], _karate),
        Entry("synth-reddit", "node (synthetic)", [], lambda root, seed=0, **kw: _synth("reddit", seed)),
        Entry("synth-small", "node (synthetic)", [], lambda root, seed=0, **kw: _synth("small", seed)),
    ]
    return out


def find(name: str, root=None) -> Entry:
    key = tu.canonical(name)
    for e in entries(root):
        if tu.canonical(e.name) == key:
            return e
    known = ", ".join(e.name for e in entries(root))
    raise ValueError(f"unknown dataset {name!r}; known: {known}")


def load(name: str, root=None, **options):
    """The dataset ``name`` loaded from ``root`` (``options`` go to its reader, e.g. ``split='val'``
    for PPI). Raises :class:`DataAbsent` (one line) when its files are not there."""
    entry = find(name, root)
    entry.require(root)
    return entry.loader(resolve_root(root), **options)
