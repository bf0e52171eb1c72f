"""download.py: pinned checksums, atomic writes, archive member checks."""
import hashlib
import io
import subprocess
import tarfile
import zipfile

import pytest

from gnnkit.datasets.download import Remote, check_archive, fetch, git_blob_id, safe_extract, sha256sum, verify
from gnnkit.datasets.errors import DatasetFileError

PAYLOAD = b"2708\n1433\n"


@pytest.fixture
def source(tmp_path):
    src = tmp_path / "source" / "file.txt"
    src.parent.mkdir()
    src.write_bytes(PAYLOAD)
    return src


def test_fetch_verified_download_lands_under_its_name(source, tmp_path):
    dest = tmp_path / "cache" / "file.txt"
    remote = Remote(source.as_uri(), sha256=hashlib.sha256(PAYLOAD).hexdigest())
    assert fetch(remote, dest) == dest
    assert dest.read_bytes() == PAYLOAD
    assert sorted(p.name for p in dest.parent.iterdir()) == ["file.txt"]  # no temp file left


def test_fetch_checksum_mismatch_is_refused_and_leaves_nothing(source, tmp_path):
    cache = tmp_path / "cache"
    remote = Remote(source.as_uri(), sha256="0" * 64)
    with pytest.raises(DatasetFileError, match=r"file\.txt: download from .* refused \(sha256 mismatch"):
        fetch(remote, cache / "file.txt")
    assert list(cache.iterdir()) == []  # neither the file nor a half-written temp file


def test_fetch_git_blob_pin_matches_git_hash_object(source, tmp_path):
    out = subprocess.run(["git", "hash-object", str(source)], capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip("git not available")
    blob = out.stdout.strip()
    assert git_blob_id(source) == blob
    dest = fetch(Remote(source.as_uri(), git_blob=blob), tmp_path / "c" / "f.txt")
    assert dest.read_bytes() == PAYLOAD
    with pytest.raises(DatasetFileError, match="git blob id mismatch"):
        fetch(Remote(source.as_uri(), git_blob="1" * 40), tmp_path / "d" / "f.txt")
    assert list((tmp_path / "d").iterdir()) == []


def test_fetch_existing_corrupted_file_is_reported(source, tmp_path):
    dest = tmp_path / "file.txt"
    dest.write_bytes(PAYLOAD[:-3])  # truncated copy already in the cache
    with pytest.raises(DatasetFileError, match=r"file\.txt: sha256 mismatch"):
        fetch(Remote(source.as_uri(), sha256=sha256sum(source)), dest)


def test_fetch_network_error_leaves_no_temp_file(tmp_path):
    cache = tmp_path / "cache"
    with pytest.raises(OSError):
        fetch(Remote((tmp_path / "absent.txt").as_uri(), sha256="0" * 64), cache / "x.txt")
    assert list(cache.iterdir()) == []


def test_remote_requires_a_pinned_checksum():
    with pytest.raises(ValueError, match="needs a pinned checksum"):
        Remote("https://example.org/x")


def test_verify_accepts_the_right_sha256(source):
    verify(source, Remote("x", sha256=hashlib.sha256(PAYLOAD).hexdigest()))


def _zip(path, members):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def _tar(path, members, symlink=None):
    with tarfile.open(path, "w:gz") as t:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        if symlink:
            info = tarfile.TarInfo(symlink[0])
            info.type = tarfile.SYMTYPE
            info.linkname = symlink[1]
            t.addfile(info)
    return path


@pytest.mark.parametrize("make", [_zip, _tar])
def test_archive_member_escaping_the_target_is_refused(tmp_path, make):
    archive = make(tmp_path / ("a.zip" if make is _zip else "a.tar.gz"), {"ok.txt": b"1", "../evil": b"boom"})
    target = tmp_path / "out" / "data"
    with pytest.raises(DatasetFileError, match=r"member '\.\./evil' would be written outside the target folder"):
        safe_extract(archive, target)
    assert not (tmp_path / "out" / "evil").exists() and not (tmp_path / "evil").exists()
    assert not target.exists()
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_archive_absolute_member_is_refused(tmp_path):
    archive = _tar(tmp_path / "a.tar.gz", {"/etc/evil": b"x"})
    with pytest.raises(DatasetFileError, match="absolute path"):
        check_archive(archive)


def test_archive_symlink_member_is_refused(tmp_path):
    archive = _tar(tmp_path / "a.tar.gz", {"ok.txt": b"1"}, symlink=("link", "/etc/passwd"))
    with pytest.raises(DatasetFileError, match="'link' is a link or special file"):
        safe_extract(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("make", [_zip, _tar])
def test_safe_extract_writes_members_inside_target(tmp_path, make):
    archive = make(tmp_path / ("a.zip" if make is _zip else "a.tar.gz"), {"fra-eng/fra.txt": b"Go.\tVa !\n"})
    target = safe_extract(archive, tmp_path / "data")
    assert (target / "fra-eng" / "fra.txt").read_bytes() == b"Go.\tVa !\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # temp folder renamed away


def test_not_an_archive_names_the_file(tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not an archive")
    with pytest.raises(DatasetFileError, match=r"bad\.zip: not a readable zip or tar archive"):
        check_archive(bad)
