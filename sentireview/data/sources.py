"""Read reviews from the three source formats: the aclImdb folder, its .tar.gz, a Kaggle CSV.

Every reader returns a :class:`Reviews` (plain column lists, in a deterministic order) or
raises :class:`~sentireview.errors.DataError` with a one-line message naming the file and,
for a CSV, the row. Nothing here writes anything.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import os
import re
import tarfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from sentireview.data.download import sha256_file
from sentireview.errors import DataError

log = logging.getLogger(__name__)

# aclImdb/{train,test}/{pos,neg,unsup}/<id>_<stars>.txt
_MEMBER = re.compile(r"(?:^|/)(train|test)/(pos|neg|unsup)/(\d+)_(\d+)\.txt$")
_FILE_NAME = re.compile(r"(\d+)_(\d+)\.txt")
_CLASS_LABEL = {"neg": 0, "pos": 1, "unsup": -1}
_REQUIRED = ("train/pos", "train/neg", "test/pos", "test/neg")
_ORDER = {"train": 0, "test": 1, "neg": 0, "pos": 1, "unsup": 2}
CSV_LABELS = {"negative": 0, "positive": 1}


@dataclass
class Reviews:
    """Reviews as columns. ``group`` is the aclImdb folder a review came from (``train``,
    ``test``) or ``all`` for a CSV; unlabelled reviews have label -1."""

    kind: str  # "aclimdb" | "csv"
    path: Path
    sha256: str
    ids: list[str] = field(default_factory=list)
    ratings: list[int] = field(default_factory=list)
    raws: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)

    def append(self, id_: str, rating: int, raw: str, label: int, group: str) -> None:
        self.ids.append(id_)
        self.ratings.append(rating)
        self.raws.append(raw)
        self.labels.append(label)
        self.groups.append(group)


def read_source(path: Path) -> Reviews:
    """Read an aclImdb folder (or a folder holding ``aclImdb/``), an aclImdb tar archive, or a
    CSV with ``review,sentiment`` columns."""
    path = Path(path)
    if path.is_dir():
        if not (path / "train").is_dir() and (path / "aclImdb").is_dir():
            path = path / "aclImdb"
        return read_aclimdb_folder(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file or folder")
    if path.suffix.lower() == ".csv":
        return read_csv(path)
    if path.name.lower().endswith((".tar.gz", ".tgz", ".tar")) or tarfile.is_tarfile(path):
        return read_aclimdb_tar(path)
    return read_csv(path)


def _decode(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{where}: not valid UTF-8 (byte {exc.start})") from None


def _sorted(reviews: Reviews) -> Reviews:
    """Order aclImdb reviews by folder, class and numeric id, whatever the source order."""

    def key(i: int) -> tuple[int, int, int]:
        group, cls, num = reviews.ids[i].split("/")
        return _ORDER[group], _ORDER[cls], int(num)

    order = sorted(range(len(reviews)), key=key)
    out = Reviews(reviews.kind, reviews.path, reviews.sha256)
    for i in order:
        out.append(
            reviews.ids[i],
            reviews.ratings[i],
            reviews.raws[i],
            reviews.labels[i],
            reviews.groups[i],
        )
    return out


def read_aclimdb_folder(root: Path) -> Reviews:
    """Read ``root/{train,test}/{pos,neg}`` and ``root/train/unsup`` (optional).

    The checksum recorded is a tree hash: sha256 over the sorted relative paths and the sha256
    of each review file, so the same reviews give the same value wherever they live.
    """
    root = Path(root)
    missing = [sub for sub in _REQUIRED if not (root / sub).is_dir()]
    if missing:
        raise DataError(f"{root}: not an aclImdb folder (no {missing[0]}/ in it)")
    tree = hashlib.sha256()
    reviews = Reviews("aclimdb", root, "")
    for group in ("train", "test"):
        for cls in ("neg", "pos", "unsup"):
            folder = root / group / cls
            if not folder.is_dir():
                continue
            entries = [e for e in os.scandir(folder) if e.is_file() and e.name.endswith(".txt")]
            parsed = []
            for entry in entries:
                match = _FILE_NAME.fullmatch(entry.name)
                if not match:
                    raise DataError(f"{entry.path}: unexpected file name (want <id>_<stars>.txt)")
                parsed.append((int(match[1]), int(match[2]), entry))
            for num, stars, entry in sorted(parsed, key=lambda p: p[0]):
                data = Path(entry.path).read_bytes()
                rel = f"{group}/{cls}/{entry.name}"
                tree.update(f"{rel}\0{hashlib.sha256(data).hexdigest()}\n".encode())
                raw = _decode(data, entry.path)
                reviews.append(f"{group}/{cls}/{num}", stars, raw, _CLASS_LABEL[cls], group)
    reviews.sha256 = tree.hexdigest()
    log.info("read %d reviews from %s", len(reviews), root)
    return reviews


def read_aclimdb_tar(path: Path) -> Reviews:
    """Stream the review files out of an aclImdb archive, without extracting it."""
    path = Path(path)
    reviews = Reviews("aclimdb", path, sha256_file(path))
    seen: set[str] = set()
    try:
        with tarfile.open(path, "r|*") as tar:
            for member in tar:
                match = _MEMBER.search(member.name)
                if not match or not member.isfile():
                    continue
                group, cls, num, stars = match.groups()
                handle = tar.extractfile(member)
                assert handle is not None  # a regular file
                raw = _decode(handle.read(), f"{path}: {member.name}")
                reviews.append(
                    f"{group}/{cls}/{int(num)}", int(stars), raw, _CLASS_LABEL[cls], group
                )
                seen.add(f"{group}/{cls}")
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise DataError(f"{path}: not a readable tar archive ({exc})") from None
    missing = [sub for sub in _REQUIRED if sub not in seen]
    if missing:
        raise DataError(f"{path}: not an aclImdb archive (no reviews under {missing[0]}/)")
    log.info("read %d reviews from %s", len(reviews), path)
    return _sorted(reviews)


def read_csv(path: Path) -> Reviews:
    """Read a CSV with ``review`` and ``sentiment`` (``positive``/``negative``) columns, such as
    Kaggle's "IMDB Dataset.csv". Ids are ``csv/<row>``, the 1-based data row."""
    path = Path(path)
    data = path.read_bytes()
    if not data.strip():
        raise DataError(f"{path}: empty file")
    reviews = Reviews("csv", path, hashlib.sha256(data).hexdigest())
    # Undecodable bytes survive as lone surrogates so that the row holding them can be named.
    text = data.decode("utf-8-sig", errors="surrogateescape")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip().lower() for name in next(reader)]
        if header == [""] or not header:
            raise DataError(f"{path}: empty header row")
        missing = [c for c in ("review", "sentiment") if c not in header]
        if missing:
            raise DataError(
                f"{path}: header row: missing column {missing[0]!r} (found {', '.join(header)})"
            )
        col_review, col_label = header.index("review"), header.index("sentiment")
        row = 0
        for fields in reader:
            if not fields:  # a blank line
                continue
            row += 1
            where = f"{path}: row {row}"
            if len(fields) != len(header):
                raise DataError(f"{where}: {len(fields)} fields, the header has {len(header)}")
            for value in fields:
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError:
                    raise DataError(f"{where}: not valid UTF-8") from None
            review, sentiment = fields[col_review], fields[col_label].strip().lower()
            if sentiment not in CSV_LABELS:
                raise DataError(
                    f"{where}: unknown sentiment {fields[col_label]!r} "
                    "(expected 'positive' or 'negative')"
                )
            if not review.strip():
                raise DataError(f"{where}: empty review")
            reviews.append(f"csv/{row}", -1, review, CSV_LABELS[sentiment], "all")
    except StopIteration:
        raise DataError(f"{path}: empty file") from None
    except csv.Error as exc:
        raise DataError(f"{path}: line {reader.line_num}: {exc}") from None
    if not reviews.ids:
        raise DataError(f"{path}: no data rows after the header")
    log.info("read %d reviews from %s", len(reviews), path)
    return reviews
