"""`sentireview.data.download` against a local HTTP server serving invented archives."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from sentireview.data.download import ARCHIVE_NAME, download, fetch, safe_extract
from sentireview.errors import DataError


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_clean_download_extracts_and_verifies(tmp_path, file_server, aclimdb_tar):
    file_server.files["/a.tar.gz"] = aclimdb_tar.read_bytes()
    out = tmp_path / "dataset"
    got = download(
        out, url=file_server.url + "/a.tar.gz", sha256=_sha(aclimdb_tar), progress=False, backoff=0
    )
    assert got == out / "aclImdb"
    assert (got / "train" / "pos" / "0_8.txt").read_text("utf-8").startswith("This film #0")
    assert _sha(out / ARCHIVE_NAME) == _sha(aclimdb_tar)
    assert {p.name for p in out.iterdir()} == {ARCHIVE_NAME, "aclImdb"}  # no leftovers
    assert len(file_server.requests) == 1


def test_second_run_does_nothing(tmp_path, file_server, aclimdb_tar):
    file_server.files["/a.tar.gz"] = aclimdb_tar.read_bytes()
    out, url, sha = tmp_path / "dataset", file_server.url + "/a.tar.gz", _sha(aclimdb_tar)
    download(out, url=url, sha256=sha, progress=False)
    stamp = (out / "aclImdb").stat().st_mtime_ns
    download(out, url=url, sha256=sha, progress=False)
    assert len(file_server.requests) == 1
    assert (out / "aclImdb").stat().st_mtime_ns == stamp
    # Download only: the verified archive is not fetched again either.
    assert fetch(url, out / ARCHIVE_NAME, sha, progress=False) == out / ARCHIVE_NAME
    assert len(file_server.requests) == 1


def test_interrupted_download_resumes_with_range(tmp_path, file_server, aclimdb_tar):
    body = aclimdb_tar.read_bytes()
    file_server.files["/a.tar.gz"] = body
    file_server.cut_once["/a.tar.gz"] = len(body) // 2
    out = tmp_path / "dataset"
    download(
        out, url=file_server.url + "/a.tar.gz", sha256=_sha(aclimdb_tar), progress=False, backoff=0
    )
    assert len(file_server.requests) == 2
    first, second = (headers for _, headers in file_server.requests)
    assert "Range" not in first
    assert first["Accept-Encoding"] == "identity"  # bytes as stored, never re-encoded
    offset = int(second["Range"].removeprefix("bytes=").rstrip("-"))
    assert 0 < offset <= len(body) // 2
    assert _sha(out / ARCHIVE_NAME) == _sha(aclimdb_tar)
    assert (out / "aclImdb" / "test" / "neg").is_dir()


def test_partial_file_from_an_earlier_run_is_resumed(tmp_path, file_server, aclimdb_tar):
    body = aclimdb_tar.read_bytes()
    file_server.files["/a.tar.gz"] = body
    dest = tmp_path / ARCHIVE_NAME
    dest.with_name(ARCHIVE_NAME + ".partial").write_bytes(body[:1000])
    fetch(file_server.url + "/a.tar.gz", dest, _sha(aclimdb_tar), progress=False)
    assert file_server.requests[0][1]["Range"] == "bytes=1000-"
    assert dest.read_bytes() == body


def test_server_without_range_support_restarts(tmp_path, file_server, aclimdb_tar):
    body = aclimdb_tar.read_bytes()
    file_server.files["/a.tar.gz"], file_server.ranges = body, False
    dest = tmp_path / ARCHIVE_NAME
    dest.with_name(ARCHIVE_NAME + ".partial").write_bytes(b"stale bytes")
    fetch(file_server.url + "/a.tar.gz", dest, _sha(aclimdb_tar), progress=False)
    assert dest.read_bytes() == body


def test_gives_up_after_retries_and_keeps_the_partial(tmp_path, file_server, aclimdb_tar):
    body = aclimdb_tar.read_bytes()
    file_server.files["/a.tar.gz"] = body
    file_server.cut_always["/a.tar.gz"] = 70_000
    dest = tmp_path / ARCHIVE_NAME
    with pytest.raises(DataError, match="run the command again"):
        fetch(
            file_server.url + "/a.tar.gz",
            dest,
            _sha(aclimdb_tar),
            retries=1,
            backoff=0,
            progress=False,
        )
    assert not dest.exists()
    assert dest.with_name(ARCHIVE_NAME + ".partial").stat().st_size > 0


def test_wrong_checksum_leaves_no_archive(tmp_path, file_server, aclimdb_tar):
    file_server.files["/a.tar.gz"] = aclimdb_tar.read_bytes()
    out = tmp_path / "dataset"
    with pytest.raises(DataError, match="checksum mismatch"):
        download(out, url=file_server.url + "/a.tar.gz", sha256="0" * 64, progress=False)
    assert list(out.iterdir()) == []


def test_http_error_is_a_data_error(tmp_path, file_server):
    with pytest.raises(DataError, match="HTTP 404"):
        download(tmp_path, url=file_server.url + "/missing.tar.gz", progress=False)


def test_bad_sha256_argument(tmp_path):
    with pytest.raises(DataError, match="not a sha256"):
        download(tmp_path, url="http://127.0.0.1:9/x", sha256="abc", progress=False)


def _hostile(kind: str, tmp_path: Path) -> bytes:
    """A tar.gz with one good file and one hostile member of the given kind."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        good = tarfile.TarInfo("aclImdb/README")
        good.size = 3
        tar.addfile(good, io.BytesIO(b"ok\n"))
        data = b"evil"
        if kind == "absolute":
            info = tarfile.TarInfo(str(tmp_path / "outside" / "abs.txt"))
        elif kind == "dotdot":
            info = tarfile.TarInfo("aclImdb/../../../outside/dotdot.txt")
        elif kind == "symlink":
            info = tarfile.TarInfo("aclImdb/link")
            info.type, info.linkname, data = tarfile.SYMTYPE, str(tmp_path / "outside"), b""
        elif kind == "hardlink":
            info = tarfile.TarInfo("aclImdb/hard")
            info.type, info.linkname, data = tarfile.LNKTYPE, "aclImdb/README", b""
        elif kind == "device":
            info = tarfile.TarInfo("aclImdb/null")
            info.type, info.devmajor, info.devminor, data = tarfile.CHRTYPE, 1, 3, b""
        else:
            raise AssertionError(kind)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.mark.parametrize("kind", ["absolute", "dotdot", "symlink", "hardlink", "device"])
def test_hostile_archive_is_refused(tmp_path, kind):
    archive = tmp_path / "hostile.tar.gz"
    archive.write_bytes(_hostile(kind, tmp_path))
    out = tmp_path / "out"
    with pytest.raises(DataError, match="refusing member"):
        safe_extract(archive, out)
    assert list(out.iterdir()) == []  # no aclImdb, no temporary folder
    assert not (tmp_path / "outside").exists()
    assert _tree(tmp_path) == {"hostile.tar.gz", "out"}


def test_hostile_archive_over_http(tmp_path, file_server):
    body = _hostile("dotdot", tmp_path)
    file_server.files["/h.tar.gz"] = body
    out = tmp_path / "dataset"
    with pytest.raises(DataError, match=r"refusing member .*\.\."):
        download(
            out,
            url=file_server.url + "/h.tar.gz",
            sha256=hashlib.sha256(body).hexdigest(),
            progress=False,
        )
    assert sorted(p.name for p in out.iterdir()) == [ARCHIVE_NAME]
    assert not (tmp_path / "outside").exists()


def test_archive_without_aclimdb_folder(tmp_path, make_tar_gz):
    archive = make_tar_gz({"other/file.txt": b"x"}, tmp_path / "o.tar.gz")
    with pytest.raises(DataError, match="no aclImdb/ folder"):
        safe_extract(archive, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def test_not_an_archive(tmp_path):
    bogus = tmp_path / "bogus.tar.gz"
    bogus.write_bytes(b"this is not gzip")
    with pytest.raises(DataError, match="not a readable tar archive"):
        safe_extract(bogus, tmp_path / "out")


def test_local_archive(tmp_path, aclimdb_tar):
    out = tmp_path / "dataset"
    with pytest.raises(DataError, match="pass --sha256"):  # not a known IMDb archive
        download(out, archive=aclimdb_tar)
    got = download(out, archive=aclimdb_tar, sha256=_sha(aclimdb_tar).upper())
    assert (got / "train" / "unsup").is_dir()
    assert not (out / ARCHIVE_NAME).exists()  # extracted from where it is, not copied
    with pytest.raises(DataError, match="no such archive"):
        download(tmp_path / "other", archive=tmp_path / "missing.tar.gz")
