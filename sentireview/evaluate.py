"""Evaluate a run folder on a prepared split: report, plots and ``metrics.json``.

Writes into the top of the run folder: ``metrics.json``, ``confusion_matrix.png`` (seaborn
heatmap), ``loss_curves.png`` (train and validation loss from history.json, one panel per
stage) and ``classification_report.txt`` (sklearn). These are the test split's: evaluating
another split writes ``metrics_{split}.json``, ``confusion_matrix_{split}.png`` and
``classification_report_{split}.txt`` instead, so the figures an artifact reports (and the
web app shows) stay the test set's. For a transformer run, the best stage-1
weights (``checkpoints/pretrain-best.safetensors``) are evaluated too, side by side.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from sentireview import artifact
from sentireview.data.splits import read_split
from sentireview.files import sha256_file, write_json, write_text
from sentireview.predict import Predictor, saved_scores, score_texts_saved, texts_digest

log = logging.getLogger(__name__)


def classification_metrics(labels: np.ndarray, scores: np.ndarray) -> dict[str, Any]:
    """Accuracy, log loss, the sklearn report (dict and text) and the confusion matrix."""
    from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, log_loss

    preds = (scores > 0.5).astype(int)
    names = artifact.LABELS
    return {
        "n": int(len(labels)),
        "accuracy": float(accuracy_score(labels, preds)),
        "loss": float(log_loss(labels, np.clip(scores, 1e-7, 1 - 1e-7), labels=[0, 1])),
        "report": classification_report(
            labels, preds, labels=[0, 1], target_names=names, output_dict=True, zero_division=0
        ),
        "report_text": classification_report(
            labels, preds, labels=[0, 1], target_names=names, digits=4, zero_division=0
        ),
        "confusion_matrix": confusion_matrix(labels, preds, labels=[0, 1]).tolist(),
    }


def plot_confusions(
    matrices: dict[str, list[list[int]]], path: str | Path, labels: list[str] | None = None
) -> Path:
    """One confusion-matrix heatmap per entry of ``matrices`` (title -> 2x2 counts, rows = true
    label), side by side with a shared colour scale, saved to ``path``.

    Drawn on a bare ``Figure`` (no pyplot): it never switches the caller's plotting back end,
    which matters in a notebook."""
    import seaborn as sns
    from matplotlib.figure import Figure

    if not matrices:
        raise ValueError("no confusion matrices to plot")
    labels = labels or list(artifact.LABELS)
    vmax = max(int(np.max(m)) for m in matrices.values())
    fig = Figure(figsize=(4.2 * len(matrices), 3.8))
    axes = fig.subplots(1, len(matrices), squeeze=False)
    for ax, (title, matrix) in zip(axes[0], matrices.items(), strict=True):
        counts = np.asarray(matrix)
        sns.heatmap(
            counts, annot=True, fmt="d", cmap="Blues", vmin=0, vmax=max(vmax, 1), cbar=False,
            ax=ax, xticklabels=labels, yticklabels=labels,
        )
        accuracy = np.trace(counts) / max(counts.sum(), 1)
        ax.set_title(f"{title} (accuracy {accuracy:.3f})")
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    return path


def plot_loss_curves(history: list[dict[str, Any]], path: Path) -> bool:
    """Train and validation loss against epochs, one panel per stage; False without history."""
    if not history:
        return False
    from matplotlib.figure import Figure  # no pyplot: see plot_confusions

    stages = list(dict.fromkeys(r.get("stage", "train") for r in history))
    fig = Figure(figsize=(5 * len(stages), 3.8))
    axes = fig.subplots(1, len(stages), squeeze=False)
    for ax, stage in zip(axes[0], stages, strict=True):
        rows = [r for r in history if r.get("stage", "train") == stage]
        epochs = [r["epoch"] for r in rows]
        ax.plot(epochs, [r["train_loss"] for r in rows], marker="o", label="train")
        ax.plot(epochs, [r["val_loss"] for r in rows], marker="o", label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.set_title(stage)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return True


def evaluate_run(
    run_dir: str | Path,
    data_dir: str | Path,
    split: str = "test",
    limit: int | None = None,
    backend: str = "torch",
    batch_size: int = 128,
) -> dict[str, Any]:
    """Evaluate ``run_dir`` on ``data_dir/{split}.parquet``; writes metrics.json and plots
    (``metrics_{split}.json`` and so on for a split other than test)."""
    run_dir = Path(run_dir)
    config = artifact.read_config(run_dir)
    column = config["text"].get("column", "clean")
    texts, labels_list = read_split(data_dir, split, column, limit)
    labels = np.array(labels_list)
    predictor = Predictor.load(run_dir, backend=backend)
    texts_key = texts_digest(texts)
    suffix = "" if split == "test" else f"_{split}"

    def scored(weights: str | None, name: str) -> np.ndarray:
        """Scores of ``texts``, resumable (a MiniLM takes 40-55 minutes for the test split
        here); the progress file goes once the metrics are written."""
        key = json.dumps({"weights": weights, "texts": texts_key, "backend": backend})
        progress = run_dir / f".metrics{suffix}.{name}.partial.npz"
        partials.append(progress)
        resumed.append(len(saved_scores(progress, key)))
        return score_texts_saved(predictor, texts, progress, key, batch_size)

    partials: list[Path] = []
    resumed: list[int] = []
    t0 = time.perf_counter()
    weights = artifact.weights_digest(run_dir)
    scores = scored(weights, "final")
    seconds = time.perf_counter() - t0
    scored_now = len(texts) - resumed[0]  # the rate: of this invocation's share
    metrics: dict[str, Any] = {
        "split": split,
        "data": str(data_dir),
        "limit": limit,  # a sample, or None: the whole split
        "kind": config["kind"],
        "backend": predictor.backend_name,
        "weights_sha256": weights,  # what was measured
        **classification_metrics(labels, scores),
        "reviews_per_s": scored_now / max(seconds, 1e-9) if scored_now else None,
    }
    stage1 = run_dir / "checkpoints" / "pretrain-best.safetensors"
    if config["kind"] == "transformer" and stage1.exists() and backend == "torch":
        import torch
        from safetensors.torch import load_file

        model = predictor.backend.model  # type: ignore[attr-defined]
        final = {k: v.clone() for k, v in model.state_dict().items()}
        keys = ("accuracy", "loss", "report", "confusion_matrix")
        first = load_file(str(stage1))
        if set(first) == set(final) and all(torch.equal(first[k], final[k]) for k in final):
            metrics["stages"] = {"pretrain": {k: metrics[k] for k in keys}}  # no stage 2
        else:
            model.load_state_dict(first, strict=True)
            s1 = classification_metrics(labels, scored(sha256_file(stage1), "stage1"))
            model.load_state_dict(final, strict=True)
            metrics["stages"] = {
                "pretrain": {k: s1[k] for k in keys},
                "finetune": {k: metrics[k] for k in keys},
            }
    log.info(
        "%s on %s (%d reviews): accuracy %.4f\n%s",
        run_dir,
        split,
        len(texts),
        metrics["accuracy"],
        metrics["report_text"],
    )
    write_json(run_dir / f"metrics{suffix}.json", metrics)
    for progress in partials:
        progress.unlink(missing_ok=True)
    report = run_dir / f"classification_report{suffix}.txt"
    write_text(report, metrics["report_text"])
    stages = metrics.get("stages")
    matrices = (  # the transformer's two stages side by side
        {f"{name} ({split})": m["confusion_matrix"] for name, m in stages.items()}
        if stages
        else {f"{config['name']} ({split})": metrics["confusion_matrix"]}
    )
    plot_confusions(matrices, run_dir / f"confusion_matrix{suffix}.png")
    history_path = run_dir / "history.json"
    history = json.loads(history_path.read_text(encoding="utf-8")) if history_path.exists() else []
    plot_loss_curves(history, run_dir / "loss_curves.png")
    return metrics


def read_labelled_tsv(path: Path) -> tuple[list[str], np.ndarray]:
    """A short-review set: ``text<TAB>label`` (``positive``/``negative``) with a header line,
    no quoting (``bench/short_reviews.tsv``, ``bench/short_own.tsv``)."""
    import csv

    from sentireview.errors import DataError

    names = {"negative": 0, "positive": 1}
    texts, labels = [], []
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        if reader.fieldnames is None or not {"text", "label"} <= set(reader.fieldnames):
            raise DataError(f"{path}: expected a header line 'text<TAB>label'")
        for line, row in enumerate(reader, 2):
            if row["label"] not in names or row["text"] is None:
                raise DataError(f"{path}:{line}: expected 'review<TAB>positive|negative', "
                                f"got label {row['label']!r}")
            texts.append(row["text"])
            labels.append(names[row["label"]])
    return texts, np.asarray(labels)


def tsv_accuracy(predictor: Predictor, path: Path) -> dict[str, Any]:
    """Accuracy of a model on a short-review set of raw texts (its own cleaning)."""
    texts, labels = read_labelled_tsv(path)
    scores = np.asarray(predictor.predict_proba(texts))
    return {"n": len(texts), "accuracy": round(float(np.mean((scores > 0.5) == labels)), 4)}
