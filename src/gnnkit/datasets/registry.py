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
    remotes: Callable[[], dict[str, object]] | None = None

    def pinned(self) -> dict:
        """``{relative path: Remote}`` of the files gnnkit can download with a pinned checksum."""
        return self.remotes() if self.remotes else {}

    def fetch_missing(self, root) -> list[str]:
        """Download every missing file that has a pinned source (the first name of each needed tuple);
        return the URLs fetched. Raises :class:`DataAbsent` naming the URL when a download fails."""
        from gnnkit.datasets.download import fetch, source_url

        root = resolve_root(root)
        pins, fetched = self.pinned(), []
        for alts in self.files:
            if any((root / a).is_file() for a in alts):
                continue
            rel = next((a for a in alts if a in pins), None)
            if rel is None:
                continue
            url = source_url(pins[rel], rel)
            try:
                fetch(pins[rel], root / rel, url=url)
            except (OSError, ValueError) as err:      # URLError is an OSError; a checksum mismatch a ValueError
                reason = getattr(err, "reason", None) or err
                raise DataAbsent(f"data absent: {self.name}: downloading {url} failed ({reason}); put "
                                 f"{Path(rel).name} in {(root / rel).parent} yourself, or pass --root DIR / set "
                                 f"GNNKIT_DATA=DIR to a folder that holds {Path(rel).parent}/") from None
            fetched.append(url)
        return fetched

    def missing(self, root) -> list[str]:
        root = resolve_root(root)
        return [" or ".join(alts) for alts in self.files if not any((root / a).is_file() for a in alts)]

    def present(self, root) -> bool:
        return not self.missing(root)

    def require(self, root, download: bool | None = None) -> None:
        """Make sure every needed file is under ``root``: download the missing ones that have a pinned
        source (unless ``download=False`` or ``$GNNKIT_OFFLINE``), else raise :class:`DataAbsent` (one
        line: what is missing, where, the URL that would be tried, and the ``--root`` fix)."""
        from gnnkit.datasets.download import offline, source_url

        missing = self.missing(root)
        if not missing:
            return
        allowed = (not offline()) if download is None else download
        if allowed and self.pinned():
            self.fetch_missing(root)
            missing = self.missing(root)
            if not missing:
                return
        root = resolve_root(root)
        pins = self.pinned()
        urls = [source_url(pins[a], a) for m in missing for a in m.split(" or ") if a in pins]
        if urls and not allowed:
            source = f" (downloads are off: would fetch {urls[0]}{' and others' if len(urls) > 1 else ''})"
        elif not pins:
            source = f" ({self.source}, unpacked; no pinned checksum, so no automatic download)" if self.source \
                else " (no pinned source to download from)"
        else:
            source = ""
        folder = root / Path(self.files[0][0]).parent
        names = [Path(m.split(" or ")[0]).name for m in missing]
        listed = self.describe(names) if self.describe else ", ".join(names)
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
                 lambda root, **kw: planetoid.Planetoid(root, name, **kw),
                 remotes=lambda: {f"planetoid/ind.{name}.{p}": planetoid.remote(name, p) for p in planetoid.PARTS})


def _tu(folder: str) -> Entry:
    raw = f"tu/{folder}/raw/{folder}_A.txt"
    return Entry(folder, "graph", [(f"tu/{folder}/{folder}.txt", f"tu/{folder}/{folder}.txt.gz", raw)],
                 lambda root, **kw: tu.TUDataset(root, folder, **kw),
                 remotes=lambda: ({f"tu/{folder}/{folder}.txt": tu.REMOTES[tu.canonical(folder)]}
                                  if tu.canonical(folder) in tu.REMOTES else {}))


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


def _traffic_remotes() -> dict:
    from gnnkit.datasets.traffic import REMOTES

    return REMOTES


def _sentences_remote():
    from gnnkit.datasets.sentences import REMOTE

    return REMOTE


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
              _los_loop, remotes=lambda: {f"traffic/{k}": r for k, r in _traffic_remotes().items()
                                          if k.startswith("los-loop/")}),
        Entry("pemsd7m", "traffic", [("traffic/PeMSD7M/PeMSD7_V_228.csv",), ("traffic/PeMSD7M/PeMSD7_W_228.csv",)],
              lambda root, **kw: pemsd7.pemsd7m(root, **kw),
              source="the STGCN authors' repository VeritasYin/STGCN_IJCAI-18, dataset/"),
        Entry("metr-la-graph", "graph only", [("traffic/METR-LA-sensor-graph/adj_mx.pkl",),
                                              ("traffic/METR-LA-sensor-graph/graph_sensor_locations.csv",)],
              _metr_la, remotes=lambda: {f"traffic/{k}": r for k, r in _traffic_remotes().items()
                                         if k.startswith("METR-LA")}),
        Entry("ppi", "node (multi-label)", [(f"ppi/{f}",) for f in ppi.expected_files()],
              lambda root, split="train", **kw: ppi.PPI(root, split, **kw), describe=ppi.describe,
              source=f"DGL's {ppi.URL}"),
        Entry("fra-eng", "sentence pairs", [("fra-eng/fra.txt",)], _fra_eng,
              remotes=lambda: {"fra-eng/fra.txt": _sentences_remote()}),
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


def load(name: str, root=None, download: bool | None = None, **options):
    """The dataset ``name`` loaded from ``root`` (``options`` go to its reader, e.g. ``split='val'``
    for PPI). Missing files with a pinned source are downloaded first (checksum verified, written
    atomically) unless ``download=False`` or ``$GNNKIT_OFFLINE=1``; otherwise, or when that fails,
    :class:`DataAbsent` says in one line what is missing, the URL, and the ``--root`` fix."""
    entry = find(name, root)
    entry.require(root, download)
    return entry.loader(resolve_root(root), **options)
