"""Benchmark: the tutorial recipe on IMDb's 50,000 labelled reviews, this project vs the tutorial.

Both sides clean the same reviews, in the same run:

- reference ("the tutorial's way"): a pandas ``Series.apply`` of a faithful, independent
  re-implementation of the tutorial's cleaner in one process -- pattern strings handed to
  ``re.sub`` on every call, stopwords looked up in a Python list, NLTK's ``TweetTokenizer``;
- this project: ``sentireview.data.prepare.clean_parallel(texts, "tutorial")`` -- compiled
  patterns, a frozenset of stopwords, a tokenizer call that skips NLTK's per-token emoticon
  test when lowercasing cannot change the token, chunks spread over all CPUs.

The outputs must be identical review for review (checked), then the rates and their ratio are
printed. The two sides take turns on blocks of reviews, so that other programs' load on a
shared machine hits both alike. Reading the archive is not timed. Usage::

    .venv/bin/python bench/prepare.py                  # all 50,000 labelled reviews
    .venv/bin/python bench/prepare.py --limit 2000     # a quick run
    .venv/bin/python bench/prepare.py --archive PATH   # or SENTIREVIEW_IMDB_ARCHIVE=PATH
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ARCHIVE = ROOT.parent / "shared" / "data" / "aclImdb_v1.tar.gz"


def tutorial_reference():
    """The tutorial's cleaner written as the tutorial wrote it (a closure over the text, the
    emoticon parts spliced with str.format on every call, the stopwords as a list)."""
    from nltk.tokenize import TweetTokenizer

    from sentireview.text import stopword_list

    stop_words = list(stopword_list())  # nltk's stopwords.words("english") is a list
    tknzr = TweetTokenizer(reduce_len=True, preserve_case=False, strip_handles=False)
    flags = re.MULTILINE | re.DOTALL

    def tokenize(text: str) -> str:
        eyes = r"[8:=;]"
        nose = r"['`\-]?"

        def re_sub(pattern: str, repl: str) -> str:
            return re.sub(pattern, repl, text, flags=flags)

        text = re_sub(r"https?:\/\/\S+\b|www\.(\w+\.)+\S*", "<url>")
        text = re_sub(r"/", " / ")
        text = re_sub(r"@\w+", "<user>")
        text = re_sub(r"{}{}[)dD]+|[)dD]+{}{}".format(eyes, nose, nose, eyes), "<smile>")  # noqa: UP032
        text = re_sub(r"{}{}p+".format(eyes, nose), "<lolface>")  # noqa: UP032
        text = re_sub(r"{}{}\(+|\)+{}{}".format(eyes, nose, nose, eyes), "<sadface>")  # noqa: UP032
        text = re_sub(r"{}{}[\/|l*]".format(eyes, nose), "<neutralface>")  # noqa: UP032
        text = re_sub(r"<3", "<heart>")
        text = re_sub(r"[-+]?[.\d]*[\d]+[:,.\d]*", "<number>")
        text = re_sub(r"([!?.]){2,}", r"\1 <repeat>")
        text = re_sub(r"\b(\S*?)(.)\2{2,}\b", r"\1\2 <elong>")
        text = " ".join([w for w in text.split() if w not in stop_words])
        text = text.lower()
        return " ".join(tknzr.tokenize(text))

    return tokenize


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def load_labelled(archive: Path, limit: int | None) -> list[str]:
    """The labelled reviews (train + test), in a fixed order; ``limit`` takes an even spread."""
    from sentireview.data.sources import read_aclimdb_tar

    reviews = read_aclimdb_tar(archive)
    texts = [raw for raw, label in zip(reviews.raws, reviews.labels, strict=True) if label >= 0]
    if limit and limit < len(texts):
        step = len(texts) / limit
        texts = [texts[int(i * step)] for i in range(limit)]
    return texts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--archive",
        type=Path,
        default=Path(os.environ.get("SENTIREVIEW_IMDB_ARCHIVE", DEFAULT_ARCHIVE)),
        help="aclImdb_v1.tar.gz (default: $SENTIREVIEW_IMDB_ARCHIVE or %(default)s)",
    )
    parser.add_argument("--limit", type=int, default=None, help="only N reviews (quick run)")
    parser.add_argument("--workers", type=int, default=None, help="default: one per CPU")
    parser.add_argument("--blocks", type=int, default=10, help="turns each side takes")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if not args.archive.is_file():
        parser.error(f"no archive at {args.archive} (use --archive or SENTIREVIEW_IMDB_ARCHIVE)")

    import pandas as pd

    from sentireview.data.prepare import clean_parallel, default_workers, worker_pool

    workers = args.workers or default_workers()
    t0 = time.perf_counter()
    texts = load_labelled(args.archive, args.limit)
    print(f"read {len(texts):,} labelled reviews in {time.perf_counter() - t0:.1f} s")

    # The two sides take turns on the same blocks of reviews (alternating which goes first),
    # so that load from other programs on a shared machine falls on both alike. The worker
    # processes are started once; their start-up is counted in this project's time.
    reference = tutorial_reference()
    frame = pd.DataFrame({"review": texts})
    bounds = [len(texts) * b // args.blocks for b in range(args.blocks + 1)]
    expected: list[str] = []
    got: list[str] = []
    t_ref = t_ours = cpu_ref = cpu_ours = 0.0
    children0 = _children_cpu()
    with worker_pool(workers) as pool:
        for b, (lo, hi) in enumerate(zip(bounds, bounds[1:], strict=False)):
            for side in ("ref", "ours") if b % 2 == 0 else ("ours", "ref"):
                t0, c0 = time.perf_counter(), time.process_time()
                if side == "ref":
                    expected += frame["review"].iloc[lo:hi].apply(reference).tolist()
                    t_ref += time.perf_counter() - t0
                    cpu_ref += time.process_time() - c0
                else:
                    got += clean_parallel(texts[lo:hi], "tutorial", pool=pool)
                    t_ours += time.perf_counter() - t0
                    cpu_ours += time.process_time() - c0
    cpu_ours += _children_cpu() - children0  # the workers, counted once they have exited

    mismatches = [i for i, (a, b) in enumerate(zip(expected, got, strict=True)) if a != b]
    if mismatches:
        i = mismatches[0]
        print(f"MISMATCH on {len(mismatches)} reviews; first #{i}:\n{expected[i]!r}\n{got[i]!r}")
        return 1

    n = len(texts)
    figures = {
        "reviews": n,
        "reference_s": round(t_ref, 2),
        "reference_reviews_per_s": round(n / t_ref, 1),
        "sentireview_s": round(t_ours, 2),
        "sentireview_reviews_per_s": round(n / t_ours, 1),
        "ratio": round(t_ref / t_ours, 2),
        "reference_cpu_ms_per_review": round(1000 * cpu_ref / n, 3),
        "sentireview_cpu_ms_per_review": round(1000 * cpu_ours / n, 3),
        "workers": workers,
        "blocks": args.blocks,
        "cpus": os.cpu_count(),
        "load_avg_1min_after": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
    }
    print(f"outputs identical for all {n:,} reviews")
    print(f"tutorial's way (pandas apply, 1 process): {n / t_ref:8.0f} reviews/s  ({t_ref:.1f} s)")
    print(
        f"sentireview ({workers} worker processes):    {n / t_ours:8.0f} reviews/s  "
        f"({t_ours:.1f} s)"
    )
    print(
        f"CPU time per review: {1000 * cpu_ref / n:.2f} ms vs {1000 * cpu_ours / n:.2f} ms "
        f"({cpu_ref / cpu_ours:.2f}x less, worker start-up included)"
    )
    print(f"ratio: {t_ref / t_ours:.2f}x   (1-min load average after the run: "
          f"{figures['load_avg_1min_after']})")  # fmt: skip
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
