"""Benchmark: the accuracy comparison table of issue 7, rebuilt in one run from the data archive.

Rows: the classical baselines of ``sentireview.baselines`` (majority class, TF-IDF + logistic
regression, NBSVM-style), fitted here on the official IMDb train split (train + valid of a
dataset prepared with ``--split official``: 25,000 reviews), and any number of model artifacts
given as ``--model NAME=RUN_DIR``, evaluated through ``Predictor`` exactly as the web app
serves them. Columns:

- accuracy and F1 (of the positive class) on the 25,000 official test reviews;
- accuracy on the test reviews under 80 words, on ``bench/short_reviews.tsv`` (short
  critic-style sentences written for this project, a third of them pre-tokenized), and on
  ``bench/short_own.tsv`` (351 short reviews built around negation, contrast, sarcasm, faint
  praise and mixed verdicts, written for issue 16; see bench/short_own.md);
- size on disk: an artifact's whole folder; a baseline's parameters as
  ``LinearTextModel.save`` writes them (n-gram list + float32 weights, no pickle);
- fit time: a baseline's ``fit`` on this machine (the dataset preparation is not counted);
  an artifact's training time as its ``history.json`` recorded it;
- p50 latency of one review (batch of 1, raw text in, cleaning included) over 200 test
  reviews after 20 warm-up calls, on one CPU core (process affinity set to one core, BLAS,
  OpenMP, ONNX Runtime and torch held to one thread), and the same over the reviews of
  ``bench/short_own.tsv`` (what people type on the page: a sentence or two);
- the command that reproduces the row.

Usage::

    .venv/bin/python bench/accuracy.py                                 # baselines, full data
    .venv/bin/python bench/accuracy.py --model shipped=webapp/flask/ml_model --json out.json
    .venv/bin/python bench/accuracy.py --prepared /tmp/prepared        # reuse a prepared folder
    .venv/bin/python bench/accuracy.py --limit-test 2000               # quick (seeded sample)
    .venv/bin/python bench/accuracy.py --select                        # column and C, on valid

The archive is ``--archive PATH``, else ``$SENTIREVIEW_IMDB_ARCHIVE``, else
``../shared/data/aclImdb_v1.tar.gz``; without ``--prepared`` it is prepared once into
``--cache`` (default ``~/.cache/sentireview/bench``), keyed by its sha256, and reused.
"""

from __future__ import annotations

import os

# One compute thread everywhere, set before numpy/sklearn/onnxruntime load their thread pools.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ["SENTIREVIEW_THREADS"] = "1"  # the ONNX back end's intra-op threads

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import shlex  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterator, Sequence  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import asdict, dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.metrics import accuracy_score, f1_score  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

from sentireview import baselines, text  # noqa: E402
from sentireview.data.splits import read_frame  # noqa: E402
from sentireview.evaluate import read_labelled_tsv  # noqa: E402
from sentireview.files import sha256_file  # noqa: E402

log = logging.getLogger("bench.accuracy")

DEFAULT_ARCHIVE = ROOT.parent / "shared" / "data" / "aclImdb_v1.tar.gz"
DEFAULT_SHORT = ROOT / "bench" / "short_reviews.tsv"
DEFAULT_OWN = ROOT / "bench" / "short_own.tsv"
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "sentireview"
SEED = 17
SHORT_WORDS = 80  # "test reviews under 80 words"
#: Word-count bins of the test reviews for the accuracy-by-length plot (``--plot``).
LENGTH_BINS = (0, 80, 150, 300, 600, 10**9)
LATENCY_REVIEWS = 200
WARMUP_CALLS = 20
COLUMNS = ("text", "clean")
SPLIT_COLUMNS = ["raw", "text", "clean", "label"]  # what is read of each prepared split


@dataclass
class Row:
    """One line of the table; ``None`` where a figure does not apply."""

    name: str
    accuracy: float
    f1: float
    accuracy_under_80: float
    accuracy_short_set: float
    accuracy_own_set: float
    size_mb: float | None
    fit_s: float | None
    latency_p50_ms: float
    command: str
    latency_short_p50_ms: float | None = None  # the same over the own short set's reviews
    notes: dict[str, Any] = field(default_factory=dict)
    by_length: dict[str, float] = field(default_factory=dict)  # test accuracy per word-count bin


# --- data -------------------------------------------------------------------------------------


def prepared_folder(args: argparse.Namespace) -> Path:
    """``--prepared`` as given, or the archive prepared (once) into the cache."""
    if args.prepared:
        folder = Path(args.prepared)
    else:
        from sentireview.data.prepare import prepare

        archive = Path(args.archive)
        if not archive.is_file():
            raise SystemExit(f"error: {archive}: no such archive (use --archive or --prepared)")
        digest = sha256_file(archive)
        folder = Path(args.cache) / "bench" / f"prepared-{digest[:16]}-{args.recipe}"
        if not _manifest_matches(folder, digest):
            log.info("preparing %s into %s (once; reused next time)", archive, folder)
            prepare(archive, folder, recipe=args.recipe, split="official", seed=SEED, force=True)
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    if manifest.get("split") != "official":
        raise SystemExit(
            f"error: {folder} was prepared with the {manifest.get('split')!r} split;"
            " this benchmark needs the official one (--split official)"
        )
    return folder


def _manifest_matches(folder: Path, digest: str) -> bool:
    try:
        manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return manifest.get("source", {}).get("sha256") == digest and manifest["split"] == "official"


def seeded_sample(n: int, limit: int | None, seed: int = SEED) -> np.ndarray:
    """Sorted row indices: all ``n``, or ``limit`` of them drawn with ``seed``."""
    if limit is None or limit >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))


# Pre-tokenized as some corpora are: lowercase, clitics and punctuation split off by spaces.
_PRETOKENIZED = re.compile(r" (?:n't|'s|[.,!?])(?: |$)")


def is_pretokenized(review: str) -> bool:
    return review == review.lower() and _PRETOKENIZED.search(review) is not None


@dataclass
class Data:
    train_texts: list[str]  # the baselines' column
    train_labels: np.ndarray
    test: pd.DataFrame  # raw, text, clean, label (possibly a seeded sample)
    short_texts: list[str]  # raw
    short_labels: np.ndarray
    own_texts: list[str]  # raw: bench/short_own.tsv
    own_labels: np.ndarray
    latency_raws: list[str]
    column: str
    recipe: str  # the prepared dataset's recipe (what its clean column holds)

    @property
    def short_pretokenized(self) -> np.ndarray:
        return np.array([is_pretokenized(t) for t in self.short_texts], dtype=bool)

    def short_breakdown(self, probs: np.ndarray) -> dict[str, float]:
        """Accuracy on the pre-tokenized and the plainly written parts of the short set."""
        pre = self.short_pretokenized
        return {
            "short_set_pretokenized": accuracy(probs[pre], self.short_labels[pre]),
            "short_set_plain": accuracy(probs[~pre], self.short_labels[~pre]),
        }

    @property
    def under_80(self) -> np.ndarray:
        return self.test["text"].str.split().str.len().to_numpy() < SHORT_WORDS

    def length_counts(self) -> dict[str, int]:
        """Test reviews per bin of ``LENGTH_BINS`` (the bins that have any)."""
        words = self.test["text"].str.split().str.len().to_numpy()
        counts = {}
        for lo, hi in zip(LENGTH_BINS, LENGTH_BINS[1:], strict=False):
            n = int(((words >= lo) & (words < hi)).sum())
            if n:
                counts[bin_name(lo, hi)] = n
        return counts

    def by_length(self, probs: np.ndarray) -> dict[str, float]:
        """Test accuracy per bin of ``LENGTH_BINS`` (whitespace words of the review)."""
        words = self.test["text"].str.split().str.len().to_numpy()
        labels = self.test["label"].to_numpy(np.int64)
        out = {}
        for lo, hi in zip(LENGTH_BINS, LENGTH_BINS[1:], strict=False):
            inside = (words >= lo) & (words < hi)
            if inside.any():
                out[bin_name(lo, hi)] = accuracy(probs[inside], labels[inside])
        return out

    def column_of(self, raws: Sequence[str]) -> list[str]:
        """Raw reviews -> the baselines' column, as the dataset preparation makes it."""
        prep = text.plain_text if self.column == "text" else text.get_cleaner(self.recipe)
        return [prep(r) for r in raws]


def bin_name(lo: int, hi: int) -> str:
    return f"{lo}+" if hi >= 10**9 else f"{lo}-{hi - 1}"


def load_data(args: argparse.Namespace) -> tuple[Data, dict[str, Any]]:
    folder = prepared_folder(args)
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    train = pd.concat(
        [read_frame(folder, "train", SPLIT_COLUMNS), read_frame(folder, "valid", SPLIT_COLUMNS)],
        ignore_index=True,
    )
    train = train.iloc[seeded_sample(len(train), args.limit_train)]
    test = read_frame(folder, "test", SPLIT_COLUMNS)
    test = test.iloc[seeded_sample(len(test), args.limit_test)].reset_index(drop=True)
    pick = seeded_sample(len(test), LATENCY_REVIEWS, seed=SEED + 1)
    short_texts, short_labels = read_labelled_tsv(Path(args.short))
    own_texts, own_labels = read_labelled_tsv(Path(args.own_short))
    data = Data(
        train_texts=train[args.column].tolist(),
        train_labels=train["label"].to_numpy(np.int64),
        test=test,
        short_texts=short_texts,
        short_labels=short_labels,
        own_texts=own_texts,
        own_labels=own_labels,
        latency_raws=test["raw"].iloc[pick].tolist(),
        column=args.column,
        recipe=manifest["recipe"],
    )
    info = {
        "prepared": str(folder),
        "source": manifest["source"],
        "recipe": manifest["recipe"],
        "split": manifest["split"],
        "train_reviews": len(train),
        "test_reviews": len(test),
        "test_under_80_words": int(data.under_80.sum()),
        "short_set": {
            "path": str(args.short),
            "reviews": len(short_texts),
            "pretokenized": int(data.short_pretokenized.sum()),
        },
        "own_short_set": {"path": str(args.own_short), "reviews": len(own_texts)},
        "baseline_column": args.column,
        "length_bins": data.length_counts(),
    }
    return data, info


# --- measuring --------------------------------------------------------------------------------


@contextmanager
def one_core() -> Iterator[None]:
    """This process on one CPU core with one compute thread, restored afterwards."""
    from threadpoolctl import threadpool_limits

    before = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    torch = sys.modules.get("torch")
    torch_threads = torch.get_num_threads() if torch is not None else None
    try:
        if before:
            os.sched_setaffinity(0, {min(before)})
        if torch is not None:
            torch.set_num_threads(1)
        with threadpool_limits(limits=1):
            yield
    finally:
        if before:
            os.sched_setaffinity(0, before)
        if torch is not None and torch_threads is not None:
            torch.set_num_threads(torch_threads)


def latency_p50_ms(predict_one: Callable[[str], object], raws: Sequence[str]) -> float:
    """Median wall time of ``predict_one(review)`` over ``raws``, after warm-up calls."""
    with one_core():
        for raw in raws[:WARMUP_CALLS]:
            predict_one(raw)
        times = []
        for raw in raws:
            start = time.perf_counter()
            predict_one(raw)
            times.append(time.perf_counter() - start)
    return float(np.median(times) * 1000)


def scores(probs: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Accuracy and F1 of the positive class; positive when P(positive) > 0.5."""
    pred = (np.asarray(probs) > 0.5).astype(np.int64)
    return (
        float(accuracy_score(labels, pred)),
        float(f1_score(labels, pred, zero_division=0.0)),
    )


def accuracy(probs: np.ndarray, labels: np.ndarray) -> float:
    return scores(probs, labels)[0] if len(labels) else float("nan")


def folder_mb(folder: Path) -> float:
    """Size of what ships: every file of the folder, except a run's training checkpoints."""
    root = Path(folder)
    files = [p for p in root.rglob("*") if p.is_file()]
    shipped = [p for p in files if "checkpoints" not in p.relative_to(root).parts]
    return sum(p.stat().st_size for p in shipped) / 1e6


# --- rows -------------------------------------------------------------------------------------


def baseline_row(name: str, data: Data, command: str) -> Row:
    model = baselines.make(name)
    log.info("%s: fitting on %d reviews", name, len(data.train_texts))
    start = time.perf_counter()
    model.fit(data.train_texts, data.train_labels)
    fit_s = time.perf_counter() - start
    labels = data.test["label"].to_numpy(np.int64)
    probs = model.predict_proba(data.test[data.column].tolist())
    acc, f1 = scores(probs, labels)
    short = model.predict_proba(data.column_of(data.short_texts))
    own = model.predict_proba(data.column_of(data.own_texts))
    with tempfile.TemporaryDirectory() as tmp:
        size = folder_mb(model.save(Path(tmp) / name))
    latency = latency_p50_ms(
        lambda raw: model.predict_proba(data.column_of([raw])), data.latency_raws
    )
    latency_short = latency_p50_ms(
        lambda raw: model.predict_proba(data.column_of([raw])), data.own_texts
    )
    notes: dict[str, Any] = {"column": data.column, **data.short_breakdown(short)}
    if isinstance(model, baselines.LinearTextModel):
        notes["features"] = model.n_features
        notes["C"] = model.classifier.C
    return Row(
        name=name,
        accuracy=acc,
        f1=f1,
        accuracy_under_80=accuracy(probs[data.under_80], labels[data.under_80]),
        accuracy_short_set=accuracy(short, data.short_labels),
        accuracy_own_set=accuracy(own, data.own_labels),
        size_mb=size,
        fit_s=fit_s,
        latency_p50_ms=latency,
        latency_short_p50_ms=latency_short,
        command=command,
        notes=notes,
        by_length=data.by_length(probs),
    )


def model_row(name: str, run_dir: Path, data: Data, backend: str, command: str) -> Row:
    from sentireview.predict import Predictor

    predictor = Predictor.load(run_dir, backend=backend)
    spec = predictor.config["text"]
    labels = data.test["label"].to_numpy(np.int64)
    # The prepared column is what the predictor's cleaner would produce from the raw review
    # when the recipes agree; then it is fed as is (same numbers, no second cleaning pass).
    column = spec.get("column", "clean")
    same = column == "text" or spec.get("recipe", "tutorial") == data.recipe
    log.info("%s: scoring %d test reviews (%s back end)", name, len(labels), predictor.backend_name)
    if same:
        probs = predictor.predict_proba(data.test[column].tolist(), prepared=True)
    else:
        probs = predictor.predict_proba(data.test["raw"].tolist())
    probs = np.asarray(probs)
    acc, f1 = scores(probs, labels)
    short = np.asarray(predictor.predict_proba(data.short_texts))
    own = np.asarray(predictor.predict_proba(data.own_texts))
    latency = latency_p50_ms(lambda raw: predictor.predict([raw]), data.latency_raws)
    latency_short = latency_p50_ms(lambda raw: predictor.predict([raw]), data.own_texts)
    train_cmd = predictor.config.get("training", {}).get("command")
    return Row(
        name=name,
        accuracy=acc,
        f1=f1,
        accuracy_under_80=accuracy(probs[data.under_80], labels[data.under_80]),
        accuracy_short_set=accuracy(short, data.short_labels),
        accuracy_own_set=accuracy(own, data.own_labels),
        size_mb=folder_mb(run_dir),
        fit_s=_training_seconds(run_dir),
        latency_p50_ms=latency,
        latency_short_p50_ms=latency_short,
        command=f"train: {train_cmd}; score: {command}" if train_cmd else command,
        notes={
            "run_dir": str(run_dir),
            "backend": predictor.backend_name,
            "kind": predictor.config.get("kind"),
            "version": predictor.config.get("version"),
            "fit_s_source": "history.json (last elapsed_s)",
            **data.short_breakdown(short),
        },
        by_length=data.by_length(probs),
    )


def _training_seconds(run_dir: Path) -> float | None:
    """The last (largest) ``elapsed_s`` in the artifact's ``history.json``, if it has one."""
    try:
        history = json.loads((Path(run_dir) / "history.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    seconds = [float(h["elapsed_s"]) for h in history if isinstance(h, dict) and "elapsed_s" in h]
    return max(seconds, default=None)


# --- selection on the validation split ---------------------------------------------------------


def select(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Validation accuracy (fit on train, score on valid) of the linear baselines for each
    column and C: how the benchmark's settings were chosen, never on the test set."""
    folder = prepared_folder(args)
    train = read_frame(folder, "train", SPLIT_COLUMNS)
    valid = read_frame(folder, "valid", SPLIT_COLUMNS)
    train = train.iloc[seeded_sample(len(train), args.limit_train)]
    y, yv = train["label"].to_numpy(np.int64), valid["label"].to_numpy(np.int64)
    grid = [float(c) for c in args.select_c.split(",")]
    results = []
    for column in COLUMNS:
        for name in ("tfidf_lr", "nbsvm"):
            model = baselines.make(name)
            assert isinstance(model, baselines.LinearTextModel)
            model.fit(train[column].tolist(), y)
            x, xv = model.features(train[column].tolist()), model.features(valid[column].tolist())
            for c in grid:
                clf = clone(model.classifier).set_params(C=c).fit(x, y)
                acc = float(accuracy_score(yv, clf.predict(xv)))
                results.append({"model": name, "column": column, "C": c, "valid_accuracy": acc})
                log.info("%s column=%s C=%g: valid accuracy %.4f", name, column, c, acc)
    return results


# --- output -----------------------------------------------------------------------------------


def _pct(x: float) -> str:
    return "n/a" if x != x else f"{100 * x:.2f}%"


def _mb(x: float | None) -> str:
    if x is None:
        return "n/a"
    return "<0.01" if x < 0.01 else f"{x:.3g}"


def markdown(rows: Sequence[Row], info: dict[str, Any]) -> str:
    n80, nshort = info["test_under_80_words"], info["short_set"]["reviews"]
    nown = info["own_short_set"]["reviews"]
    head = (
        f"| model | test accuracy | test F1 | test < {SHORT_WORDS} words (n={n80}) "
        f"| short set (n={nshort}) | own short set (n={nown}) | size MB | fit s "
        "| p50 ms (1 core) | p50 ms, short reviews | reproduce |"
    )
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        fit = "n/a" if r.fit_s is None else f"{r.fit_s:.0f}"
        cmd = r.command.replace("|", "\\|")
        lines.append(
            f"| {r.name} | {_pct(r.accuracy)} | {r.f1:.4f} | {_pct(r.accuracy_under_80)} "
            f"| {_pct(r.accuracy_short_set)} | {_pct(r.accuracy_own_set)} | {_mb(r.size_mb)} "
            f"| {fit} | {r.latency_p50_ms:.2f} | {r.latency_short_p50_ms:.2f} "
            f"| `{cmd}` |"
        )
    return "\n".join(lines)


def length_table(rows: Sequence[Row], info: dict[str, Any]) -> str:
    """Test accuracy by review length (word-count bins; n per bin in the header)."""
    bins = list(info["length_bins"])
    head = "| model | " + " | ".join(f"{b} words (n={info['length_bins'][b]})" for b in bins)
    lines = [head + " |", "|---|" + "---:|" * len(bins)]
    for r in rows:
        lines.append(f"| {r.name} | " + " | ".join(_pct(r.by_length[b]) for b in bins) + " |")
    return "\n".join(lines)


def plot_by_length(rows: Sequence[Row], info: dict[str, Any], path: Path) -> None:
    """One line per row: accuracy on each length bin of the test set, with the two short
    sets as points on the left (their reviews are shorter than any bin's)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bins = list(info["length_bins"])
    labels = ["short set", "own short set", *(f"{b}\n(n={info['length_bins'][b]:,})"
                                                for b in bins)]
    fig, ax = plt.subplots(figsize=(9, 4.8))
    for r in rows:
        if r.name == "majority":
            continue
        ys = [r.accuracy_short_set, r.accuracy_own_set, *(r.by_length[b] for b in bins)]
        line = ax.plot(range(2, len(labels)), ys[2:], marker="o", label=r.name)[0]
        ax.plot([0, 1], ys[:2], marker="s", linestyle="none", color=line.get_color())
    ax.axvline(1.5, color="grey", linewidth=0.8)
    ax.set_xticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("review length in words (IMDb test set); left: the short test sets")
    ax.set_ylabel("accuracy")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def machine() -> dict[str, Any]:
    import sklearn

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpus": cpus,
        "load_avg": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sklearn": sklearn.__version__,
    }


# --- command line -----------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = p.add_argument_group("data")
    src.add_argument(
        "--archive",
        default=os.environ.get("SENTIREVIEW_IMDB_ARCHIVE", str(DEFAULT_ARCHIVE)),
        help="aclImdb_v1.tar.gz (default: $SENTIREVIEW_IMDB_ARCHIVE or %(default)s)",
    )
    src.add_argument(
        "--prepared", help="a folder prepared with the official split (skips preparing)"
    )
    src.add_argument("--cache", default=str(DEFAULT_CACHE), help="where to prepare the archive")
    src.add_argument(
        "--recipe",
        default="tutorial",
        choices=text.RECIPES,
        help="cleaning recipe when preparing (fills the clean column)",
    )
    src.add_argument("--short", default=str(DEFAULT_SHORT), help="the short-review set (TSV)")
    src.add_argument("--own-short", default=str(DEFAULT_OWN),
                     help="the project's own short set (TSV; issue 16)")
    p.add_argument(
        "--column",
        default="text",
        choices=COLUMNS,
        help="dataset column the baselines read (default %(default)s, chosen by --select)",
    )
    p.add_argument(
        "--baselines",
        default="majority,tfidf_lr,nbsvm",
        help="comma-separated baselines to include, or 'none' (default %(default)s)",
    )
    p.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="NAME=RUN_DIR",
        help="an artifact folder to evaluate through Predictor (repeatable)",
    )
    p.add_argument(
        "--backend",
        default="auto",
        choices=("auto", "onnx", "torch"),
        help="Predictor back end for --model rows",
    )
    p.add_argument("--limit-test", type=int, help="score a seeded sample of N test reviews")
    p.add_argument("--limit-train", type=int, help="fit on a seeded sample of N train reviews")
    p.add_argument("--json", help="also write the rows and run details to this JSON file")
    p.add_argument("--plot", help="also draw test accuracy by review length (PNG) here")
    p.add_argument(
        "--select",
        action="store_true",
        help="instead: validation accuracy per column and C (fit train, score valid)",
    )
    p.add_argument("--select-c", default="1,4,16", help="C values for --select")
    args = p.parse_args(argv)
    args.models = []
    for spec in args.model:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            p.error(f"--model takes NAME=RUN_DIR, got {spec!r}")
        args.models.append((name, Path(path)))
    names = [] if args.baselines == "none" else [b for b in args.baselines.split(",") if b]
    unknown = sorted(set(names) - set(baselines.BASELINES))
    if unknown:
        p.error(f"unknown baselines {unknown}; expected {', '.join(baselines.BASELINES)}")
    args.baseline_names = names
    return args


def row_command(
    args: argparse.Namespace, *, baseline: str | None = None, model: tuple[str, Path] | None = None
) -> str:
    """The command line that rebuilds one row with this run's data options."""
    parts = [".venv/bin/python", "bench/accuracy.py"]
    if args.prepared:
        parts += ["--prepared", args.prepared]
    elif os.path.abspath(args.archive) != os.path.abspath(DEFAULT_ARCHIVE):
        parts += ["--archive", args.archive]
    for opt in ("limit_test", "limit_train"):
        if getattr(args, opt) is not None:
            parts += [f"--{opt.replace('_', '-')}", str(getattr(args, opt))]
    if baseline is not None:
        parts += ["--baselines", baseline]
        if args.column != "text":
            parts += ["--column", args.column]
    if model is not None:
        parts += ["--baselines", "none", "--model", f"{model[0]}={model[1]}"]
        if args.backend != "auto":
            parts += ["--backend", args.backend]
    return shlex.join(parts)


def main(argv: Sequence[str] | None = None) -> list[Row]:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    args = parse_args(argv)
    if args.select:
        results = select(args)
        print(json.dumps(results, indent=2))
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2) + "\n", "utf-8")
        return []
    load_before = os.getloadavg()
    data, info = load_data(args)
    rows = [baseline_row(n, data, row_command(args, baseline=n)) for n in args.baseline_names]
    for name, run_dir in args.models:
        rows.append(
            model_row(name, run_dir, data, args.backend, row_command(args, model=(name, run_dir)))
        )
    table = markdown(rows, info)
    print(table)
    print(length_table(rows, info))
    if args.plot:
        plot_by_length(rows, info, Path(args.plot))
    if args.json:
        out = {
            "rows": [asdict(r) for r in rows],
            "data": info,
            "machine": {**machine(), "load_avg_at_start": [round(x, 2) for x in load_before]},
            "argv": sys.argv[1:] if argv is None else list(argv),
            "table": table,
        }
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n", "utf-8")
    return rows


if __name__ == "__main__":
    main()
