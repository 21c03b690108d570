"""Read reviews from the source formats: the aclImdb folder, its .tar.gz, a CSV (Kaggle's
layout or the tutorial's own prepared files, see :func:`read_csv`).

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
from collections.abc import Iterator
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
    ``test``) or ``all`` for a CSV; unlabelled reviews have label -1. For a CSV, ``layout`` is
    ``kaggle`` or ``tutorial`` and ``skipped`` the 1-based data rows left out for an empty
    review."""

    kind: str  # "aclimdb" | "csv"
    path: Path
    sha256: str
    ids: list[str] = field(default_factory=list)
    ratings: list[int] = field(default_factory=list)
    raws: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    layout: str = ""
    skipped: list[int] = field(default_factory=list)

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
    CSV with ``review,sentiment`` (Kaggle) or ``,review,label`` (the tutorial) columns."""
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


@dataclass(frozen=True)
class CsvLayout:
    """One CSV layout: the column holding the label, how labels are spelled, and whether a row
    with an empty review stops the read (``False``) or is skipped and reported (``True``)."""

    name: str
    label_column: str
    labels: dict[str, int]
    expected: str  # the labels, as an error message names them
    skips_empty: bool


KAGGLE = CsvLayout("kaggle", "sentiment", CSV_LABELS, "'positive' or 'negative'", False)
# The tutorial's own prepared CSVs: a pandas index column with an empty name, ``review`` and
# ``label`` (1 = positive). Read for their format only: no model of this project trains on them.
TUTORIAL = CsvLayout("tutorial", "label", {"0": 0, "1": 1}, "0 or 1", True)
CSV_LAYOUTS = (KAGGLE, TUTORIAL)
NAMED_ROWS = 10  # skipped rows named in the warning; the rest are counted


def _column_list(header: list[str]) -> str:
    return ", ".join(name or "''" for name in header)


def csv_layout(path: Path, header: list[str]) -> CsvLayout:
    """The layout a CSV header row (names stripped and lower-cased) belongs to, or a
    :class:`DataError` when the columns are missing, repeated or fit both layouts."""
    found = _column_list(header)
    named = [name for name in header if name]
    repeated = sorted({name for name in named if named.count(name) > 1})
    if repeated:
        raise DataError(f"{path}: header row: column {repeated[0]!r} appears twice ({found})")
    if "review" not in header:
        raise DataError(f"{path}: header row: missing column 'review' (found {found})")
    matches = [layout for layout in CSV_LAYOUTS if layout.label_column in header]
    if len(matches) > 1:
        raise DataError(
            f"{path}: header row: both 'sentiment' (Kaggle layout) and 'label' (tutorial "
            f"layout) columns, so the labels are ambiguous (found {found})"
        )
    if not matches:
        raise DataError(
            f"{path}: header row: no label column; expected 'sentiment' (Kaggle layout "
            f"review,sentiment) or 'label' (tutorial layout ,review,label) (found {found})"
        )
    return matches[0]


def _check_fields(fields: list[str], width: int, where: str) -> None:
    """Refuse a row with the wrong number of fields or bytes that are not UTF-8."""
    if len(fields) != width:
        raise DataError(f"{where}: {len(fields)} fields, the header has {width}")
    for value in fields:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise DataError(f"{where}: not valid UTF-8") from None


def _label(layout: CsvLayout, value: str, where: str) -> int:
    label = layout.labels.get(value.strip().lower())
    if label is None:
        raise DataError(
            f"{where}: unknown {layout.label_column} {value!r} (expected {layout.expected})"
        )
    return label


def _name_skipped(path: Path, names: list[str]) -> None:
    """Warn (on stderr, through the CLI's logging) which rows were skipped, at most
    :data:`NAMED_ROWS` of them by name."""
    if not names:
        return
    listed = ", ".join(names[:NAMED_ROWS])
    more = f" and {len(names) - NAMED_ROWS} more" if len(names) > NAMED_ROWS else ""
    log.warning(
        "%s: skipped %d row(s) with an empty review: %s%s", path, len(names), listed, more
    )


def _read_rows(reader: Iterator[list[str]], header: list[str], reviews: Reviews) -> None:
    """Append the data rows of a CSV, its header already read, to ``reviews``."""
    path, layout = reviews.path, csv_layout(reviews.path, header)
    reviews.layout = layout.name
    col_review, col_label = header.index("review"), header.index(layout.label_column)
    index_col = 0 if header[0] == "" else None  # the tutorial's pandas index
    skipped: list[str] = []
    row = 0
    for fields in reader:
        if not fields:  # a blank line
            continue
        row += 1
        where = f"{path}: row {row}"
        _check_fields(fields, len(header), where)
        review = fields[col_review]
        if layout.skips_empty and not review.strip():
            reviews.skipped.append(row)
            index = "" if index_col is None else f" (index {fields[index_col].strip()})"
            skipped.append(f"row {row}{index}")
            continue
        label = _label(layout, fields[col_label], where)
        if not review.strip():
            raise DataError(f"{where}: empty review")
        reviews.append(f"csv/{row}", -1, review, label, "all")
    _name_skipped(path, skipped)


def read_csv(path: Path) -> Reviews:
    """Read a CSV in one of two layouts, told apart by the header row:

    - ``kaggle``: ``review`` and ``sentiment`` (``positive``/``negative``) columns, such as
      Kaggle's "IMDB Dataset.csv". A row with an empty review is an error.
    - ``tutorial``: the tutorial's own prepared CSVs, ``,review,label`` (a pandas index column
      with an empty name, then labels 0/1, 1 = positive). Rows whose review is empty or only
      whitespace are skipped, named in a warning and listed in ``Reviews.skipped``. These files
      are read for their format only: no model of this project trains on them.

    Other columns are ignored; a header with both label columns, or neither, is refused.
    Ids are ``csv/<row>``, the 1-based data row (skipped rows keep their number).
    """
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
        _read_rows(reader, header, reviews)
    except StopIteration:
        raise DataError(f"{path}: empty file") from None
    except csv.Error as exc:
        raise DataError(f"{path}: line {reader.line_num}: {exc}") from None
    if not reviews.ids and reviews.skipped:
        raise DataError(f"{path}: all {len(reviews.skipped)} data rows have an empty review")
    if not reviews.ids:
        raise DataError(f"{path}: no data rows after the header")
    log.info("read %d reviews from %s (%s layout)", len(reviews), path, reviews.layout)
    return reviews
