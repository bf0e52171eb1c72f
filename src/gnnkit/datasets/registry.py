"""Every dataset gnnkit knows by name: which files it needs, where they are, how to load it.

``entries(root)`` lists the known datasets (and any extra TU folder found under the
root); ``load(name, root)`` returns the loaded object, whose ``stats()`` the CLI prints.

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
from gnnkit.datasets.base import Dataset, resolve_root


@dataclass
class Entry:
    """A named dataset: ``kind`` (node / graph / traffic / text / builtin), the files it
    needs relative to the data root (any one of each inner tuple), and its loader."""

    name: str
    kind: str
    files: list[tuple[str, ...]]
    loader: Callable[[Path], object]

    def missing(self, root) -> list[str]:
        root = resolve_root(root)
        return [" or ".join(alts) for alts in self.files if not any((root / a).is_file() for a in alts)]

    def present(self, root) -> bool:
        return not self.missing(root)

    def location(self, root) -> str:
        root = resolve_root(root)
        if not self.files:
            return "(built in)"
        first = self.files[0]
        found = next((root / a for a in first if (root / a).is_file()), root / first[0])
        return str(found.parent)


def _planetoid(name: str) -> Entry:
    return Entry(name, "node", [(f"planetoid/ind.{name}.{p}",) for p in planetoid.PARTS],
                 lambda root: planetoid.Planetoid(root, name))


def _tu(folder: str) -> Entry:
    raw = f"tu/{folder}/raw/{folder}_A.txt"
    return Entry(folder, "graph", [(f"tu/{folder}/{folder}.txt", f"tu/{folder}/{folder}.txt.gz", raw)],
                 lambda root: tu.TUDataset(root, folder))


def _karate(root):
    from gnnkit.datasets.karate import karate_club

    return Dataset([karate_club()], name="karate")


def _los_loop(root):
    from gnnkit.datasets.traffic import los_loop

    return los_loop(root)


def _metr_la(root):
    from gnnkit.datasets.traffic import metr_la_graph

    return Dataset([metr_la_graph(root)], name="METR-LA graph")


def _fra_eng(root):
    from gnnkit.datasets.sentences import SentencePairs

    return SentencePairs(root, num_examples=None)


TU_NAMES = ("MUTAG", "PTC", "PTC_MR", "NCI1", "PROTEINS", "ENZYMES", "DD", "IMDBBINARY", "IMDBMULTI", "COLLAB",
            "REDDITBINARY", "REDDITMULTI5K")


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
        Entry("metr-la-graph", "graph only", [("traffic/METR-LA-sensor-graph/adj_mx.pkl",),
                                              ("traffic/METR-LA-sensor-graph/graph_sensor_locations.csv",)],
              _metr_la),
        Entry("ppi", "node (multi-label)", [(f"ppi/{f}",) for f in ppi.expected_files()],
              lambda root: ppi.PPI(root, "train")),
        Entry("fra-eng", "sentence pairs", [("fra-eng/fra.txt",)], _fra_eng),
        Entry("karate", "node (networkx)", [], _karate),
    ]
    return out


def find(name: str, root=None) -> Entry:
    key = tu.canonical(name)
    for e in entries(root):
        if tu.canonical(e.name) == key:
            return e
    known = ", ".join(e.name for e in entries(root))
    raise ValueError(f"unknown dataset {name!r}; known: {known}")


def load(name: str, root=None):
    return find(name, root).loader(resolve_root(root))
