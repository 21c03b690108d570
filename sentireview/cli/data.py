"""`sentireview data download|prepare`: get IMDb, and turn it into a prepared dataset."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from sentireview.text import RECIPES

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``data`` group and its commands."""
    data = subparsers.add_parser(
        "data",
        help="download IMDb and prepare train/valid/test splits",
        description="Get the IMDb reviews (Maas et al., ACL 2011) and prepare them for training.",
    )
    commands = data.add_subparsers(dest="data_command", metavar="COMMAND", required=True)

    dl = commands.add_parser(
        "download",
        help="download, verify and extract aclImdb_v1.tar.gz",
        description=(
            "Download the Large Movie Review Dataset (aclImdb_v1.tar.gz) from Stanford, verify "
            "its sha256 and extract it safely to OUT/aclImdb. Interrupted downloads resume "
            "(OUT/aclImdb_v1.tar.gz.partial); when OUT/aclImdb exists there is nothing to do. "
            "The data is free for research use; cite Maas et al., ACL 2011."
        ),
    )
    dl.add_argument(
        "--out", type=Path, default=Path("dataset"), help="target folder (default: %(default)s)"
    )
    dl.add_argument("--url", help="a mirror of the archive (default: the official Stanford URL)")
    dl.add_argument(
        "--sha256",
        help="expected sha256 of the archive (default: the official one; "
        "with --archive, any archive known to this project)",
    )
    dl.add_argument(
        "--archive",
        type=Path,
        metavar="PATH",
        help="use this local copy of the archive instead of downloading",
    )
    dl.add_argument(
        "--no-extract", action="store_true", help="only download and verify the archive"
    )
    dl.add_argument("--no-progress", action="store_true", help="no progress bar")
    dl.set_defaults(func=_download)

    prep = commands.add_parser(
        "prepare",
        help="clean and split reviews into parquet files",
        description=(
            "Read SOURCE (the aclImdb folder, aclImdb_v1.tar.gz itself, or a CSV: Kaggle's "
            "review,sentiment or the tutorial's prepared ,review,label with labels 0/1), clean "
            "every review with the chosen recipe and write "
            "OUT/{train,valid,test,unsup}.parquet and OUT/manifest.json. Rows of a tutorial CSV "
            "with an empty review are skipped, named in a warning and counted in the manifest."
        ),
    )
    prep.add_argument(
        "source",
        type=Path,
        metavar="SOURCE",
        help="aclImdb folder, aclImdb_v1.tar.gz, or a CSV (review,sentiment or ,review,label)",
    )
    prep.add_argument("--out", type=Path, required=True, help="output folder")
    prep.add_argument(
        "--recipe",
        choices=RECIPES,
        default="tutorial",
        help="text cleaning recipe for the 'clean' column (default: %(default)s)",
    )
    prep.add_argument(
        "--split",
        choices=("tutorial", "official"),
        default=None,
        help="tutorial: 70/10/20 of all labelled reviews; official: the 25,000 "
        "test reviews as test and train split 90/10 into train/valid "
        "(default: official for aclImdb, tutorial for a CSV)",
    )
    prep.add_argument("--seed", type=int, default=17, help="split seed (default: %(default)s)")
    prep.add_argument(
        "--workers", type=int, default=None, help="cleaning processes (default: one per CPU)"
    )
    prep.add_argument("--force", action="store_true", help="replace OUT if it exists")
    prep.add_argument("--no-progress", action="store_true", help="no progress bar")
    prep.set_defaults(func=_prepare)


def _download(args: argparse.Namespace) -> int:
    from sentireview.data.download import IMDB_URL, download

    path = download(
        args.out,
        url=args.url or IMDB_URL,
        sha256=args.sha256,
        archive=args.archive,
        extract=not args.no_extract,
        progress=not args.no_progress,
    )
    log.info("ready: %s", path)
    return 0


def _prepare(args: argparse.Namespace) -> int:
    from sentireview.data.prepare import prepare

    manifest = prepare(
        args.source,
        args.out,
        recipe=args.recipe,
        split=args.split,
        seed=args.seed,
        workers=args.workers,
        force=args.force,
        progress=not args.no_progress,
    )
    counts = ", ".join(f"{k} {sum(v.values())}" for k, v in manifest["counts"].items())
    log.info(
        "prepared %s (%s split, %s recipe): %s",
        args.out,
        manifest["split"],
        manifest["recipe"],
        counts,
    )
    return 0
