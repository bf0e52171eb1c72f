"""Every tensor that ops/, nn/, models/, tasks/ and train/ create follows the device of their inputs.

An ``ast`` scan of ``src/gnnkit`` finds calls of torch's factory functions (``torch.zeros``,
``ones``, ``empty``, ``full``, ``arange``, ``eye``, ``rand``, ``randn``, ``randint``, ``randperm``,
``tensor``) without ``device=``: on a GPU such a tensor lands on the CPU, and the next op either
fails or copies silently. Exempt by rule: a call inside ``nn.Parameter(...)`` or
``register_buffer(...)`` (module state, moved by ``model.to(device)``). Anything else goes in
``ALLOWED`` below with its reason. There is no GPU on the development machine: this scan and the
CPU runs of ``gnnkit train --device`` (tests/test_cli.py) are the evidence.
"""
from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "gnnkit"
PACKAGES = ("ops", "nn", "models", "tasks", "train")
FACTORIES = {"zeros", "ones", "empty", "full", "arange", "eye", "rand", "randn", "randint", "randperm", "tensor"}
MODULE_STATE = {"Parameter", "register_buffer"}

PENDING = "new in a concurrent change, pending: its owner passes device= (reported to the lead)"
CPU_SHUFFLE = ("shuffles ids with the global CPU generator, whose state the trainer's checkpoint carries; "
               "the ids index Python lists or CPU tensors, and the batches move to the device afterwards")

# (path under src/gnnkit, enclosing function's qualified name) -> reason
ALLOWED = {
    ("tasks/node.py", "NodeClassification.train_batches"): CPU_SHUFFLE,
    ("tasks/graph.py", "GraphClassification.train_batches"): CPU_SHUFFLE,
    ("tasks/forecast.py", "Forecasting.train_batches"): CPU_SHUFFLE,
    ("tasks/link.py", "LinkPrediction.train_batches"): CPU_SHUFFLE,
    ("tasks/seq2seq.py", "Seq2Seq.train_batches"): CPU_SHUFFLE,
    ("tasks/seq2seq.py", "SyntheticPairs.__post_init__"): "synthetic data drawn from its own seeded CPU generator "
                                                          "into Python lists",
    ("nn/transformer.py", "PositionalEncoding.__init__"): "the sinusoid table is built once and registered as a "
                                                          "buffer, so model.to(device) moves it",
}


def factory_calls_without_device(source: str) -> list[tuple[str, int, str]]:
    """``(qualified function name, line, 'torch.zeros')`` of every factory call without ``device=``
    in ``source``, calls inside ``Parameter(...)`` / ``register_buffer(...)`` excepted."""
    found = []

    def name_of(func) -> str | None:
        return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None

    def visit(node, scope: list[str], in_state: bool) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            scope = scope + [node.name]
        if isinstance(node, ast.Call):
            f = node.func
            if (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "torch"
                    and f.attr in FACTORIES and not in_state
                    and not any(k.arg == "device" for k in node.keywords)):
                found.append((".".join(scope) or "<module>", node.lineno, f"torch.{f.attr}"))
            in_state = in_state or name_of(f) in MODULE_STATE
        for child in ast.iter_child_nodes(node):
            visit(child, scope, in_state)

    visit(ast.parse(source), [], False)
    return found


def scan() -> dict[tuple[str, str], list[str]]:
    offenders: dict[tuple[str, str], list[str]] = {}
    for package in PACKAGES:
        for path in sorted((SRC / package).rglob("*.py")):
            rel = path.relative_to(SRC).as_posix()
            for scope, line, call in factory_calls_without_device(path.read_text()):
                offenders.setdefault((rel, scope), []).append(f"src/gnnkit/{rel}:{line}: {call}")
    return offenders


def test_scanner_finds_factory_calls_without_device():
    source = (
        "import torch\n"
        "from torch import nn\n"
        "class Layer(nn.Module):\n"
        "    def __init__(self):\n"
        "        self.w = nn.Parameter(torch.empty(3, 4))\n"                      # module state: exempt
        "        self.p = nn.Parameter(nn.init.xavier_uniform_(torch.empty(3, 4)))\n"  # nested: exempt
        "        self.register_buffer('pe', torch.zeros(5))\n"                     # buffer: exempt
        "    def forward(self, x):\n"
        "        a = torch.zeros(3)\n"                                             # line 9: found
        "        b = torch.arange(4, device=x.device)\n"                           # has device=
        "        c = x.new_zeros(3)\n"                                             # follows x
        "        return torch.tensor([1, 2]), torch.randperm(4)\n"                 # line 12: both found
        "def helper():\n"
        "    return torch.eye(2, dtype=torch.float64)\n"                           # line 14: found
    )
    assert factory_calls_without_device(source) == [
        ("Layer.forward", 9, "torch.zeros"), ("Layer.forward", 12, "torch.tensor"),
        ("Layer.forward", 12, "torch.randperm"), ("helper", 14, "torch.eye")]


def test_every_factory_call_in_the_compute_packages_names_its_device():
    offenders = scan()
    new = {k: v for k, v in offenders.items() if k not in ALLOWED}
    lines = [line for calls in new.values() for line in calls]
    assert not lines, (
        "torch factory calls without device= (pass device=<an input>.device, use x.new_zeros(...) / "
        "torch.zeros_like(...), or add (path, function) to ALLOWED in tests/test_device_scan.py with a reason):\n"
        + "\n".join(lines))


def test_allow_list_has_no_stale_entries():
    offenders = scan()
    stale = sorted(k for k in ALLOWED if k not in offenders)
    assert not stale, f"these ALLOWED entries no longer create tensors without device=; remove them: {stale}"

