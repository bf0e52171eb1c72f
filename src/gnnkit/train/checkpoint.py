"""Checkpoints and logs written atomically: a temporary file in the same folder,
then ``os.replace``, so an interrupted write never leaves a half-written file
under the real name. Checkpoints load with ``torch.load(weights_only=True)``."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import torch


def _atomic(path: Path, write) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)   # mkstemp makes 0600; results and logs are for reading
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_checkpoint(state: dict, path: str | Path) -> None:
    """``torch.save(state)`` to ``path`` atomically."""
    _atomic(Path(path), lambda f: torch.save(state, f))


def load_checkpoint(path: str | Path) -> dict:
    """Load a checkpoint written by :func:`save_checkpoint` (tensors and plain Python values only)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}; run without --resume to start a new run there")
    return torch.load(path, weights_only=True)


def write_json(obj, path: str | Path) -> None:
    """``obj`` as indented JSON at ``path``, atomically."""
    text = json.dumps(obj, indent=2, sort_keys=False) + "\n"
    _atomic(Path(path), lambda f: f.write(text.encode()))


def write_jsonl(rows: list[dict], path: str | Path) -> None:
    """One JSON object per line at ``path``, atomically (the whole metrics log so far)."""
    text = "".join(json.dumps(r) + "\n" for r in rows)
    _atomic(Path(path), lambda f: f.write(text.encode()))
