"""What the recipes (:mod:`.shipped`, :mod:`.transformer`) share: skipping done steps,
finding the IMDb archive, and choosing between a base run and one trained further for short
texts, on validation data only."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from sentireview.artifact import weights_digest
from sentireview.data.download import download
from sentireview.data.splits import read_frame, read_split
from sentireview.errors import DataError
from sentireview.evaluate import classification_metrics
from sentireview.files import write_json
from sentireview.predict import Predictor, score_texts

log = logging.getLogger("sentireview.recipes")

#: The project's short test sets (a clone of the repository has them): evaluated after the
#: choice, for the model cards; they never train or choose.
SHORT_SETS = tuple(
    Path(__file__).resolve().parents[2] / "bench" / name
    for name in ("short_reviews.tsv", "short_own.tsv")
)


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


class StepTimes(dict[str, float]):
    """The wall time of each step that ran to its end, kept in a JSON file across the
    recipe's invocations (a step skipped later keeps its time; the share of an interrupted
    invocation is not counted)."""

    def __init__(self, path: Path) -> None:
        super().__init__(json.loads(path.read_text("utf-8")) if path.exists() else {})
        self.path = path

    def record(self, key: str, t0: float) -> None:
        """The step ``key``, started at ``time.perf_counter()`` value ``t0``, just ended."""
        self[key] = round(time.perf_counter() - t0, 1)
        write_json(self.path, dict(self))


def validation(run: Path, data: Path, dev: Path, limit: int | None = None) -> dict[str, float]:
    """IMDb validation accuracy and log loss, and accuracy on the written dev part
    (:mod:`sentireview.data.written`), of one run, loaded once; it reads the column it was
    trained on (a transformer the plain ``text``, an LSTM ``clean``)."""
    predictor = Predictor.load(run, backend="torch")
    column = predictor.config["text"].get("column", "clean")
    texts, labels = read_split(data, "valid", column, limit)
    m = classification_metrics(np.array(labels), score_texts(predictor, texts))
    texts, labels = read_split(dev.parent, str(dev), column)
    written = np.mean((score_texts(predictor, texts) > 0.5) == np.array(labels))
    return {"accuracy": round(m["accuracy"], 4), "loss": round(m["loss"], 5),
            "written_dev": round(float(written), 4)}


def written_by_kind(run: Path, dev: Path) -> dict[str, dict[str, float]]:
    """Accuracy of a run on the written dev part per kind of review (``template``: plain,
    negation, contrast, sarcasm, ...), for its model card: dev data, which the choice read,
    not a test set."""
    predictor = Predictor.load(run)
    column = predictor.config["text"].get("column", "clean")
    try:
        frame = read_frame(dev.parent, str(dev), [column, "label", "template"])
    except DataError as exc:  # a dev part without kinds: the card says so
        log.warning("no written dev part by kind: %s", exc)
        return {}
    frame = frame[frame["label"] >= 0]
    right = score_texts(predictor, frame[column].fillna("").astype(str).tolist()) > 0.5
    frame = frame.assign(right=right == frame["label"].to_numpy().astype(bool))
    return {
        str(kind): {"n": len(group), "accuracy": round(float(group["right"].mean()), 4)}
        for kind, group in frame.groupby("template", sort=True)
    }


def choose_short(
    out: Path, data: Path, dev: Path, base: tuple[str, Path], short: tuple[str, Path],
    max_valid_drop: float, limit: int | None = None,
) -> dict[str, Any]:
    """``short`` (a run trained further with short texts) or ``base``: ``short`` unless its
    IMDb validation accuracy is more than ``max_valid_drop`` below ``base``'s, or it is no
    better on the written dev part. Written to ``out`` (``final.json``); the test split plays
    no part."""
    scores = {name: validation(run, data, dev, limit) for name, run in (base, short)}
    s, b = scores[short[0]], scores[base[0]]
    keeps_imdb = s["accuracy"] >= b["accuracy"] - max_valid_drop
    chosen = short[0] if keeps_imdb and s["written_dev"] > b["written_dev"] else base[0]
    log.info("validation: %s; chose %s", scores, chosen)
    runs = {name: {"path": str(run), "sha256": weights_digest(run)} for name, run in (base, short)}
    final = {"valid": scores, "chosen": chosen, "max_valid_drop": max_valid_drop, "runs": runs}
    write_json(out, final)
    return final


def choice_holds(final: dict[str, Any], candidates: dict[str, Path]) -> bool:
    """Whether a written choice (``final.json``) was made between exactly these runs with
    the weights they hold now (a run trained again, or a choice of an older recipe, does
    not hold: choose again)."""
    runs = final.get("runs")
    if final.get("chosen") not in candidates or not isinstance(runs, dict):
        return False
    return set(runs) == set(candidates) and all(
        runs[name].get("sha256") == weights_digest(run) for name, run in candidates.items()
    )
