"""IMDb data: download and safe extraction (:mod:`.download`), and preparation of the
parquet splits (:mod:`.prepare`, which needs pandas and pyarrow from the ``[train]`` extra)."""

from sentireview.data.download import (
    ARCHIVE_NAME,
    IMDB_SHA256,
    IMDB_URL,
    download,
    fetch,
    safe_extract,
    sha256_file,
)

__all__ = [
    "ARCHIVE_NAME",
    "IMDB_SHA256",
    "IMDB_URL",
    "download",
    "fetch",
    "safe_extract",
    "sha256_file",
]
