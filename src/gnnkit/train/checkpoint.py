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


class CheckpointError(ValueError):
    """A checkpoint cannot be used: missing, unreadable, or written by another run. The message names
    the file and the fix."""


def load_checkpoint(path: str | Path) -> dict:
    """Load a checkpoint written by :func:`save_checkpoint` (tensors and plain Python values only:
    ``torch.load(weights_only=True)``, so a file that would run code is refused, never executed).

    Raises :class:`CheckpointError` naming the file when it is missing, empty, truncated, not a
    checkpoint, or holds anything but tensors and plain values."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}; run without --resume to start a new run there")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path} is empty (an interrupted copy?); delete it, or pass --overwrite to start "
                              "a new run there")
    try:
        state = torch.load(path, weights_only=True)
    except Exception as err:   # torch raises RuntimeError, UnpicklingError, EOFError, ... by cause
        # torch's own message suggests weights_only=False, which would execute code from the file:
        # name the file and the cause class only.
        raise CheckpointError(f"{path} is not a readable gnnkit checkpoint ({type(err).__name__}: truncated, "
                              "corrupted, or not written by gnnkit); delete it, or pass --overwrite to start a new "
                              "run there") from None
    if not isinstance(state, dict) or "model" not in state or "epoch" not in state:
        raise CheckpointError(f"{path} is not a gnnkit training checkpoint (no model state / epoch); pass another "
                              "--out, or --overwrite to start a new run there")
    return state


def write_json(obj, path: str | Path) -> None:
    """``obj`` as indented JSON at ``path``, atomically."""
    text = json.dumps(obj, indent=2, sort_keys=False) + "\n"
    _atomic(Path(path), lambda f: f.write(text.encode()))


def write_jsonl(rows: list[dict], path: str | Path) -> None:
    """One JSON object per line at ``path``, atomically (the whole metrics log so far)."""
    text = "".join(json.dumps(r) + "\n" for r in rows)
    _atomic(Path(path), lambda f: f.write(text.encode()))
