"""safe_pickle.py: only the numpy / scipy / builtin types of the dataset files are admitted."""
import collections
import os
import pickle

import numpy as np
import pytest
import scipy.sparse as sp

from gnnkit.datasets import safe_pickle
from gnnkit.datasets.errors import DatasetFileError


class _CreatesFile:
    """A payload whose unpickling would call ``open(path, 'w')`` (i.e. run code)."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


class _RunsShell:
    def __reduce__(self):
        return (os.system, ("touch /tmp/gnnkit-pwned",))


def test_payload_that_would_create_a_file_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "ind.cora.x"
    evil.write_bytes(pickle.dumps(_CreatesFile(str(marker)), protocol=2))
    with pytest.raises(DatasetFileError, match=r"ind\.cora\.x: pickle refers to (builtins|io)\.open, which is not "
                                               r"allowed.*no code from it ran"):
        safe_pickle.load(evil)
    assert not marker.exists()


def test_payload_calling_os_system_is_refused(tmp_path):
    evil = tmp_path / "x.pkl"
    evil.write_bytes(pickle.dumps(_RunsShell(), protocol=0))
    with pytest.raises(DatasetFileError, match=r"(posix|os|nt)\.system, which is not allowed"):
        safe_pickle.load(evil)


@pytest.mark.parametrize("protocol", [2, 4])
def test_dataset_types_round_trip(tmp_path, protocol):
    x = sp.csr_matrix(np.array([[0, 1.5], [2.0, 0]], dtype=np.float32))
    y = np.eye(3, dtype=np.int32)
    graph = collections.defaultdict(list, {0: [1, 2], 1: [0]})
    path = tmp_path / "obj.pkl"
    path.write_bytes(pickle.dumps((x, y, graph), protocol=protocol))
    x2, y2, g2 = safe_pickle.load(path)
    assert (x2 != x).nnz == 0 and np.array_equal(y2, y) and dict(g2) == dict(graph)


def test_truncated_pickle_names_the_file(tmp_path):
    path = tmp_path / "ind.cora.y"
    path.write_bytes(pickle.dumps(np.arange(100), protocol=2)[:50])
    with pytest.raises(DatasetFileError, match=r"ind\.cora\.y: file is (truncated|corrupted)"):
        safe_pickle.load(path)


def test_garbage_bytes_name_the_file(tmp_path):
    path = tmp_path / "ind.cora.graph"
    path.write_bytes(b"\x00\x01garbage")
    with pytest.raises(DatasetFileError, match=r"ind\.cora\.graph: file is corrupted"):
        safe_pickle.load(path)


def test_length_past_the_address_space_names_the_file(tmp_path):
    # found by tests/fuzz (swap_lines on ind.cora.allx): a BINBYTES8 opcode whose 8-byte length is 2**63
    # made pickle raise a bare OverflowError
    path = tmp_path / "ind.cora.allx"
    path.write_bytes(b"\x80\x04\x8e" + (2 ** 63).to_bytes(8, "little"))
    with pytest.raises(DatasetFileError, match=r"ind\.cora\.allx: file is corrupted.*OverflowError"):
        safe_pickle.load(path)

def test_inconsistent_sparse_matrix_is_rejected(tmp_path):
    m = sp.csr_matrix(np.eye(3, dtype=np.float32))
    m.indices[0] = 7  # column out of range
    path = tmp_path / "m.pkl"
    path.write_bytes(pickle.dumps(m, protocol=2))
    with pytest.raises(DatasetFileError, match="sparse matrix is inconsistent"):
        safe_pickle.load(path)


def test_sparse_matrix_missing_a_field_names_the_file(tmp_path):
    # found by tests/fuzz (a flipped byte in ind.cora.tx): the pickle restored a csr_matrix without its
    # indptr, and check_format raised a bare AttributeError
    m = sp.csr_matrix(np.eye(3, dtype=np.float32))
    raw = pickle.dumps(m, protocol=2).replace(b"indptr", b"indpts")
    path = tmp_path / "ind.cora.tx"
    path.write_bytes(raw)
    with pytest.raises(DatasetFileError, match=r"ind\.cora\.tx: sparse matrix is inconsistent"):
        safe_pickle.load(path)

def test_missing_file_is_reported(tmp_path):
    with pytest.raises(DatasetFileError, match="file not found"):
        safe_pickle.load(tmp_path / "absent")
