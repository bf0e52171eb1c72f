"""docs/from_pyg.md runs: every ```python block, in order, in one namespace (its asserts included),
against the shared data copy (skipped when it is absent)."""
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"


def python_blocks(path: Path) -> list[str]:
    text = path.read_text()
    return [part.split("```", 1)[0] for part in text.split("```python\n")[1:]]


def test_from_pyg_runs(data_root, monkeypatch):
    monkeypatch.setenv("GNNKIT_DATA", str(data_root))
    monkeypatch.setenv("GNNKIT_OFFLINE", "1")
    namespace: dict = {}
    for i, block in enumerate(python_blocks(DOCS / "from_pyg.md")):
        exec(compile(block, f"docs/from_pyg.md block {i + 1}", "exec"), namespace)
    assert namespace["acc"] > 0.7

