"""Benchmark: the cleaners on hostile inputs, bounded (this project) vs unbounded, same run.

Issue 18: one valid request tied up a worker for 30 s, because NLTK's word pattern scans to
the end of a run of non-space characters from every position where a URL, an e-mail address
or an HTML tag might start ("<b<b<b...": quadratic). ``sentireview.text`` now bounds the work
per run and per text (see ``text._MAX_RUN``). This script times the patterns it knows:

- each known pattern, ``--chars`` long (default 20,000, the goal: under 50 ms), with the served
  recipe (``words``) and the tutorial's (``tutorial``), bounded;
- the same pattern ``--baseline-chars`` long (default 5,000: the unbounded cleaner is
  quadratic, and 20,000 characters take it up to a minute) with the ``words`` recipe, bounded
  and unbounded (NLTK's pattern over the whole text, as before), and their ratio;
- the largest batch the web limits allow (64 reviews, 1 MiB) made of the slowest pattern;
- with ``--search``, every unit of one or two characters from ``--alphabet``, repeated in runs
  of 8, 32 and 100 characters: the slowest ``--top`` are printed (a few minutes).

Times are CPU seconds of this process (``time.process_time``, the best of ``--repeat``), so
that other programs on a shared machine count less. Usage::

    .venv/bin/python bench/worst_case_inputs.py
    .venv/bin/python bench/worst_case_inputs.py --search --top 10
    .venv/bin/python bench/worst_case_inputs.py --json bench/results/worst_case_inputs.json
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sentireview import text  # noqa: E402

#: The web app's limits: the most reviews per request, and the body size (1 MiB).
MAX_BATCH = 64
MAX_BODY = 1024 * 1024


def runs(unit: str, run: int, chars: int) -> str:
    """``unit`` repeated in runs of ``run`` characters separated by a space, ``chars`` long
    (one unbroken run when ``run >= chars``)."""
    piece = (unit * (run // len(unit) + 1))[:run] + (" " if run < chars else "")
    return (piece * (chars // len(piece) + 1))[:chars]


#: name -> (unit, run length). The slowest found by --search on this project, the issue's
#: "<b", and ordinary words for comparison.
KNOWN: dict[str, tuple[str, int]] = {
    "<b unbroken (the issue's)": ("<b", 10**9),
    ".a in runs of 100": (".a", 100),
    ".a unbroken": (".a", 10**9),
    "d.0 in runs of 100": ("d.0", 100),
    "a. in runs of 32": ("a.", 32),
    "h. in runs of 8": ("h.", 8),
    "-0 in runs of 32": ("-0", 32),
    "&x in runs of 8": ("&x", 8),
    "&# in runs of 100": ("&#", 100),
    ") unbroken": (")", 10**9),
    "3/ in runs of 8": ("3/", 8),
    "one-letter words": ("a", 1),
    "ordinary words": ("good film ", 10),
}


def seconds(function: Callable[[str], object], value: str, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        function(value)
        best = min(best, time.process_time() - start)
    return best


@contextlib.contextmanager
def unbounded() -> Iterator[None]:
    """The tokenizer as it was: NLTK's word pattern over the whole text, no bounds."""
    saved = text._find_words
    text._find_words = lambda words, value: words.findall(value)
    try:
        yield
    finally:
        text._find_words = saved


def measure_known(chars: int, baseline_chars: int, repeat: int) -> list[dict]:
    rows = []
    for name, (unit, run) in KNOWN.items():
        value, short = runs(unit, run, chars), runs(unit, run, baseline_chars)
        row = {
            "pattern": name,
            "words_ms": 1000 * seconds(text.clean_words, value, repeat),
            "tutorial_ms": 1000 * seconds(text.clean_tutorial, value, repeat),
            "short_bounded_ms": 1000 * seconds(text.clean_words, short, repeat),
        }
        with unbounded():
            row["short_unbounded_ms"] = 1000 * seconds(text.clean_words, short, 1)
        rows.append(row)
        print(f"  {name}: {row['words_ms']:.1f} ms", file=sys.stderr)
    return sorted(rows, key=lambda r: -r["words_ms"])


def measure_batch(unit: str, run: int) -> dict:
    """The largest batch the limits allow, of one pattern: cleaning time on one core."""
    per_review = MAX_BODY // MAX_BATCH - 20  # JSON quotes, commas and the key
    reviews = [runs(unit, run, per_review)] * MAX_BATCH
    start = time.process_time()
    for review in reviews:
        text.clean_words(review)
    return {"reviews": MAX_BATCH, "chars_each": per_review,
            "seconds": time.process_time() - start}


def search(alphabet: str, chars: int, top: int) -> list[tuple[float, str, int]]:
    found = []
    units = [a for a in alphabet] + [a + b for a, b in itertools.permutations(alphabet, 2)]
    for unit in units:
        for run in (8, 32, 100):
            value = runs(unit, run, chars)
            found.append((1000 * seconds(text.clean_words, value, 1), unit, run))
    return sorted(found, reverse=True)[:top]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chars", type=int, default=20_000)
    parser.add_argument("--baseline-chars", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--search", action="store_true")
    parser.add_argument("--alphabet", default="<>b:/.-'@#&;)(*0a1_x=Dd,hp3 ")
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    rows = measure_known(args.chars, args.baseline_chars, args.repeat)
    print(f"\nCleaning hostile reviews (CPU ms, best of {args.repeat}; "
          f"{platform.processor() or platform.machine()}, load {os.getloadavg()[0]:.1f})\n")
    print(f"| pattern | words, {args.chars:,} chars | tutorial, {args.chars:,} chars "
          f"| words, {args.baseline_chars:,} chars: bounded | unbounded | ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        ratio = r["short_unbounded_ms"] / max(r["short_bounded_ms"], 1e-6)
        print(f"| {r['pattern']} | {r['words_ms']:.1f} | {r['tutorial_ms']:.1f} "
              f"| {r['short_bounded_ms']:.1f} | {r['short_unbounded_ms']:.1f} | {ratio:.1f}x |")
    slowest = KNOWN[rows[0]["pattern"]]
    batch = measure_batch(*slowest)
    print(f"\nLargest batch ({batch['reviews']} x {batch['chars_each']:,} characters of "
          f"{rows[0]['pattern']!r}), words recipe: {batch['seconds']:.2f} s of CPU to clean")
    result = {"known": rows, "batch": batch}
    if args.search:
        print(f"\nSlowest units of --alphabet, {args.chars:,} characters, words recipe:")
        result["search"] = []
        for ms, unit, run in search(args.alphabet, args.chars, args.top):
            print(f"  {ms:7.1f} ms  {unit!r} in runs of {run}")
            result["search"].append({"ms": ms, "unit": unit, "run": run})
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
