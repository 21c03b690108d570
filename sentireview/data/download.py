"""Get the IMDb archive (Large Movie Review Dataset, Maas et al. 2011) and unpack it safely.

- :func:`fetch` downloads one file with a progress bar into ``<dest>.partial``, resumes an
  interrupted transfer with an HTTP ``Range`` request (within one call, and across calls), and
  only renames the file into place once its sha256 matches.
- :func:`safe_extract` refuses archive members that could write outside the target folder
  (absolute paths, ``..``, symbolic and hard links, devices) and extracts into a temporary
  folder next to the target, renamed into place at the end: the target either is complete or
  does not exist.
- :func:`download` ties them together for ``sentireview data download``; a second run finds
  the extracted folder and does nothing.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tarfile
import tempfile
import time
import zlib
from pathlib import Path, PurePosixPath, PureWindowsPath

import requests

from sentireview.errors import DataError
from sentireview.files import sha256_file

log = logging.getLogger(__name__)

IMDB_URL = "http://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
# sha256 of the official archive (84,125,825 bytes).
IMDB_SHA256 = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"
# Archives a local copy (--archive) may be without an explicit --sha256: the official one,
# and the project's repack that lacks only the pre-computed *.feat files.
KNOWN_ARCHIVES: dict[str, str] = {
    IMDB_SHA256: "the official aclImdb_v1.tar.gz",
    "630400f7e77f38a660084b23b451f00a2c187926ebac25d89f2f06418f0eb581": (
        "aclImdb_v1.tar.gz repacked without the *.feat files"
    ),
}
ARCHIVE_NAME = "aclImdb_v1.tar.gz"
EXTRACTED_NAME = "aclImdb"

_CHUNK = 1 << 16
_HEX64 = re.compile(r"[0-9a-f]{64}")
# What a dropped connection looks like to requests: worth resuming, unlike an HTTP error.
_TRANSIENT = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


def check_sha256(value: str) -> str:
    """Normalise a user-given sha256 (64 hex digits) or raise :class:`DataError`."""
    value = value.strip().lower()
    if not _HEX64.fullmatch(value):
        raise DataError(f"not a sha256 (64 hex digits): {value!r}")
    return value


def fetch(
    url: str,
    dest: Path,
    sha256: str,
    *,
    retries: int = 5,
    timeout: float = 60.0,
    backoff: float = 1.0,
    progress: bool = True,
    session: requests.Session | None = None,
) -> Path:
    """Download ``url`` to ``dest`` and verify its sha256; return ``dest``.

    Bytes go to ``dest.partial`` first. A dropped connection is retried up to ``retries``
    times, each time asking only for the missing bytes (``Range: bytes=N-``); a ``.partial``
    left by an earlier, interrupted call is resumed the same way. A server that ignores the
    range (answers 200) is downloaded again from the start. When the checksum does not match,
    the partial file is deleted and :class:`DataError` is raised: a corrupt file is never left
    under the final name. An existing, verified ``dest`` is returned without any request.
    """
    sha256 = check_sha256(sha256)
    dest = Path(dest)
    if dest.exists():
        digest = sha256_file(dest)
        if digest != sha256:
            raise DataError(
                f"{dest} exists but its sha256 is {digest}, expected {sha256}: "
                "delete it, or pass the right --sha256"
            )
        log.info("%s already downloaded and verified", dest)
        return dest

    partial = dest.with_name(dest.name + ".partial")
    own_session = session is None
    session = session or requests.Session()
    try:
        failures = 0
        while True:
            try:
                if _transfer(session, url, partial, timeout=timeout, progress=progress):
                    break
                reason = "the server closed the connection early"
            except _TRANSIENT as exc:
                reason = f"{type(exc).__name__}: {exc}"
            except requests.RequestException as exc:  # a bad URL or scheme: retrying won't help
                raise DataError(f"cannot download {url}: {exc}") from None
            failures += 1
            if failures > retries:
                raise DataError(
                    f"download of {url} failed {failures} times ({reason}); "
                    f"run the command again to resume from {partial}"
                )
            log.warning("download interrupted (%s); resuming (attempt %d)", reason, failures + 1)
            time.sleep(backoff * failures)
    finally:
        if own_session:
            session.close()

    digest = sha256_file(partial)
    if digest != sha256:
        partial.unlink()
        raise DataError(
            f"checksum mismatch for {url}: got sha256 {digest}, expected {sha256}; "
            "the downloaded file was deleted (use --sha256 for a different archive)"
        )
    partial.replace(dest)
    log.info("downloaded and verified %s", dest)
    return dest


def _transfer(
    session: requests.Session, url: str, partial: Path, *, timeout: float, progress: bool
) -> bool:
    """One request, appending to ``partial``; True when the body arrived complete."""
    offset = partial.stat().st_size if partial.exists() else 0
    # identity: the archive's bytes as stored (a server that gzips .gz files on the fly would
    # make the checksum and the byte ranges meaningless).
    headers = {"Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    with session.get(url, headers=headers, stream=True, timeout=timeout) as response:
        if response.status_code == 416 and offset:
            # Nothing left to send: the partial file is whole (the checksum will tell).
            return True
        if response.status_code == 206 and offset:
            if not response.headers.get("Content-Range", "").startswith(f"bytes {offset}-"):
                raise DataError(f"{url}: the server answered a different range than asked for")
            mode = "ab"
        elif response.status_code == 200:
            offset, mode = 0, "wb"  # no range support: start again
        else:
            raise DataError(f"download of {url} failed: HTTP {response.status_code}")
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length and length.isdigit() else None
        received = offset
        from tqdm.auto import tqdm

        with (
            open(partial, mode) as f,
            tqdm(
                total=total,
                initial=offset,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=partial.name.removesuffix(".partial"),
                disable=None if progress else True,  # None: only on a terminal
            ) as bar,
        ):
            for chunk in response.iter_content(_CHUNK):
                f.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    return total is None or received >= total


def _unsafe_reason(member: tarfile.TarInfo, root: Path) -> str | None:
    """Why extracting ``member`` under ``root`` would be unsafe, or None."""
    name = member.name
    if name.startswith(("/", "\\")) or PureWindowsPath(name).drive or os.path.isabs(name):
        return "absolute path"
    if ".." in PurePosixPath(name.replace("\\", "/")).parts:
        return "'..' in path"
    if member.issym() or member.islnk():
        return "link"
    if not (member.isfile() or member.isdir()):
        return "device or special file"
    root = root.resolve()
    if not (root / name).resolve().is_relative_to(root):
        return "path outside the target folder"
    return None


def safe_extract(archive: Path, out_dir: Path, top: str = EXTRACTED_NAME) -> Path:
    """Extract the folder ``top`` of a tar archive into ``out_dir``; return ``out_dir/top``.

    Every member is checked before it is written; one unsafe member aborts the whole
    extraction with :class:`DataError` and removes what was written. Members are extracted
    into a temporary folder inside ``out_dir`` (with tarfile's ``data`` filter where Python
    has it, as a second line of defence) and ``top`` is renamed into place at the end.
    """
    archive, out_dir = Path(archive), Path(out_dir)
    target = out_dir / top
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{top}-", suffix=".tmp", dir=out_dir))
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                reason = _unsafe_reason(member, tmp)
                if reason:
                    raise DataError(f"{archive}: refusing member {member.name!r} ({reason})")
                if hasattr(tarfile, "data_filter"):
                    tar.extract(member, tmp, filter="data")
                else:  # pragma: no cover - Python without extraction filters
                    tar.extract(member, tmp)
        if not (tmp / top).is_dir():
            raise DataError(f"{archive}: no {top}/ folder in the archive")
        os.replace(tmp / top, target)
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise DataError(f"{archive}: not a readable tar archive ({exc})") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("extracted %s", target)
    return target


def download(
    out_dir: Path,
    *,
    url: str = IMDB_URL,
    sha256: str | None = None,
    archive: Path | None = None,
    extract: bool = True,
    progress: bool = True,
    retries: int = 5,
    backoff: float = 1.0,
) -> Path:
    """Get aclImdb into ``out_dir``; return the extracted folder (or the archive when
    ``extract`` is False).

    Without ``archive``, ``url`` is downloaded to ``out_dir/aclImdb_v1.tar.gz`` and checked
    against ``sha256`` (default: the official archive's). With ``archive`` (a local copy), no
    network is used: the file is checked against ``sha256`` or, when none is given, against
    the archives known to this project, and extracted from where it is. When
    ``out_dir/aclImdb`` already exists there is nothing to do.
    """
    out_dir = Path(out_dir)
    target = out_dir / EXTRACTED_NAME
    if extract and target.is_dir():
        log.info("%s already exists; nothing to do", target)
        return target
    out_dir.mkdir(parents=True, exist_ok=True)
    if archive is not None:
        source = Path(archive)
        if not source.is_file():
            raise DataError(f"{source}: no such archive")
        digest = sha256_file(source)
        allowed = {check_sha256(sha256)} if sha256 else set(KNOWN_ARCHIVES)
        if digest not in allowed:
            raise DataError(
                f"{source}: sha256 {digest} is not the expected "
                + (allowed.pop() if sha256 else "aclImdb archive's")
                + " (pass --sha256 to accept another archive)"
            )
        log.info("%s verified (%s)", source, KNOWN_ARCHIVES.get(digest, "sha256 as given"))
    else:
        source = fetch(
            url,
            out_dir / ARCHIVE_NAME,
            sha256 or IMDB_SHA256,
            progress=progress,
            retries=retries,
            backoff=backoff,
        )
    if not extract:
        return source
    return safe_extract(source, out_dir)
