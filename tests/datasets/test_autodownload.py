"""Datasets that arrive by themselves: registry.load downloads pinned files (from a file:// mirror here;
no test touches the network), verifies them, and says in one line what is missing when it cannot."""
import os
import shutil
import subprocess
import sys

import pytest

from gnnkit.datasets import DataAbsent, load, registry
from gnnkit.datasets.cli import main as data_main


@pytest.fixture
def mirror(data_root, tmp_path, monkeypatch):
    """A file:// mirror laid out like the data root, holding Cora and MUTAG; downloads allowed."""
    folder = tmp_path / "mirror"
    (folder / "planetoid").mkdir(parents=True)
    for f in (data_root / "planetoid").glob("ind.cora.*"):
        shutil.copy(f, folder / "planetoid" / f.name)
    (folder / "tu" / "MUTAG").mkdir(parents=True)
    shutil.copy(data_root / "tu" / "MUTAG" / "MUTAG.txt", folder / "tu" / "MUTAG" / "MUTAG.txt")
    monkeypatch.setenv("GNNKIT_MIRROR", folder.as_uri())
    monkeypatch.delenv("GNNKIT_OFFLINE")
    return folder


def test_load_downloads_verifies_and_reads(mirror, tmp_path):
    root = tmp_path / "root"
    g = load("cora", root)[0]
    assert g.num_nodes == 2708 and sorted(p.name for p in (root / "planetoid").iterdir())[0] == "ind.cora.allx"
    assert len(load("MUTAG", root)) == 188
    assert not list((root / "planetoid").glob(".*part"))         # no temporary files left


def test_a_corrupted_mirror_file_is_refused_and_nothing_is_kept(mirror, tmp_path):
    (mirror / "planetoid" / "ind.cora.y").write_bytes(b"tampered")
    with pytest.raises(DataAbsent, match=r"downloading file://.*ind\.cora\.y failed \(.*sha256 mismatch"):
        load("cora", tmp_path / "root")
    assert not (tmp_path / "root" / "planetoid" / "ind.cora.y").exists()


def test_offline_says_which_url_it_would_fetch_and_the_root_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("GNNKIT_OFFLINE", "1")
    with pytest.raises(DataAbsent) as err:
        load("citeseer", tmp_path)
    msg = str(err.value)
    assert "\n" not in msg and "downloads are off: would fetch https://raw.githubusercontent.com/" in msg
    assert str(tmp_path / "planetoid") in msg and "--root DIR" in msg and "ind.citeseer.x" in msg


def test_a_dataset_without_a_pinned_checksum_says_so(tmp_path, monkeypatch):
    monkeypatch.delenv("GNNKIT_OFFLINE")
    with pytest.raises(DataAbsent, match=r"no pinned checksum, so no automatic download"):
        load("ppi", tmp_path)


def test_data_download_fetches_ahead_of_time(mirror, tmp_path, capsys):
    root = tmp_path / "root"
    assert data_main(["download", "MUTAG", "--root", str(root)]) == 0
    assert "fetched 1 file(s), checksums verified" in capsys.readouterr().out
    assert data_main(["download", "MUTAG", "--root", str(root)]) == 0
    assert "every file is present" in capsys.readouterr().out
    assert registry.find("MUTAG", root).present(root)


def test_train_downloads_from_the_mirror_then_trains_and_offline_exits_1(mirror, tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    root = tmp_path / "fresh"
    cmd = [sys.executable, "-m", "gnnkit.cli", "train", "--experiment", "gcn-cora", "--epochs", "5", "--quiet",
           "--root", str(root), "--out", str(tmp_path / "out")]
    offline = subprocess.run(cmd + ["--no-download"], env=env, capture_output=True, text=True, timeout=300)
    assert offline.returncode == 1 and offline.stderr.count("\n") == 1
    assert f"would fetch {mirror.as_uri()}/planetoid/ind.cora.x" in offline.stderr
    assert "--root DIR" in offline.stderr
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1].startswith("test accuracy: ")
