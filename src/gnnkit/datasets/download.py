"""Fetching dataset files safely: pinned checksums, atomic writes, guarded extraction.

Three rules hold for every file gnnkit puts in a data folder:

1. It is checked against a pinned checksum (sha256, or the git blob id of the file
   in the repository it comes from) **before** it gets its final name.
2. It is written to a temporary file in the same folder and then renamed
   (``os.replace`` is atomic on one filesystem), so an interrupted download
   never leaves a half-written file under the real name.
3. Archives are extracted only after every member path has been checked to stay
   inside the target folder (no ``../evil``, no absolute paths, no links, no
   devices), into a temporary folder that is renamed into place at the end.

Example::

    remote = Remote("https://example.org/ind.cora.x", sha256="23cf...")
    path = fetch(remote, Path("data/planetoid/ind.cora.x"))
"""
from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from gnnkit.datasets.errors import DatasetFileError

_CHUNK = 1 << 20


@dataclass(frozen=True)
class Remote:
    """Where a file comes from and how it is verified.

    Args:
        url: the original source (http(s) or file URL).
        sha256: hex sha256 of the file's bytes.
        git_blob: hex git blob id (``sha1("blob <size>\\0" + bytes)``), for files whose
            sha256 is not known but whose git object id in the source repository is.
    """

    url: str
    sha256: str | None = None
    git_blob: str | None = None

    def __post_init__(self):
        if self.sha256 is None and self.git_blob is None:
            raise ValueError(f"Remote({self.url!r}) needs a pinned checksum: pass sha256=... or git_blob=...")


def _digest(path: str | Path, h):
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256sum(path: str | Path) -> str:
    """Hex sha256 of a file."""
    return _digest(path, hashlib.sha256())


def git_blob_id(path: str | Path) -> str:
    """The git object id git would give the file (``git hash-object path``)."""
    return _digest(path, hashlib.sha1(f"blob {Path(path).stat().st_size}\0".encode()))


def verify(path: str | Path, remote: Remote) -> None:
    """Raise ``DatasetFileError`` unless ``path`` matches ``remote``'s pinned checksum."""
    if remote.sha256 is not None:
        got = sha256sum(path)
        if got != remote.sha256:
            raise DatasetFileError(path, f"sha256 mismatch: expected {remote.sha256}, got {got}; "
                                         "the file is corrupted or not the published one, delete it and fetch again")
    if remote.git_blob is not None:
        got = git_blob_id(path)
        if got != remote.git_blob:
            raise DatasetFileError(path, f"git blob id mismatch: expected {remote.git_blob}, got {got}; "
                                         "delete the file and fetch again")


def offline() -> bool:
    """``True`` when ``$GNNKIT_OFFLINE`` is set to anything but ``''``/``0``: no downloads."""
    return os.environ.get("GNNKIT_OFFLINE", "") not in ("", "0")


def source_url(remote: Remote, relative: str | None = None) -> str:
    """Where ``remote`` is fetched from: its URL, or ``$GNNKIT_MIRROR/<relative>`` when a mirror laid out
    like the data root is configured (``file:///path`` or ``https://host/path``)."""
    mirror = os.environ.get("GNNKIT_MIRROR")
    if mirror and relative:
        return mirror.rstrip("/") + "/" + relative
    return remote.url


def fetch(remote: Remote, dest: str | Path, timeout: float = 60.0, url: str | None = None,
          progress: bool = True) -> Path:
    """Download ``remote`` (from ``url``, default ``remote.url``) to ``dest`` unless a verified copy is
    already there, with a progress bar on a terminal.

    The bytes go to a temporary file next to ``dest``; the checksum is compared
    before the rename, and on any failure (network error, mismatch, interrupt)
    the temporary file is removed, so ``dest`` is either absent or verified.
    """
    from tqdm import tqdm

    url = url or remote.url
    dest = Path(dest)
    if dest.exists():
        verify(dest, remote)
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            total = response.headers.get("Content-Length") if hasattr(response, "headers") else None
            with tqdm(total=int(total) if total else None, unit="B", unit_scale=True, desc=dest.name, leave=False,
                      disable=not (progress and sys.stderr.isatty())) as bar:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    out.write(chunk)
                    bar.update(len(chunk))
        try:
            verify(tmp, remote)
        except DatasetFileError as err:
            raise DatasetFileError(dest, f"download from {url} refused ({err.reason}); "
                                         "nothing was kept") from None
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return dest


# ------------------------------------------------------------------ archives
def _check_member_name(name: str, archive: Path) -> PurePosixPath:
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or (p.parts and ":" in p.parts[0]):
        raise DatasetFileError(archive, f"member {name!r} has an absolute path; refusing to extract")
    if ".." in p.parts:
        raise DatasetFileError(archive, f"member {name!r} would be written outside the target folder; "
                                        "refusing to extract")
    return p


def check_archive(archive: str | Path) -> list[str]:
    """Member names of a zip or tar archive, after checking each stays inside the target
    folder and is a plain file or folder. Raises ``DatasetFileError`` naming the bad member."""
    archive = Path(archive)
    names = []
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist():
                _check_member_name(info.filename, archive)
                mode = (info.external_attr >> 16) & 0o170000
                if mode == 0o120000:
                    raise DatasetFileError(archive, f"member {info.filename!r} is a symbolic link; refusing to extract")
                names.append(info.filename)
        return names
    try:
        with tarfile.open(archive) as t:
            for m in t.getmembers():
                _check_member_name(m.name, archive)
                if not (m.isfile() or m.isdir()):
                    raise DatasetFileError(archive, f"member {m.name!r} is a link or special file; refusing to extract")
                names.append(m.name)
    except tarfile.TarError as err:
        raise DatasetFileError(archive, f"not a readable zip or tar archive ({err})") from err
    return names


def safe_extract(archive: str | Path, target: str | Path) -> Path:
    """Extract ``archive`` (zip or tar, optionally compressed) into folder ``target``.

    Every member is checked first (see ``check_archive``); nothing is written if one
    fails. Files are extracted into a temporary sibling folder that replaces
    ``target`` only when extraction finished.
    """
    archive, target = Path(archive), Path(target)
    check_archive(archive)
    if target.exists():
        raise DatasetFileError(target, "target folder already exists; remove it to extract again")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent))
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as z:
                z.extractall(tmp)
        else:
            with tarfile.open(archive) as t:
                t.extractall(tmp, filter="data")
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target
