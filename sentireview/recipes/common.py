"""What the recipes (:mod:`.shipped`, :mod:`.transformer`) share: skipping done steps, and
finding the IMDb archive."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from sentireview.data.download import download

log = logging.getLogger("sentireview.recipes")


def step(name: str, done: bool) -> bool:
    """Log and report whether a step must run."""
    log.info("%s: already done, skipped" if done else "%s ...", name)
    return not done


def get_archive(archive: Path | None, work: Path) -> Path:
    """``archive``; else ``$SENTIREVIEW_IMDB_ARCHIVE``; else the official archive, downloaded
    into ``work/download`` (resumed if interrupted)."""
    if archive is not None:
        return archive
    if os.environ.get("SENTIREVIEW_IMDB_ARCHIVE"):
        return Path(os.environ["SENTIREVIEW_IMDB_ARCHIVE"])
    return download(work / "download", extract=False)
