"""Reading the Planetoid (and DCRNN) pickles without ever running code from them.

``pickle.load`` calls whatever callable a file names, so a crafted file can run
any code. ``load`` below uses an unpickler whose ``find_class`` admits only the
handful of numpy / scipy / builtin types these files contain; any other global
(``os.system``, ``builtins.eval``, ...) is refused before it is called.

Example::

    x = load("data/planetoid/ind.cora.x")   # scipy.sparse.csr_matrix [140, 1433]
"""
from __future__ import annotations

import codecs
import collections
import pickle
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from gnnkit.datasets.errors import DatasetFileError


def _reconstruct():
    try:  # numpy >= 2 moved it; the files name the old location
        from numpy._core.multiarray import _reconstruct as fn
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core.multiarray import _reconstruct as fn
    return fn


# (module, name) as written in the file -> the object it may resolve to.
ALLOWED = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct(),
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct(),
    ("scipy.sparse.csr", "csr_matrix"): sp.csr_matrix,
    ("scipy.sparse._csr", "csr_matrix"): sp.csr_matrix,
    ("collections", "defaultdict"): collections.defaultdict,
    ("__builtin__", "list"): list,
    ("builtins", "list"): list,
    # Python 3 writes numpy's raw bytes at protocol 2 as _codecs.encode(str, 'latin1'): a pure function.
    ("_codecs", "encode"): codecs.encode,
}


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the globals in ``ALLOWED``."""

    def __init__(self, file, path: Path):
        super().__init__(file, encoding="latin1")
        self._path = path

    def find_class(self, module, name):
        obj = ALLOWED.get((module, name))
        if obj is None:
            allowed = ", ".join(sorted(f"{m}.{n}" for m, n in ALLOWED))
            raise DatasetFileError(
                self._path,
                f"pickle refers to {module}.{name}, which is not allowed (only {allowed}); "
                "the file is not a genuine dataset file and was not loaded (no code from it ran)",
            )
        return obj


def load(path: str | Path):
    """Unpickle a dataset file with ``RestrictedUnpickler``; truncated or corrupted
    files raise ``DatasetFileError`` naming the file."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            obj = RestrictedUnpickler(f, path).load()
    except DatasetFileError:
        raise
    except FileNotFoundError:
        raise DatasetFileError(path, "file not found") from None
    except EOFError:
        raise DatasetFileError(path, "file is truncated (pickle ended early); fetch it again") from None
    except (pickle.UnpicklingError, ValueError, TypeError, KeyError, IndexError, AttributeError, MemoryError,
            OverflowError) as err:
        raise DatasetFileError(path, f"file is corrupted, not a readable pickle "
                                     f"({type(err).__name__}: {err})") from None
    if isinstance(obj, sp.csr_matrix):
        try:
            obj.check_format(full_check=True)
        except (ValueError, TypeError, IndexError, AttributeError) as err:   # a field missing or mistyped
            raise DatasetFileError(path, f"sparse matrix is inconsistent ({type(err).__name__}: {err})") from None
    return obj
