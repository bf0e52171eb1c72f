"""The README's first screen: its 15-line example trains GCN on Cora, and its box table names real code."""
import contextlib
import io
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_the_first_python_example_trains_gcn_on_cora(data_root, monkeypatch):
    monkeypatch.setenv("GNNKIT_DATA", str(data_root))
    code = python_blocks(README.read_text())[0]
    assert len(code.strip().splitlines()) <= 16
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {"__name__": "__readme__"})
    accuracy = float(re.fullmatch(r"test accuracy: (\d\.\d+)\n", out.getvalue()).group(1))
    assert accuracy > 0.75


@pytest.mark.parametrize("name", ["RecurrentGNN", "GatedGraphConv", "SpectralConv", "ChebConv", "GCNConv",
                                  "NN4GConv", "DiffusionConv", "PGCConv", "MPNNConv", "Set2Set", "SAGEConv",
                                  "GATConv", "GINConv", "GINEConv", "DiffPool", "MultiHeadAttention",
                                  "GraphTransformerConv"])
def test_every_layer_the_readme_lists_exists(name):
    import gnnkit.nn

    assert name in README.read_text() and hasattr(gnnkit.nn, name)
