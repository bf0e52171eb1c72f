"""TU graph-classification benchmarks (MUTAG, PTC, NCI1, PROTEINS, ENZYMES, DD, IMDB, COLLAB, REDDIT).

Morris et al. (2020), "TUDataset: A collection of benchmark datasets for learning with
graphs", https://arxiv.org/abs/2007.08663; features and protocol as in Xu et al. (2019),
"How Powerful are Graph Neural Networks?" (GIN), https://arxiv.org/abs/1810.00826.

Two file formats are read, from ``root/tu/NAME/``:

- **GIN / DGCNN text** (``NAME.txt`` or ``NAME.txt.gz``): line 1 is the number of
  graphs; each graph is a line ``n label`` followed by ``n`` node lines
  ``tag m nbr_1 .. nbr_m [attr ...]`` (0-based neighbour ids within the graph).
- **TU Dortmund raw** (``raw/PREFIX_A.txt``, ``_graph_indicator``, ``_graph_labels``,
  optional ``_node_labels``, ``_node_attributes``, ``_edge_labels``): 1-based ids.

Each graph gets ``edge_index`` (both directions, duplicates merged, self loops kept
as the file has them), graph label ``y`` (remapped to ``0..C-1`` in sorted order of
the raw values, kept in ``label_values``), integer node labels ``node_label`` and,
when present, float ``node_attr``. Node features ``x`` are left to transforms, except when the
files hold no node information at all (the social sets: one node label, no attributes): then
the graphs get default features on access, one-hot in-degree when the largest degree is at most
``DEGREE_CAP`` (IMDB, COLLAB), else a constant 1 (REDDIT), as PyG users add with
``OneHotDegree`` / ``Constant``; ``ds.default_features`` and ``gnnkit data info`` say which
(``features='none'`` turns it off). A protocol's own choice (the GIN paper's is
``experiments.data.gin_features``) replaces ``x``. ``folds()`` gives the shipped
10-fold split files, or seeded stratified folds when there are none.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from gnnkit.datasets.base import Dataset, read_text, resolve_root
from gnnkit.datasets.download import Remote, fetch
from gnnkit.datasets.errors import DatasetFileError
from gnnkit.graph import Graph

# Social-network sets, folder names as the GIN / DGCNN code spells them: no node labels in the files
# (GIN feeds them one-hot degrees or a constant instead; see experiments.data.gin_features).
SOCIAL_DEGREE = {"IMDBBINARY", "IMDBMULTI", "COLLAB"}
SOCIAL_CONSTANT = {"REDDITBINARY", "REDDITMULTI5K", "REDDITMULTI12K"}
# Default node features of label-less files: one-hot degree up to this degree, else a constant.
DEGREE_CAP = 500

_DGCNN = "https://raw.githubusercontent.com/muhanzhang/pytorch_DGCNN/50f504131ca66382f3f078ae98e59aa3ae35b795/data/"
# PTC_MR and REDDITBINARY come only inside yeweiysh/IHGNN's zips (data/NAME.zip), whose sha256 is not
# pinned here, so they have no download entry.
REMOTES = {
    "MUTAG": Remote(_DGCNN + "MUTAG/MUTAG.txt",
                    sha256="5897dae243f6c773aab54ec99e86551c3b1e8601acef254714073042c632d30e"),
    "PTC": Remote(_DGCNN + "PTC/PTC.txt", sha256="711729eaf2a5308752aa7c11062dd99f645f978afc400909a5927051b314ec55"),
    "NCI1": Remote(_DGCNN + "NCI1/NCI1.txt", sha256="415d2e0861484c2baef1e40ee3ca62dd13c06d6b99549fb25774f43533e9321d"),
    "PROTEINS": Remote(_DGCNN + "PROTEINS/PROTEINS.txt",
                       sha256="ed0730f9bf9da68aa6a8c80f2f2b6ecea5d05791ca254c709f3efab3b45d937b"),
    "ENZYMES": Remote(_DGCNN + "ENZYMES/ENZYMES.txt",
                      sha256="04e048844018a0f9c87afdc0d69031c4b625bb97d40320b9dbd76acc663f41a6"),
    "DD": Remote(_DGCNN + "DD/DD.txt", sha256="612854663f0ea8821618efdba14bb57a8ebd851f0d900c02eeba019b8f6fc98b"),
    "IMDBBINARY": Remote(_DGCNN + "IMDBBINARY/IMDBBINARY.txt",
                         sha256="1068c698677c07c04f3ad56fc4a175cb2161523c840abfdaf50e101ecc30504f"),
    "IMDBMULTI": Remote(_DGCNN + "IMDBMULTI/IMDBMULTI.txt",
                        sha256="f4cc1b32112303bf1b16a8351df8b8073978fdead823775fbe79e60cf94e7009"),
    # The original, uncompressed COLLAB.txt (the shared folder keeps a gzip of it).
    "COLLAB": Remote(_DGCNN + "COLLAB/COLLAB.txt",
                     sha256="013dad1337eccb6d48d698be154ea9a5b5a041feedecd69f824199ba344907b7"),
}


def canonical(name: str) -> str:
    """``'IMDB-BINARY'``, ``'imdb_binary'`` and ``'IMDBBINARY'`` all become ``'IMDBBINARY'``;
    ``'PTC_MR'`` stays ``'PTC_MR'`` (it is a different dataset from GIN's ``'PTC'``)."""
    key = name.upper().replace("-", "")
    return key if key == "PTC_MR" else key.replace("_", "")


def find_folder(root: Path, name: str) -> Path | None:
    tu = root / "tu"
    if not tu.is_dir():
        return None
    for folder in sorted(tu.iterdir()):
        if folder.is_dir() and canonical(folder.name) == canonical(name):
            return folder
    return None


def available(root=None) -> list[str]:
    """Folder names under ``root/tu`` that hold a GIN-format or raw TU file."""
    tu = resolve_root(root) / "tu"
    if not tu.is_dir():
        return []
    return [f.name for f in sorted(tu.iterdir()) if f.is_dir() and _source(f) is not None]


def _source(folder: Path):
    for suffix in (".txt", ".txt.gz"):
        p = folder / f"{folder.name}{suffix}"
        if p.is_file():
            return "gin", p
    for sub in (folder / "raw", folder):
        hits = sorted(sub.glob("*_A.txt")) if sub.is_dir() else []
        if hits:
            return "tu", hits[0]
    return None


# ---------------------------------------------------------------- parsing
class _Parsed:
    """Global arrays for a whole dataset (node ids numbered across graphs)."""

    def __init__(self, sizes, labels, src, dst, node_label, node_attr=None, edge_label=None):
        self.sizes, self.labels = sizes, labels
        self.src, self.dst = src, dst
        self.node_label, self.node_attr, self.edge_label = node_label, node_attr, edge_label


def _ints(tokens, path: Path, what: str) -> np.ndarray:
    try:
        return np.array(tokens, dtype=np.int64)
    except ValueError as err:
        raise DatasetFileError(path, f"{what}: expected integers ({err})") from None


def _parse_gin_fast(text: str) -> _Parsed | None:
    """The GIN format read as one stream of integers (C speed). Returns ``None`` when the
    stream does not fit the format exactly (node attributes, truncation, corruption);
    the line-by-line parser then reads the file and names the offending line."""
    try:
        tok = np.fromstring(text, dtype=np.int64, sep=" ")
    except ValueError:
        return None
    if tok.size == 0:
        return None
    num_graphs, pos = int(tok[0]), 1
    sizes, labels, starts, heads = [], [], [], []
    try:
        for _ in range(num_graphs):
            n, label = int(tok[pos]), int(tok[pos + 1])
            heads.append(pos)
            sizes.append(n)
            labels.append(label)
            pos += 2
            for _ in range(n):
                starts.append(pos)
                pos += 2 + int(tok[pos + 1])
    except IndexError:
        return None
    lines = 1 + num_graphs + len(starts)
    if pos != tok.size or text.rstrip("\n").count("\n") + 1 != lines or min(sizes, default=0) < 0:
        return None
    starts_a = np.array(starts, dtype=np.int64)
    degs = tok[starts_a + 1]
    if degs.size and degs.min() < 0:
        return None
    sizes_a = np.array(sizes, dtype=np.int64)
    # Every token that is not a count, a label, a tag or a degree is a neighbour id.
    is_nbr = np.ones(tok.size, dtype=bool)
    heads_a = np.array(heads, dtype=np.int64)
    is_nbr[0] = False
    is_nbr[heads_a], is_nbr[heads_a + 1] = False, False
    is_nbr[starts_a], is_nbr[starts_a + 1] = False, False
    local = tok[is_nbr]
    node_graph = np.repeat(np.arange(num_graphs), sizes_a)
    has_nbrs = degs > 0
    if local.size:
        first = (np.cumsum(degs) - degs)[has_nbrs]
        if local.min() < 0 or np.any(np.maximum.reduceat(local, first) >= sizes_a[node_graph][has_nbrs]):
            return None
    ptr = np.concatenate([[0], np.cumsum(sizes_a)])
    src = np.repeat(np.arange(len(starts)), degs)
    dst = local + np.repeat(ptr[node_graph], degs)
    return _Parsed(sizes_a, np.array(labels, dtype=np.int64), src, dst, tok[starts_a].copy())


def parse_gin(path: Path) -> _Parsed:
    """Read the GIN / DGCNN text format (see the module docstring). Anything malformed raises
    ``DatasetFileError`` naming the file (found by tests/fuzz: a non-integer or negative count)."""
    text = read_text(path)
    try:
        fast = _parse_gin_fast(text)
        return fast if fast is not None else _parse_gin_lines(text, path)
    except DatasetFileError:
        raise
    except (ValueError, IndexError, OverflowError) as err:
        raise DatasetFileError(path, f"not a well-formed GIN-format file ({type(err).__name__}: {err})") from None


def _parse_gin_lines(text: str, path: Path) -> _Parsed:
    lines = text.rstrip("\n").split("\n")
    try:
        num_graphs = int(lines[0])
    except ValueError:
        raise DatasetFileError(path, f"line 1 must be the number of graphs (got {lines[0][:40]!r})") from None
    sizes, labels, tags, degs, nbr_tokens, attrs, node_lines = [], [], [], [], [], [], []
    pos = 1
    for g in range(num_graphs):
        head = lines[pos].split() if pos < len(lines) else []
        if len(head) != 2:
            if pos >= len(lines) or not lines[pos].strip():
                raise DatasetFileError(path, f"file ends at line {pos + 1} after {g} of {num_graphs} graphs; "
                                             "it is truncated")
            raise DatasetFileError(path, f"line {pos + 1}: expected 'num_nodes label' for graph {g}, "
                                         f"got {lines[pos][:40]!r}")
        n, label = (int(t) for t in head)
        if n < 0:
            raise DatasetFileError(path, f"line {pos + 1}: graph {g} has {n} nodes")
        if pos + 1 + n > len(lines):
            raise DatasetFileError(path, f"graph {g} needs {n} node lines after line {pos + 1} but the file ends; "
                                         "it is truncated")
        sizes.append(n)
        labels.append(label)
        for line_no in range(pos + 1, pos + 1 + n):
            toks = lines[line_no].split()
            if len(toks) < 2:
                raise DatasetFileError(path, f"line {line_no + 1}: expected 'tag m nbr_1 .. nbr_m', "
                                             f"got {lines[line_no][:40]!r}")
            m = int(toks[1])
            if m < 0:
                raise DatasetFileError(path, f"line {line_no + 1}: announces {m} neighbours")
            if len(toks) < 2 + m:
                raise DatasetFileError(path, f"line {line_no + 1}: announces {m} neighbours but lists "
                                             f"{len(toks) - 2}; the file is truncated or corrupted")
            tags.append(toks[0])
            degs.append(m)
            nbr_tokens.extend(toks[2: 2 + m])
            if len(toks) > 2 + m:
                attrs.append(toks[2 + m:])
            node_lines.append(line_no)
        pos += 1 + n
    sizes_a = np.array(sizes, dtype=np.int64)
    ptr = np.concatenate([[0], np.cumsum(sizes_a)])
    degs_a = np.array(degs, dtype=np.int64)
    node_graph = np.repeat(np.arange(num_graphs), sizes_a)
    src = np.repeat(np.arange(len(degs_a)), degs_a)
    local = _ints(nbr_tokens, path, "neighbour ids")
    bound = np.repeat(sizes_a[node_graph], degs_a)
    bad = np.flatnonzero((local < 0) | (local >= bound))
    if bad.size:
        node = src[bad[0]]
        raise DatasetFileError(path, f"line {node_lines[node] + 1}: neighbour id {local[bad[0]]} is outside its "
                                     f"graph of {bound[bad[0]]} nodes")
    dst = local + ptr[node_graph][src]
    node_attr = None
    if attrs:
        if len(attrs) != len(degs):
            raise DatasetFileError(path, "some node lines carry attributes and others do not")
        try:
            node_attr = np.array(attrs, dtype=np.float32)
        except ValueError as err:
            raise DatasetFileError(path, f"node attributes are not a float table ({err})") from None
    return _Parsed(sizes_a, np.array(labels, dtype=np.int64), src, dst, _ints(tags, path, "node tags"), node_attr)


def _column(path: Path, dtype, what: str) -> np.ndarray:
    text = read_text(path).replace(",", " ")
    try:
        return np.array(text.split(), dtype=dtype)
    except ValueError as err:
        raise DatasetFileError(path, f"{what}: not a numeric table ({err})") from None


def parse_tu_raw(a_path: Path) -> _Parsed:
    """Read the TU Dortmund raw format, given the ``PREFIX_A.txt`` path."""
    prefix = a_path.name[: -len("_A.txt")]

    def part(suffix):
        return a_path.parent / f"{prefix}_{suffix}.txt"

    def table(suffix, dtype, what, rows, per_row=None):
        """``PREFIX_<suffix>.txt`` with ``rows`` rows (``None`` when the file is absent)."""
        path = part(suffix)
        if not path.is_file():
            return None
        values = _column(path, dtype, what)
        width = per_row if per_row is not None else (values.size // rows if rows else 1)
        if values.size != rows * width or (rows and width == 0):
            raise DatasetFileError(path, f"has {values.size} values, expected {rows} rows "
                                         f"({'one per ' + what.split()[0]}); truncated or corrupted")
        return values.reshape(rows, width) if per_row != 1 else values

    a_values = _column(a_path, np.int64, "edge list")
    if a_values.size % 2:
        raise DatasetFileError(a_path, "expected 'src, dst' pairs but found an odd number of ids; truncated")
    edges = a_values.reshape(-1, 2) - 1
    indicator = _column(part("graph_indicator"), np.int64, "graph indicator") - 1
    labels = _column(part("graph_labels"), np.int64, "graph labels")
    N, B = indicator.size, labels.size
    if N and (np.any(np.diff(indicator) < 0) or indicator.min() < 0 or indicator.max() >= B):
        raise DatasetFileError(part("graph_indicator"), f"graph ids must be sorted and in 1..{B} "
                                                        f"(the number of graph labels)")
    if edges.size and (edges.min() < 0 or edges.max() >= N):
        raise DatasetFileError(a_path, f"refers to node {edges.max() + 1} but there are {N} nodes")
    if edges.size and np.any(indicator[edges[:, 0]] != indicator[edges[:, 1]]):
        raise DatasetFileError(a_path, "an edge joins nodes of two different graphs")
    node_label = table("node_labels", np.int64, "node labels", N, per_row=1)
    node_label = np.zeros(N, dtype=np.int64) if node_label is None else node_label
    node_attr = table("node_attributes", np.float32, "node attributes", N)
    edge_label = table("edge_labels", np.int64, "edge labels", len(edges), per_row=1)
    sizes = np.bincount(indicator, minlength=B)
    return _Parsed(sizes, labels, edges[:, 0], edges[:, 1], node_label, node_attr, edge_label)


def _graphs(p: _Parsed) -> tuple[list[Graph], list[int]]:
    """Split global arrays into one ``Graph`` per graph (edges deduplicated and sorted)."""
    ptr = np.concatenate([[0], np.cumsum(p.sizes)])
    total = int(ptr[-1])
    key = p.src * max(total, 1) + p.dst
    src, dst, edge_label = p.src, p.dst, p.edge_label
    if key.size and not np.all(key[1:] > key[:-1]):    # not already sorted and duplicate-free
        order = np.argsort(key, kind="stable")
        key = key[order]
        keep = np.concatenate([[True], key[1:] != key[:-1]])
        key, order = key[keep], order[keep]
        src, dst = key // max(total, 1), key % max(total, 1)
        edge_label = None if edge_label is None else edge_label[order]
    eptr = np.searchsorted(src, ptr)
    # One buffer in which graph b's [2, E_b] edge_index is the contiguous block [2 * e0, 2 * e1).
    blocks = []
    for b in range(len(p.sizes)):
        n0, e0, e1 = ptr[b], eptr[b], eptr[b + 1]
        blocks += [src[e0:e1] - n0, dst[e0:e1] - n0]
    flat = torch.from_numpy(np.concatenate(blocks) if blocks else np.empty(0, dtype=np.int64))
    label_values = sorted(set(p.labels.tolist()))
    lookup = {v: i for i, v in enumerate(label_values)}
    y = torch.tensor([lookup[v] for v in p.labels.tolist()])
    node_label = torch.from_numpy(p.node_label)
    node_attr = None if p.node_attr is None else torch.from_numpy(p.node_attr)
    edge_label = None if edge_label is None else torch.from_numpy(edge_label)
    graphs = []
    with _one_thread():  # thousands of small tensors: thread start-up would dominate the checks
        for b in range(len(p.sizes)):
            graphs.append(_graph(b, ptr, eptr, flat, y, node_label, node_attr, edge_label))
    return graphs, label_values


@contextmanager
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _graph(b, ptr, eptr, flat, y, node_label, node_attr, edge_label) -> Graph:
    """Graph ``b``: views into the dataset-wide tensors (no copies)."""
    n0, n1, e0, e1 = int(ptr[b]), int(ptr[b + 1]), int(eptr[b]), int(eptr[b + 1])
    extra, levels = {"node_label": node_label[n0:n1]}, {"node_label": "node"}
    if node_attr is not None:
        extra["node_attr"], levels["node_attr"] = node_attr[n0:n1], "node"
    if edge_label is not None:
        extra["edge_label"], levels["edge_label"] = edge_label[e0:e1], "edge"
    return Graph(edge_index=flat[2 * e0: 2 * e1].view(2, e1 - e0), num_nodes=n1 - n0, y=y[b], y_level="graph",
                 extra=extra, levels=levels)


# ------------------------------------------------------------------ splits
def stratified_kfold(y: torch.Tensor, k: int = 10, seed: int = 0) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``k`` (train, test) index pairs, test folds disjoint and class-balanced, shuffled with
    ``seed``: scikit-learn's ``StratifiedKFold(k, shuffle=True, random_state=seed)``, as GIN's
    ``separate_data`` uses it."""
    from sklearn.model_selection import StratifiedKFold

    y = torch.as_tensor(y).view(-1)
    counts = torch.bincount(y)
    if k < 2 or int(counts[counts > 0].min()) < k:
        raise ValueError(f"stratified {k}-fold needs k >= 2 and at least k graphs per class "
                         f"(class sizes {counts.tolist()})")
    skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return [(torch.from_numpy(tr).long(), torch.from_numpy(te).long())
            for tr, te in skf.split(np.zeros(len(y)), y.numpy())]


def read_folds(folder: Path, num_graphs: int, k: int | None = None) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The shipped ``10fold_idx/{train,test}_idx-{1..k}.txt`` files (0-based graph ids).

    Every file ``1..k`` must be there (``k`` defaults to the largest number found, so a file
    missing in the middle is caught too; ``TUDataset.folds`` passes ``k=10``): a deleted file
    never turns 10-fold cross-validation into 9 folds. Each pair must partition
    ``0..num_graphs-1`` and the test folds must be disjoint (they need not cover every graph:
    the shipped MUTAG files leave 8 of its 188 graphs out of every test fold)."""
    def number(p: Path) -> int:
        return int(re.findall(r"\d+", p.name)[-1])

    found = {number(p) for pattern in ("test_idx-*.txt", "train_idx-*.txt") for p in folder.glob(pattern)}
    k = k if k is not None else max(found, default=0)
    if k < 1:
        raise DatasetFileError(folder, "holds no test_idx-K.txt / train_idx-K.txt fold files")
    for i in range(1, k + 1):
        for kind in ("train_idx", "test_idx"):
            path = folder / f"{kind}-{i}.txt"
            if not path.is_file():
                raise DatasetFileError(path, f"is missing: the {k}-fold split needs {kind}-1.txt .. {kind}-{k}.txt; "
                                             "restore it (gnnkit data download) or delete the folder to use "
                                             "seeded stratified folds")
    folds = []
    files = [folder / f"test_idx-{i}.txt" for i in range(1, k + 1)]
    tested_in = np.full(num_graphs, -1, dtype=np.int64)     # which test file holds each graph
    for test_path in files:
        train_path = folder / test_path.name.replace("test_idx", "train_idx")
        train = _column(train_path, np.int64, "train ids")
        test = _column(test_path, np.int64, "test ids")
        for path, ids in ((train_path, train), (test_path, test)):
            bad = ids[(ids < 0) | (ids >= num_graphs)]
            if bad.size:
                raise DatasetFileError(path, f"graph id {int(bad[0])} is out of range: the dataset has {num_graphs} "
                                             f"graphs (ids 0..{num_graphs - 1}); the fold files belong to another "
                                             "version of the dataset")
        both = np.concatenate([train, test])
        if both.size != num_graphs or not np.array_equal(np.sort(both), np.arange(num_graphs)):
            raise DatasetFileError(test_path, f"with {train_path.name} does not partition the {num_graphs} graphs")
        again = test[tested_in[test] >= 0]
        if again.size:
            first = files[int(tested_in[again[0]])].name
            raise DatasetFileError(test_path, f"graph {int(again[0])} is also in the test fold {first}; test folds "
                                              "must be disjoint")
        tested_in[test] = len(folds)
        folds.append((torch.from_numpy(train), torch.from_numpy(test)))
    return folds


class TUDataset(Dataset):
    """A TU graph-classification dataset as a list of graphs.

    Args:
        root: data root; files are read from ``root/tu/NAME/``.
        name: e.g. ``'MUTAG'``, ``'IMDB-BINARY'``, ``'REDDIT-BINARY'``, ``'PTC_MR'``.
        format: ``'auto'`` (GIN text if present, else TU raw), ``'gin'`` or ``'tu'``.
        transform: applied on access, e.g. ``transforms.OneHotNodeLabels(ds.node_label_values)``
            (after the default features, when there are some).
        download: fetch the GIN-format file from its source (sha256-pinned) if missing
            (the datasets in ``REMOTES``).
        features: ``'auto'`` (default): graphs whose files hold no node labels or attributes get
            one-hot degree features (max degree <= ``DEGREE_CAP``) or a constant 1 on access;
            ``'none'``: no ``x``.

    The graphs' ``edge_index`` tensors are views into one dataset-wide buffer (no copies);
    ``.clone()`` one before saving it alone.

    Shapes (per graph): ``edge_index`` [2, E], ``y`` [] int64, ``node_label`` [N] int64,
    ``node_attr`` [N, F_attr] float32 (raw TU files with attributes only).

    Example::

        ds = TUDataset(root, "MUTAG")
        ds = TUDataset(root, "MUTAG", transform=OneHotNodeLabels(ds.node_label_values))
        len(ds), ds.num_classes, ds[0].x.shape       # (188, 2, torch.Size([23, 7]))
    """

    def __init__(self, root=None, name: str = "MUTAG", format: str = "auto", transform=None, download: bool = False,
                 features: str = "auto"):
        if format not in ("auto", "gin", "tu"):
            raise ValueError(f"format must be 'auto', 'gin' or 'tu' (got {format!r})")
        if features not in ("auto", "none"):
            raise ValueError(f"features must be 'auto' or 'none' (got {features!r})")
        root = resolve_root(root)
        key = canonical(name)
        folder = find_folder(root, name)
        if download and key in REMOTES and (folder is None or _source(folder) is None):
            folder = folder or root / "tu" / key
            fetch(REMOTES[key], folder / f"{folder.name}.txt")
        if folder is None:
            have = ", ".join(available(root)) or "none"
            hint = f"; or pass download=True" if key in REMOTES else ""
            raise FileNotFoundError(f"TU dataset {name!r} not found under {root / 'tu'} (present: {have}){hint}")
        src = self._pick(folder, format)
        self.folder, self.format, self.source_file = folder, src[0], src[1]
        parsed = parse_gin(src[1]) if src[0] == "gin" else parse_tu_raw(src[1])
        graphs, self.label_values = _graphs(parsed)
        self.node_label_values = sorted(set(parsed.node_label.tolist()))
        super().__init__(graphs, transform=transform, name=folder.name)
        self.default_features, default = None, None
        if features == "auto" and len(self.node_label_values) <= 1 and parsed.node_attr is None and graphs:
            from gnnkit.transforms import Constant, Compose, OneHotDegree

            degree = self.max_degree()
            if degree <= DEGREE_CAP:
                self.default_features, default = f"one-hot degree (0..{degree})", OneHotDegree(degree)
            else:
                self.default_features, default = f"constant 1 (max degree {degree} > {DEGREE_CAP})", Constant(1.0)
            self.transform = default if transform is None else Compose([default, transform])

    @staticmethod
    def _pick(folder: Path, format: str):
        gin = next((("gin", folder / f"{folder.name}{s}") for s in (".txt", ".txt.gz")
                    if (folder / f"{folder.name}{s}").is_file()), None)
        raw = next((("tu", p) for sub in (folder / "raw", folder) if sub.is_dir()
                    for p in sorted(sub.glob("*_A.txt"))), None)
        choice = {"auto": gin or raw, "gin": gin, "tu": raw}[format]
        if choice is None:
            raise FileNotFoundError(f"{folder}: no {'GIN-format NAME.txt' if format == 'gin' else 'TU raw *_A.txt'} "
                                    f"file for format={format!r}")
        return choice

    @property
    def num_classes(self) -> int:
        return len(self.label_values)

    @property
    def y(self) -> torch.Tensor:
        """Graph labels ``[B]``."""
        return torch.stack([g.y for g in self.graphs]).view(-1)

    def max_degree(self) -> int:
        """The largest in-degree over all graphs (``OneHotDegree(max_degree)`` needs it)."""
        return max((int(torch.bincount(g.edge_index[1], minlength=g.num_nodes).max()) if g.num_nodes else 0)
                   for g in self.graphs)

    def folds(self, k: int = 10, seed: int = 0) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """The shipped 10-fold splits (``NAME/10fold_idx``) when present and ``k == 10``,
        else seeded stratified ``k``-fold splits."""
        fold_dir = self.folder / "10fold_idx"
        if k == 10 and fold_dir.is_dir() and any(fold_dir.glob("*_idx-*.txt")):
            return read_folds(fold_dir, len(self.graphs), k=10)
        return stratified_kfold(self.y, k, seed)

    def stats(self) -> dict:
        out = super().stats()
        out["class_counts"] = torch.bincount(self.y, minlength=self.num_classes).tolist()
        out["node_labels"] = len(self.node_label_values)
        out["max_degree"] = self.max_degree() if self.graphs else 0
        out["format"] = self.format
        out["default_features"] = self.default_features or (
            "none: use the node labels (transforms.OneHotNodeLabels)" if len(self.node_label_values) > 1
            else "none (features='none')")
        return out
