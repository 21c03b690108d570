"""Writing files so that a reader never sees half of one, and hashing them.

The files the library writes go through :func:`atomic_path` (a temporary sibling, renamed
over the target when complete; plots, which matplotlib writes itself, are the exception) and
output folders through :func:`building_folder` (built beside the target, swapped in by
renames). An interruption leaves the previous version, never a
mixture. Standard library only: the web process imports this module.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block ends without an exception it
    replaces ``path`` (one rename), else it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write UTF-8 text atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: str | os.PathLike, data: Any, indent: int | None = 2) -> None:
    """Write JSON atomically (UTF-8, non-ASCII kept as is)."""
    end = "\n" if indent is not None else ""
    write_text(path, json.dumps(data, indent=indent, ensure_ascii=False) + end)


@contextlib.contextmanager
def building_folder(out: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty folder beside ``out`` to build in; when the block ends without an
    exception the folder replaces ``out`` (the old one, if any, is renamed aside first and
    deleted last, and put back if the swap fails), else it is deleted."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", suffix=".partial", dir=out.parent))
    umask = os.umask(0o022)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes it private; the output should not be
    old: Path | None = None
    try:
        yield tmp
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}-", suffix=".old", dir=out.parent))
            os.replace(out, old / out.name)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not out.exists():  # put the previous folder back
            os.replace(old / out.name, out)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
