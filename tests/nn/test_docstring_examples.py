"""The ``Example::`` blocks of the paper-layer docstrings (and the GAE encoder's) run, doctest-style.

Each block runs in a copy of its module's namespace (so ``torch``, ``nn`` and the module's own
names are there, as a reader of the file sees them). An expression, or an assignment to one name,
whose line ends in a comment starting with a shape (``x.shape   # [2, 4, 100]``, ``h = conv(x)
# [8, 10, 207, 64]``) must give a tensor (or size) of that shape.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import re
import textwrap

import pytest
import torch

MODULES = ("gnnkit.nn.autoencoder", "gnnkit.nn.attention", "gnnkit.nn.transformer", "gnnkit.nn.temporal",
           "gnnkit.nn.graph_transformer", "gnnkit.models.gae")
SHAPE_COMMENT = re.compile(r"#\s*\[(\d+(?:,\s*\d+)*)\]")


def examples(module_name: str) -> list[tuple[str, str]]:
    """``(qualified name, code)`` of every ``Example::`` block in the module's docstrings."""
    module = importlib.import_module(module_name)
    found = []
    objects = [(module_name, module)]
    for name, obj in vars(module).items():
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and obj.__module__ == module_name:
            objects.append((name, obj))
            objects += [(f"{name}.{m}", f) for m, f in vars(obj).items() if inspect.isfunction(f)]
    for name, obj in objects:
        doc = inspect.getdoc(obj) or ""
        for part in doc.split("Example::")[1:]:
            lines = part.split("\n")[1:]
            block = []
            for line in lines:
                if line.strip() and not line.startswith("    "):
                    break
                block.append(line)
            found.append((name, textwrap.dedent("\n".join(block)).strip()))
    return found


CASES = [(m, name, code) for m in MODULES for name, code in examples(m)]


def test_every_public_class_and_function_has_an_example():
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        named = {name.split(".")[0] for name, _ in examples(module_name)}
        public = {n for n, o in vars(module).items()
                  if not n.startswith("_") and (inspect.isclass(o) or inspect.isfunction(o))
                  and o.__module__ == module_name}
        assert public <= named, f"{module_name}: no Example:: in {sorted(public - named)}"


@pytest.mark.parametrize("module_name, name, code", CASES, ids=[f"{m.rsplit('.', 1)[1]}.{n}" for m, n, _ in CASES])
def test_docstring_example_runs(module_name, name, code):
    torch.manual_seed(0)
    namespace = dict(vars(importlib.import_module(module_name)))
    source_lines = code.split("\n")
    for stmt in ast.parse(code).body:
        value = None
        if isinstance(stmt, ast.Expr):
            value = eval(compile(ast.Expression(stmt.value), f"{name} example", "eval"), namespace)
        else:
            exec(compile(ast.Module(body=[stmt], type_ignores=[]), f"{name} example", "exec"), namespace)
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                value = namespace[stmt.targets[0].id]
        match = SHAPE_COMMENT.search(source_lines[stmt.end_lineno - 1])
        if match and isinstance(value, (torch.Size, torch.Tensor)):
            shape = list(value.shape if isinstance(value, torch.Tensor) else value)
            expected = [int(d) for d in match.group(1).split(",")]
            assert shape == expected, f"{name}: line {stmt.end_lineno} gives {shape}, its comment says {expected}"
