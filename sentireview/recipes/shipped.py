"""The recipe of the light model the web app serves (``webapp/flask/ml_model/``).

    sentireview train shipped --work runs/shipped --out webapp/flask/ml_model
        [--teacher webapp/flask/minilm_model] [--archive PATH]

A light model taught by a fine-tuned transformer (the teacher: by default the int8 MiniLM
that ``sentireview train shipped-transformer`` installs in ``webapp/flask/minilm_model``).
Every step writes under ``work``; a step whose output is there is skipped and an interrupted
training step resumes from its last checkpoint, so running the command again continues.

1. the IMDb archive (``archive``; else ``$SENTIREVIEW_IMDB_ARCHIVE``; else downloaded into
   ``work/download``), prepared with the ``words`` recipe, official split;
2. word2vec vectors (100 dimensions) from the training and the 50,000 unlabelled reviews;
3. ``work/round0``: the wide-and-deep LSTM (BiLSTM 64 with max pooling, embedding started
   from the vectors; beside it a hashed 1-3-gram part fitted as NB-scaled logistic
   regression) on the 22,500 labelled training reviews;
4. what the student learns from besides the labelled reviews (:mod:`sentireview.teacher`,
   :mod:`sentireview.data.written`):
   - ``scores/unsup.parquet``: the 50,000 unlabelled reviews, scored by the mean of the
     teacher and round 0 (the two read reviews differently and err on different ones);
   - ``scores/pieces.parquet``: sentence-level pieces of ``piece_reviews`` training and
     unlabelled reviews, scored by the teacher alone: short texts with graded labels;
   - ``written_train.parquet``: short reviews from the project's phrase bank and
     hand-written lines, labelled by their rules (``written_dev.parquet``: the dev part, only
     to choose with);
5. ``work/student``: the same model trained again on all of it;
6. the choice (``work/final.json``): the student unless its IMDb validation accuracy is more
   than ``max_valid_drop`` below round 0's, or it is no better on the written dev part;
7. the chosen run exported to ONNX (verified against PyTorch), evaluated on the 25,000
   official test reviews, and installed with its model card into ``out`` in one swap.

The test split plays no part in any choice. Seeded throughout; the word vectors are trained
in a child process with ``PYTHONHASHSEED=0`` (gensim seeds each word's vector from
``hash()``). Timings: ``work/times.json``, the model card, docs/accuracy.md.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sentireview import artifact
from sentireview.artifact import weights_digest
from sentireview.data.prepare import prepare
from sentireview.data.written import write_written_split
from sentireview.errors import SentiReviewError
from sentireview.evaluate import evaluate_run, tsv_accuracy
from sentireview.export import export_onnx
from sentireview.files import building_folder, write_json
from sentireview.predict import Predictor
from sentireview.recipes.common import (
    SHORT_SETS,
    StepTimes,
    choice_holds,
    choose_short,
    get_archive,
    step,
    written_by_kind,
)
from sentireview.recipes.model_card import model_card
from sentireview.teacher import score_pieces, score_split
from sentireview.training.lstm import (
    DistillSettings,
    InitSettings,
    InputSettings,
    LSTMTrainConfig,
    ModelSettings,
    OptimSettings,
    train_lstm,
)

log = logging.getLogger(__name__)

NAME = "sentireview-wide-deep-lstm"
SHIPPED = (
    "config.json",
    "vocab.json",
    "model.onnx",
    "model.safetensors",
    "metrics.json",
    "history.json",
    "history.csv",
    "confusion_matrix.png",
    "loss_curves.png",
)
SUMMARY = "summary.json"  # a training run's summary (mix, times), written after its weights


@dataclass
class ShippedConfig:
    """The shipped recipe's settings (the model card says why each)."""

    work: Path
    # a fine-tuned transformer (run or served folder) that scores the texts
    teacher: Path = Path("webapp/flask/minilm_model")
    out: Path | None = None  # where the model is installed (None: not installed)
    archive: Path | None = None
    # constant learning rate, best weights by validation loss: the recipe's runs and the
    # ablation's students trained before the cut had their best weights by epoch 2 (round 0)
    # and 4 (students), so the epochs after those only cost time (docs/accuracy.md, "Cost")
    round0_epochs: int = 3
    student_epochs: int = 4
    piece_reviews: int = 15_000  # training + unlabelled reviews cut into pieces (2 each)
    written: int = 8000  # reviews from the phrase bank (train part; + the hand-written ones)
    written_dev: int = 2000  # the same from the dev part, to choose with
    max_valid_drop: float = 0.005  # IMDb validation accuracy the student may cost
    short_sets: tuple[Path, ...] = SHORT_SETS  # test sets for the card (skipped if absent)
    seed: int = 17
    model: ModelSettings = field(
        default_factory=lambda: ModelSettings(
            embed_dim=100, hidden=64, pooling="last_max", ngram_buckets=2**21, ngram_orders=3
        )
    )
    # every word: IMDb's longest review has 2,491 tokens in the `words` recipe
    inputs: InputSettings = field(
        default_factory=lambda: InputSettings(max_words=3000, min_freq=3, max_vocab=30_000)
    )
    optim: OptimSettings = field(
        default_factory=lambda: OptimSettings(batch_size=64, lr=1e-3, wide_c=4.0)
    )

    @property
    def data(self) -> Path:
        return self.work / "prepared"

    @property
    def vectors(self) -> Path:
        return self.work / "word2vec.bin"

    @property
    def sources(self) -> Path:
        """The record of what the scored files were made from (teacher_sources)."""
        return self.work / "scores" / "sources.json"

    def part_files(self) -> dict[str, list[Path]]:
        """The files of each part of step 4 that the student trains on (the ablation,
        bench/ablation.py, trains students without one of them)."""
        scores = self.work / "scores"
        return {
            "unsup": [scores / "unsup.parquet"],
            "pieces": [scores / "pieces.parquet"],
            "written": [self.work / "written_train.parquet"],
        }


def check_teacher(teacher: Path) -> None:
    """A one-line error, before any work, when the teacher is not a model folder."""
    if not (teacher / artifact.CONFIG).is_file():
        raise SentiReviewError(
            f"no teacher model in {teacher}: install the served transformer with "
            "`sentireview train shipped-transformer --work runs/minilm --out "
            "webapp/flask/minilm_model`, or pass --teacher RUN (a fine-tuned transformer)"
        )


def trained(run: Path) -> bool:
    """Trained to the end by :func:`train_run` (its summary is written last)."""
    return all((run / name).exists() for name in (artifact.WEIGHTS, artifact.CONFIG, SUMMARY))


def train_run(
    cfg: ShippedConfig, out: Path, epochs: int, scored: list[Path], vectors: bool = True
) -> Path:
    """The wide-and-deep LSTM in ``out`` on the labelled reviews and ``scored`` splits (their
    ``label``: a teacher's P(positive) or a written review's rule label), its embedding
    started from the word vectors (``vectors``; else random); skipped when trained, resumed
    from its checkpoint when interrupted."""
    if step(out.name, trained(out)):
        train_cfg = LSTMTrainConfig(
            data=cfg.data,
            out=out,
            model=cfg.model,
            inputs=cfg.inputs,
            optim=dataclasses.replace(cfg.optim, epochs=epochs),
            init=InitSettings(word_vectors=cfg.vectors if vectors else None),
            distill=DistillSettings(scored=scored),
            seed=cfg.seed,
            resume=True,
            half_weights=True,
            progress=False,
            device="cpu",
        )
        t0 = time.perf_counter()
        summary = train_lstm(train_cfg)
        summary["wall_s"] = round(time.perf_counter() - t0, 1)
        write_json(out / SUMMARY, summary)
    return out


def train_student(cfg: ShippedConfig, out: Path) -> Path:
    """The student in ``out``: the labelled reviews and every part of step 4."""
    scored = [f for files in cfg.part_files().values() for f in files]
    return train_run(cfg, out, cfg.student_epochs, scored)


def train_word_vectors_seeded(cfg: ShippedConfig) -> None:
    """``sentireview train vectors`` in a child process with ``PYTHONHASHSEED=0``, so that
    gensim's per-word seeds (from ``hash()``) and the vectors are the same on every run."""
    command = [sys.executable, "-m", "sentireview", "train", "vectors"]
    command += ["--data", str(cfg.data), "--out", str(cfg.vectors), "--seed", str(cfg.seed)]
    done = subprocess.run(command, env={**os.environ, "PYTHONHASHSEED": "0"}, check=False)
    if done.returncode != 0:
        raise SentiReviewError(f"word vectors failed (exit {done.returncode}): {' '.join(command)}")


def teacher_sources(cfg: ShippedConfig, round0: Path) -> dict[str, str | None]:
    """What the scored files are made from: the teacher and the weights of it and round 0."""
    return {
        "teacher": str(cfg.teacher.resolve()),
        "teacher_sha256": weights_digest(cfg.teacher),
        "round0_sha256": weights_digest(round0),
    }


def same_sources(found: dict[str, str | None] | None, wanted: dict[str, str | None]) -> bool:
    """The same weights of the teacher and round 0: the teacher's folder may have moved (the
    served copy of the run that scored them, say); its path is kept only as a record."""
    digests = ("teacher_sha256", "round0_sha256")
    return found is not None and all(found.get(k) == wanted[k] for k in digests)


def teacher_data_done(cfg: ShippedConfig) -> bool:
    """The scored files are there, with the record of what they were made from."""
    scored = (cfg.part_files()[part][0] for part in ("unsup", "pieces"))
    return cfg.sources.exists() and all(f.exists() for f in scored)


def teacher_data(cfg: ShippedConfig, round0: Path) -> None:
    """Step 4: the scored unlabelled reviews, the scored pieces, the written parts. Scores
    made from another teacher or another round 0 are made again, and then the students that
    learnt from the old ones (``student``, ``ablation/``) are removed to be trained again."""
    files = cfg.part_files()
    if cfg.teacher.exists() or not teacher_data_done(cfg):  # else nothing to check against
        wanted = teacher_sources(cfg, round0)
        found = json.loads(cfg.sources.read_text("utf-8")) if cfg.sources.exists() else None
        if not same_sources(found, wanted):
            if found is not None or files["unsup"][0].exists() or files["pieces"][0].exists():
                log.warning("scores made from another teacher or round 0 (%s): scoring again",
                            found)
            for part in ("unsup", "pieces"):
                files[part][0].unlink(missing_ok=True)
            for stale in (cfg.work / "student", cfg.work / "ablation"):
                if stale.exists():
                    log.warning("removing %s: it learnt from the old scores", stale)
                    shutil.rmtree(stale)
            write_json(cfg.sources, wanted)
    if step("unlabelled reviews, scored", files["unsup"][0].exists()):
        score_split([cfg.teacher, round0], cfg.data, files["unsup"][0])
    if step("pieces, scored", files["pieces"][0].exists()):
        score_pieces([cfg.teacher], cfg.data, files["pieces"][0], splits=("train", "unsup"),
                     seed=cfg.seed, reviews=cfg.piece_reviews)
    for part, n in (("train", cfg.written), ("dev", cfg.written_dev)):
        path = cfg.work / f"written_{part}.parquet"
        if step(f"written {part}", path.exists()):
            write_written_split(path, part, n, cfg.seed, recipe="words")


def install(run: Path, out: Path, card: str) -> None:
    """Copy the shipped files and the model card into ``out``, replacing it in one swap."""
    with building_folder(out) as tmp:
        for name in SHIPPED:
            shutil.copy(run / name, tmp / name)
        (tmp / "README.md").write_text(card, encoding="utf-8")


def folder_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.iterdir() if f.is_file()) / 1e6


def run_recipe(cfg: ShippedConfig) -> Path:
    """Run every step (see the module docstring); returns the chosen run."""
    if not teacher_data_done(cfg):
        check_teacher(cfg.teacher)  # before any work: it would be needed at step 4
    work = cfg.work
    work.mkdir(parents=True, exist_ok=True)
    times = StepTimes(work / "times.json")

    t0 = time.perf_counter()
    if step("prepare", (cfg.data / "manifest.json").exists()):
        prepare(get_archive(cfg.archive, work), cfg.data, recipe="words", split="official")
        times.record("prepare_s", t0)

    t0 = time.perf_counter()
    if step("word vectors", cfg.vectors.exists()):
        train_word_vectors_seeded(cfg)
        times.record("vectors_s", t0)

    round0, student = work / "round0", work / "student"
    t0, ran = time.perf_counter(), not trained(round0)
    train_run(cfg, round0, cfg.round0_epochs, [])
    if ran:
        times.record("round0_s", t0)

    written = [cfg.work / f"written_{part}.parquet" for part in ("train", "dev")]
    t0 = time.perf_counter()
    ran = not teacher_data_done(cfg) or not all(f.exists() for f in written)
    teacher_data(cfg, round0)
    if ran:
        times.record("teacher_data_s", t0)

    t0, ran = time.perf_counter(), not trained(student)
    train_student(cfg, student)
    if ran:
        times.record("student_s", t0)

    final_path = work / "final.json"
    candidates = {"round0": round0, "student": student}
    final = json.loads(final_path.read_text(encoding="utf-8")) if final_path.exists() else {}
    if step("choice", choice_holds(final, candidates)):
        final = choose_short(final_path, cfg.data, work / "written_dev.parquet",
                             ("round0", round0), ("student", student), cfg.max_valid_drop)
    run = work / final["chosen"]

    config = artifact.read_config(run)
    config["name"] = NAME
    config["version"] = date.today().isoformat()
    write_json(run / artifact.CONFIG, config)
    if step("export", (run / "model.onnx").exists()):
        export_onnx(run)
    metrics_path = run / "metrics.json"
    metrics = json.loads(metrics_path.read_text("utf-8")) if metrics_path.exists() else {}
    if step("test evaluation", "short_sets" in metrics):  # written last: the step's end
        t0 = time.perf_counter()
        metrics = evaluate_run(run, cfg.data, split="test", backend="onnx")
        metrics["data"] = "aclImdb_v1 official test split"
        predictor = Predictor.load(run, backend="onnx")
        metrics["short_sets"] = {
            path.name: tsv_accuracy(predictor, path) for path in cfg.short_sets if path.is_file()
        }
        write_json(metrics_path, metrics)
        times.record("test_s", t0)
    if cfg.out is None:
        return run
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    summaries = {
        name: json.loads((work / name / SUMMARY).read_text("utf-8")) for name in candidates
    }
    by_kind = written_by_kind(run, work / "written_dev.parquet")
    card = model_card(config, metrics, final, summaries, times, cfg, by_kind)
    install(run, cfg.out, card)
    log.info(
        "installed %s: test accuracy %.4f, %.1f MB", cfg.out, metrics["accuracy"],
        folder_mb(cfg.out),
    )
    return run
