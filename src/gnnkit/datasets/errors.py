"""The one error type for unreadable dataset files: it names the file and what was wrong."""
from __future__ import annotations

from pathlib import Path


class DatasetFileError(ValueError):
    """A dataset file is missing, truncated, corrupted or unsafe.

    ``path`` is the file, ``reason`` says what was wrong (and how to fix it).
    """

    def __init__(self, path, reason: str):
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class DataAbsent(FileNotFoundError):
    """A dataset's files are not under the data root. ``str(err)`` is one line: the files it
    needs, the folder it looked in, and how to point gnnkit at the data."""
