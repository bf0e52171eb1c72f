"""Shipped 10fold_idx files that do not fit the dataset are refused, naming the file (datasets/tu.py read_folds)."""
import numpy as np
import pytest

from gnnkit.datasets.errors import DatasetFileError
from gnnkit.datasets.tu import read_folds


def _write(folder, folds):
    folder.mkdir(parents=True, exist_ok=True)
    for i, (train, test) in enumerate(folds, 1):
        (folder / f"train_idx-{i}.txt").write_text("\n".join(map(str, train)) + "\n")
        (folder / f"test_idx-{i}.txt").write_text("\n".join(map(str, test)) + "\n")


def _good(n=6, k=3):
    ids = np.arange(n)
    return [(np.setdiff1d(ids, ids[i::k]).tolist(), ids[i::k].tolist()) for i in range(k)]


def test_good_folds_are_read_in_file_order(tmp_path):
    _write(tmp_path, _good())
    folds = read_folds(tmp_path, 6)
    assert [f[1].tolist() for f in folds] == [[0, 3], [1, 4], [2, 5]]


def test_out_of_range_id_names_the_file(tmp_path):
    folds = _good()
    folds[1] = (folds[1][0], folds[1][1] + [9])
    _write(tmp_path, folds)
    with pytest.raises(DatasetFileError, match=r"test_idx-2\.txt: graph id 9 is out of range: the dataset has 6"):
        read_folds(tmp_path, 6)


def test_negative_id_in_a_train_file_names_it(tmp_path):
    folds = _good()
    folds[0] = ([-1] + folds[0][0], folds[0][1])
    _write(tmp_path, folds)
    with pytest.raises(DatasetFileError, match=r"train_idx-1\.txt: graph id -1 is out of range"):
        read_folds(tmp_path, 6)


def test_a_graph_in_two_test_folds_names_both_files(tmp_path):
    folds = _good()                            # test folds {0, 3}, {1, 4}, {2, 5}
    folds[2] = ([0, 1, 3, 5], [2, 4])          # each pair still partitions 0..5, but graph 4 is tested twice
    _write(tmp_path, folds)
    with pytest.raises(DatasetFileError, match=r"test_idx-3\.txt: graph 4 is also in the test fold test_idx-2\.txt"):
        read_folds(tmp_path, 6)


def test_folds_that_miss_a_graph_are_refused(tmp_path):
    folds = _good()
    folds[0] = (folds[0][0][:-1], folds[0][1])
    _write(tmp_path, folds)
    with pytest.raises(DatasetFileError, match=r"test_idx-1\.txt: with train_idx-1\.txt does not partition the 6"):
        read_folds(tmp_path, 6)


def test_a_deleted_fold_file_is_named_instead_of_giving_nine_folds(tmp_path):
    _write(tmp_path, _good(20, 10))
    (tmp_path / "test_idx-10.txt").unlink()
    with pytest.raises(DatasetFileError, match=r"test_idx-10\.txt: is missing: the 10-fold split needs "
                                               r"test_idx-1\.txt \.\. test_idx-10\.txt"):
        read_folds(tmp_path, 20, k=10)


def test_a_missing_middle_file_is_caught_without_k(tmp_path):
    _write(tmp_path, _good())
    (tmp_path / "train_idx-2.txt").unlink()
    with pytest.raises(DatasetFileError, match=r"train_idx-2\.txt: is missing: the 3-fold split"):
        read_folds(tmp_path, 6)


def test_tudataset_folds_require_all_ten_shipped_files(need, tmp_path):
    import shutil

    from gnnkit.datasets.tu import TUDataset

    root = need("tu/MUTAG/MUTAG.txt")
    copy = tmp_path / "tu" / "MUTAG"
    shutil.copytree(root / "tu" / "MUTAG", copy, ignore=shutil.ignore_patterns("raw"))
    assert len(TUDataset(tmp_path, "MUTAG").folds()) == 10
    (copy / "10fold_idx" / "test_idx-7.txt").unlink()
    with pytest.raises(DatasetFileError, match=r"test_idx-7\.txt: is missing"):
        TUDataset(tmp_path, "MUTAG").folds()
