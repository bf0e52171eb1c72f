"""The catalogue of bad inputs of issue 18, each run and classified; it regenerates the table of
docs/reliability.md.

    python -m tests.fuzz.catalogue                 # print the table and the counts
    python -m tests.fuzz.catalogue --write docs/reliability.md   # replace the table section in place

Each case is a function that feeds one bad input to gnnkit, as a careful new user would. The
outcome is read from what happens:

- **clear**: gnnkit raised (or the CLI exited non-zero with one stderr line) and the message
  matches what the case expects it to name (the field, the flag, the file, the fix);
- **unclear**: an error of gnnkit's kinds whose message does not name that;
- **handled**: no error, and the case's own check of the correct behaviour passed;
- **silent**: no error, but the check found a wrong result (an ``AssertionError``);
- **traceback**: any other exception (a bare torch / numpy / Python error from inside).

Cases that need the shared data copy (``$GNNKIT_DATA`` or ../shared/data) are skipped without it.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

OUTCOMES = ("clear", "handled", "unclear", "traceback", "silent")
TARGETS = {"silent": 0, "traceback": 0, "unclear": 3}


@dataclass
class Case:
    group: str
    name: str
    run: Callable[[Path], None]
    expect: str = ""          # regex the error message must match to count as clear
    needs_data: str = ""      # a file under the data root the case needs


class NotApplicable(Exception):
    """The case cannot be tried on this machine (reported as skipped)."""


class CliError(Exception):
    """The CLI exited non-zero; ``lines`` is its stderr."""

    def __init__(self, code: int, lines: list[str]):
        self.code, self.lines = code, lines
        super().__init__(" | ".join(lines))


CLEAR_KINDS = (ValueError, TypeError, KeyError, AttributeError, MemoryError, OSError, FloatingPointError, CliError)


def classify(case: Case, tmp: Path) -> tuple[str, str]:
    """``(outcome, message)`` of running ``case`` in the empty folder ``tmp``."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            case.run(tmp)
    except NotApplicable as err:
        return "skipped", str(err)
    except AssertionError as err:
        return "silent", str(err) or "wrong result"
    except CLEAR_KINDS as err:
        message = str(err).strip()
        if isinstance(err, CliError) and (len(err.lines) != 1 or not err.lines[0].startswith("gnnkit: ")):
            return "unclear", message
        ok = re.search(case.expect, message) if case.expect else False
        return ("clear" if ok else "unclear"), message
    except Exception as err:  # noqa: BLE001 - the point is to catch what escapes
        return "traceback", f"{type(err).__name__}: {err}"
    return "handled", ""


# ------------------------------------------------------------------ helpers
def data_root() -> Path | None:
    for cand in (os.environ.get("GNNKIT_DATA"), Path(__file__).resolve().parents[3] / "shared" / "data"):
        if cand and Path(cand).is_dir():
            return Path(cand)
    return None


def cli(argv: list[str]) -> None:
    """Run ``gnnkit ARGV`` in-process; raise ``CliError`` on a non-zero exit."""
    from gnnkit import cli as gnnkit_cli

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            code = gnnkit_cli.main(argv)
        except SystemExit as exit_:
            code = exit_.code
    if code:
        raise CliError(code, [line for line in err.getvalue().splitlines() if line.strip()])


def tri(**fields):
    from gnnkit import Graph

    return Graph(x=torch.randn(3, 4), edge_index=torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]), **fields)


def node_task(g):
    from gnnkit.tasks import NodeClassification

    return NodeClassification.transductive(g)


def train_gcn(g, epochs=3, classes=2):
    from gnnkit.models import GCN
    from gnnkit.train import TrainConfig, fit

    model = GCN(g.num_features, 4, classes)
    return fit(model, node_task(g), TrainConfig(epochs=epochs, quiet=True))


def masked_graph(train=None, y=None):
    g = tri()
    mask = torch.tensor([True, True, False]) if train is None else train
    return g.replace(y=torch.tensor([0, 1, 0]) if y is None else y, train_mask=mask,
                     val_mask=torch.tensor([False, False, True]), test_mask=torch.tensor([False, False, True]),
                     levels={"y": "node"})


def copy_data(tmp: Path, sub: str, ignore=None) -> Path:
    root = data_root()
    shutil.copytree(root / sub, tmp / sub, ignore=ignore)
    return tmp


# ------------------------------------------------------------------ the cases
def _graph_cases():
    from gnnkit import Batch, Graph, ops
    from gnnkit.nn import GATConv, GCNConv, SAGEConv, SpectralConv

    def assign_x(tmp):
        g = tri()
        g.x = torch.ones(3, 4)
        assert torch.equal(g.to("cpu").x, torch.ones(3, 4)), "g.to() uses the old x"
        assert torch.equal(Batch.from_graphs([g]).x, torch.ones(3, 4)), "Batch uses the old x"

    def assign_edges(tmp):
        g = tri()
        g.adj()
        g.edge_index = torch.tensor([[0], [2]])
        assert g.adj().num_edges == 1, "g.adj() is stale after g.edge_index = t"

    def dup_edges(tmp):
        g = Graph(x=torch.ones(2, 1), edge_index=torch.tensor([[0, 0], [1, 1]]))
        assert g.has_duplicate_edges(), "duplicates not detected"
        assert ops.coalesce(g.edge_index, None, 2)[0].size(1) == 1, "ops.coalesce did not merge"

    def huge(tmp):
        Graph(edge_index=torch.tensor([[0], [1]]), num_nodes=10**10).adj()

    def pyg_item(tmp):
        g = tri()
        g["x"] = torch.zeros(3, 4)
        assert torch.equal(g["x"], torch.zeros(3, 4)) and g.num_node_features == 4

    x16 = lambda: torch.randn(3, 4, dtype=torch.float16)  # noqa: E731
    bf16 = lambda: torch.randn(3, 4, dtype=torch.bfloat16)  # noqa: E731
    e = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    return [
        Case("Graph", "g.x = new_x, then g.to() / Batch", assign_x),
        Case("Graph", "g.edge_index = t, then g.adj()", assign_edges),
        Case("Graph", "g.x = tensor of the wrong shape", lambda t: setattr(tri(), "x", torch.ones(5, 4)),
             r"x is node-level and must have 3 rows"),
        Case("Graph", "g.pos = t (a new name, no level)", lambda t: setattr(tri(), "pos", torch.ones(3, 2)),
             r"needs a batching level: g\.set\('pos'"),
        Case("Graph", "g.num_nodes = 5 after construction", lambda t: setattr(tri(), "num_nodes", 5),
             r"num_nodes is fixed .*replace"),
        Case("Graph", "Graph(num_nodes=3.5)", lambda t: Graph(num_nodes=3.5), r"num_nodes must be an int \(got 3\.5"),
        Case("Graph", "g['x'] = t, g['x'] (PyG habit)", pyg_item),
        Case("Graph", "g['pos'] that does not exist", lambda t: tri()["pos"], r"no field 'pos'"),
        Case("Graph", "duplicated edges: detect and merge", dup_edges),
        Case("Graph", "Batch of graphs with x widths 4 and 5",
             lambda t: Batch.from_graphs([tri(), Graph(x=torch.randn(2, 5))]), r"field 'x'.* 4 in graph 0 but 5"),
        Case("Graph", "num_nodes=1e10, then g.adj()", huge, r"would need \d.* GB but .* available"),
        Case("layers", "bool edge_index into GCNConv", lambda t: GCNConv(4, 2)(torch.randn(3, 4), e.bool()),
             r"edge_index must be an integer tensor .*got dtype torch\.bool"),
        Case("layers", "float edge_index into SAGEConv", lambda t: SAGEConv(4, 2)(torch.randn(3, 4), e.float()),
             r"edge_index must be an integer tensor .*got dtype torch\.float32"),
        Case("layers", "float64 x into GCNConv",
             lambda t: _assert_dtype(GCNConv(4, 2).double()(torch.randn(3, 4, dtype=torch.float64), e))),
        Case("layers", "float16 x into GCNConv", lambda t: GCNConv(4, 2)(x16(), e), r"float32 or float64 .*float16"),
        Case("layers", "bfloat16 x into GCNConv", lambda t: GCNConv(4, 2)(bf16(), e), r"float32 or float64 .*bfloat16"),
        Case("layers", "float16 x into SAGEConv", lambda t: SAGEConv(4, 2)(x16(), e), r"float32 or float64 .*float16"),
        Case("layers", "bfloat16 x into GATConv", lambda t: GATConv(4, 2)(bf16(), e), r"float32 or float64 .*bfloat16"),
        Case("layers", "negative edge weights into GCNConv",
             lambda t: GCNConv(4, 2)(torch.randn(3, 4), e, torch.tensor([1.0, -1.0, 1.0, 1.0])),
             r"non-negative edge weights.*D\^-1/2"),
        Case("layers", "SpectralConv on sparse x",
             lambda t: SpectralConv(4, 2, num_nodes=3)(torch.randn(3, 4).to_sparse(), e), r"dense x .*would take"),
        Case("layers", "SpectralConv on 20,000 nodes", lambda t: SpectralConv(4, 2, num_nodes=20_000, k=4),
             r"20,000 x 20,000 .* 6\.4 GB"),
        Case("layers", "ops.scatter(src, index, 0) in torch_scatter's order",
             lambda t: ops.scatter(torch.ones(3), torch.tensor([0, 1, 1]), 0), r"pass torch_scatter's dim as dim="),
    ]


def _assert_dtype(out):
    assert out.dtype == torch.float64, f"float64 in, {out.dtype} out"


def _task_cases():
    def nan_x(tmp):
        g = masked_graph()
        x = g.x.clone()
        x[0, 0] = float("nan")
        train_gcn(g.replace(x=x))

    return [
        Case("tasks", "empty train_mask", lambda t: node_task(masked_graph(train=torch.zeros(3, dtype=torch.bool))),
             r"empty train_mask"),
        Case("tasks", "label -1 inside the train mask", lambda t: node_task(masked_graph(y=torch.tensor([-1, 1, 0]))),
             r"-1"),
        Case("tasks", "label 7 with a 2-class model",
             lambda t: train_gcn(masked_graph(y=torch.tensor([0, 1, 7])).replace(
                 val_mask=torch.tensor([False, False, True]))), r"label.*7|7.*class"),
        Case("tasks", "NaN in x, then training", nan_x, r"(non-finite|nan).*epoch"),
    ]


def _data_cases():
    from gnnkit.datasets.sentences import preprocess, tokenize
    from gnnkit.datasets.tu import TUDataset

    def planetoid(tmp, edit):
        from gnnkit.datasets import Planetoid

        root = copy_data(tmp, "planetoid", shutil.ignore_patterns("*citeseer*", "*pubmed*"))
        edit(root / "planetoid")
        Planetoid(root, "cora")

    def test_index(value):
        def edit(folder):
            path = folder / "ind.cora.test.index"
            lines = path.read_text().split()
            (path.unlink(), path.write_text("\n".join([value] + lines[1:]) + "\n"))
        return edit

    def wrong_y(folder):
        from gnnkit.datasets import safe_pickle  # noqa: F401 - the reader's own module
        import numpy as np
        import pickle

        path = folder / "ind.cora.y"
        path.unlink()
        path.write_bytes(pickle.dumps(np.zeros((140, 3), dtype=np.int64), protocol=2))

    def folds(tmp):
        root = copy_data(tmp, "tu/MUTAG", shutil.ignore_patterns("raw"))
        (root / "tu" / "MUTAG" / "10fold_idx" / "test_idx-10.txt").unlink()
        TUDataset(root, "MUTAG").folds()

    def traffic_nan(tmp):
        from gnnkit.datasets.traffic import los_loop

        root = copy_data(tmp, "traffic/los-loop")
        path = root / "traffic" / "los-loop" / "los_speed.csv"
        lines = path.read_text().splitlines()
        cells = lines[5].split(",")
        cells[2] = "NaN"
        lines[5] = ",".join(cells)
        path.unlink()
        path.write_text("\n".join(lines) + "\n")
        los_loop(root)

    def bom(tmp):
        text = preprocess("\ufeffGo\u200b.\tVa\x00 !")
        assert text == "go .\tva !", f"preprocess kept invisible characters: {text!r}"

    def empty_side(tmp):
        src, tgt = tokenize("go .\t\n\tva !\nhi  .\tsalut .")
        assert src == [["hi", "."]] and tgt == [["salut", "."]], f"empty sides or '' tokens kept: {src} {tgt}"

    def tu_features(tmp):
        ds = TUDataset(data_root(), "IMDB-BINARY")
        assert ds[0].get("x") is not None and ds.default_features, "label-less TU graphs have no x"

    return [
        Case("data", "Planetoid test.index entry 999999", lambda t: planetoid(t, test_index("999999")),
             r"test\.index.*999999", "planetoid/ind.cora.x"),
        Case("data", "Planetoid test.index entry -3", lambda t: planetoid(t, test_index("-3")),
             r"test\.index.*-3", "planetoid/ind.cora.x"),
        Case("data", "Planetoid ind.cora.y of the wrong shape", lambda t: planetoid(t, wrong_y),
             r"ind\.cora\.y", "planetoid/ind.cora.x"),
        Case("data", "a deleted 10-fold file", folds, r"test_idx-10\.txt: is missing", "tu/MUTAG/MUTAG.txt"),
        Case("data", "traffic CSV with a NaN cell", traffic_nan, r"los_speed\.csv.*(NaN|nan|non-finite)",
             "traffic/los-loop/los_speed.csv"),
        Case("data", "fra-eng BOM, zero-width, NUL", bom),
        Case("data", "fra-eng empty side, double spaces", empty_side),
        Case("data", "TU set without node labels: default x", tu_features, needs_data="tu/IMDBBINARY/IMDBBINARY.txt"),
    ]


def _cli_cases():
    def out(tmp):
        return ["--out", str(tmp / "out")]

    def flag(argv, expect):
        return Case("cli", "gnnkit " + " ".join(argv), lambda t: cli(argv + out(t) + ["--quiet"]), expect)

    def resume_changed_lr(tmp):
        cli(["train", "--epochs", "2", "--quiet"] + out(tmp))
        cli(["train", "--epochs", "2", "--lr", "0.5", "--resume", "--quiet"] + out(tmp))

    def resume_none(tmp):
        cli(["train", "--epochs", "2", "--resume", "--quiet"] + out(tmp))

    def resume_other_model(tmp):
        gcn = ["train", "--model", "gcn", "--dataset", "karate", "--epochs", "2", "--quiet", "--out", str(tmp / "a")]
        mlp = ["train", "--model", "mlp", "--dataset", "karate", "--epochs", "2", "--quiet", "--out", str(tmp / "b")]
        cli(gcn)
        cli(mlp)
        (source,), (target,) = (tmp / "a").rglob("checkpoint.pt"), (tmp / "b").rglob("checkpoint.pt")
        shutil.copyfile(source, target)              # the GCN's checkpoint where the MLP's was
        cli(mlp + ["--resume"])

    def broken_ckpt(content):
        def run(tmp):
            cli(["train", "--epochs", "2", "--quiet"] + out(tmp))
            for ckpt in (tmp / "out").rglob("*.pt"):
                data = ckpt.read_bytes()
                ckpt.write_bytes(data[: len(data) // 2] if content is None else content)
            cli(["train", "--epochs", "3", "--resume", "--quiet"] + out(tmp))
        return run

    def out_file(tmp):
        (tmp / "file").write_text("x")
        cli(["train", "--epochs", "1", "--quiet", "--out", str(tmp / "file")])

    def out_readonly(tmp):
        (tmp / "ro").mkdir()
        os.chmod(tmp / "ro", 0o500)
        try:
            if os.access(tmp / "ro", os.W_OK):   # root ignores permissions: the case cannot be tried
                raise NotApplicable("cannot make a read-only folder here (running as root)")
            cli(["reproduce", "gcn-karate", "--seeds", "1", "--epochs", "1", "--quiet", "--out", str(tmp / "ro" / "x")])
        finally:
            os.chmod(tmp / "ro", 0o700)

    return [
        flag(["reproduce", "gcn-karate", "--epochs", "-5"], r"--epochs.*-5"),
        flag(["train", "--epochs", "0"], r"--epochs.*0"),
        flag(["train", "--epochs", "-1"], r"--epochs.*-1"),
        flag(["reproduce", "gcn-karate", "--seeds", "0"], r"--seeds.*0"),
        flag(["reproduce", "gcn-karate", "--seeds", "-3"], r"--seeds.*-3"),
        flag(["train", "--hidden", "0"], r"--hidden.*0"),
        flag(["train", "--hidden", "-4"], r"--hidden.*-4"),
        flag(["train", "--seed", "-1"], r"--seed.*-1"),
        flag(["train", "--patience", "-1"], r"--patience.*-1"),
        flag(["train", "--lr", "inf"], r"--lr.*inf"),
        flag(["train", "--weight-decay", "1e300"], r"--weight-decay"),
        flag(["train", "--model", "gcn", "--dataset", "MUTAG"], r"MUTAG.*(graph|task)"),
        Case("cli", "--resume with a changed --lr", resume_changed_lr, r"lr"),
        Case("cli", "--resume with no checkpoint", resume_none, r"checkpoint"),
        Case("cli", "--resume with another model's checkpoint", resume_other_model, r"checkpoint\.pt.*(another model|other settings)"),
        Case("cli", "--resume with a truncated checkpoint", broken_ckpt(None), r"\.pt"),
        Case("cli", "--resume with an empty checkpoint", broken_ckpt(b""), r"\.pt"),
        Case("cli", "--resume with a random-bytes checkpoint", broken_ckpt(os.urandom(64)), r"\.pt"),
        Case("cli", "--out onto a file", out_file, r"--out|file"),
        Case("cli", "reproduce --out in a read-only folder", out_readonly, r"--out|writ|permission"),
    ]


def cases() -> list[Case]:
    return _graph_cases() + _task_cases() + _data_cases() + _cli_cases()


# ------------------------------------------------------------------ the table
def run_all(selected: list[Case] | None = None) -> list[tuple[Case, str, str]]:
    root = data_root()
    rows = []
    for case in selected or cases():
        if case.needs_data and (root is None or not (root / case.needs_data).exists()):
            rows.append((case, "skipped", f"needs {case.needs_data}"))
            continue
        with tempfile.TemporaryDirectory() as tmp:
            torch.manual_seed(0)
            outcome, message = classify(case, Path(tmp))
            message = message.replace(str(Path(tmp).resolve()), "<tmp>").replace(tmp, "<tmp>")
        rows.append((case, outcome, message))
    return rows


def _cell(text: str, width: int = 150) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= width else text[: width - 3] + "..."


def table(rows) -> str:
    counts = {k: sum(1 for _, o, _ in rows if o == k) for k in OUTCOMES + ("skipped",)}
    lines = ["| outcome | count | target |", "| --- | --- | --- |"]
    for k in OUTCOMES:
        target = f"<= {TARGETS[k]}" if k == "unclear" else (str(TARGETS[k]) if k in TARGETS else "")
        lines.append(f"| {k} | {counts[k]} | {target} |")
    if counts["skipped"]:
        lines.append(f"| skipped (data absent, or not possible here) | {counts['skipped']} | |")
    lines += ["", "| area | bad input | outcome | what gnnkit says |", "| --- | --- | --- | --- |"]
    for case, outcome, message in rows:
        lines.append(f"| {case.group} | {_cell(case.name, 80)} | {outcome} | {_cell(message) if message else ''} |")
    return "\n".join(lines)


BEGIN, END = "<!-- catalogue:begin -->", "<!-- catalogue:end -->"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.catalogue", description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", help="a markdown file whose catalogue section is replaced")
    args = parser.parse_args(argv)
    os.environ.setdefault("GNNKIT_OFFLINE", "1")
    text = table(run_all())
    if args.write:
        path = Path(args.write)
        doc = path.read_text()
        if BEGIN not in doc or END not in doc:
            print(f"{path}: no {BEGIN} ... {END} section to replace", file=sys.stderr)
            return 1
        head, rest = doc.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(head + BEGIN + "\n" + text + "\n" + END + tail)
        tmp.replace(path)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
