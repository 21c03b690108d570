"""The recipe of the model the web app serves (``webapp/flask/ml_model/``).

    sentireview train shipped --work runs/shipped --out webapp/flask/ml_model [--archive PATH]

Every step uses the library and writes under ``work``; a step whose output is already there is
skipped and an interrupted training step resumes from its last checkpoint, so running the
command again after an interruption continues where it stopped.

1. the IMDb archive (``archive``; else ``$SENTIREVIEW_IMDB_ARCHIVE``; else downloaded into
   ``work/download``), prepared with the ``words`` recipe, official split;
2. word2vec vectors (100 dimensions) from the training and the 50,000 unlabelled reviews;
3. member 1, in ``work/round*``: round 0, the wide-and-deep LSTM (BiLSTM 64 with max pooling,
   embedding started from the vectors; beside it a hashed 1-3-gram part fitted as NB-scaled
   logistic regression) on the 22,500 labelled training reviews; rounds 1..N, the same model
   trained again with the unlabelled reviews added, scored by earlier rounds (round 0 for
   round 1, then the mean of rounds 1..k-1; :mod:`sentireview.teacher` writes their scores to
   ``scores/round{k}.parquet`` beside the rounds): distillation into
   the LSTM; the wide part stays fitted on the labelled reviews only. The round with the
   lowest validation log loss is the member (``work/selection.json``);
4. member 2 (``members=2``, the default), in ``work/with_lm/round*``: first language-model
   pre-training (``work/lm``, ``lm_epochs``): the BiLSTM (embedding started from the vectors)
   learns to predict the next word, each direction in its reading order, on the same 72,500
   reviews; then the rounds of step 3 again, every one started from it;
5. the ensemble of the two members (``work/ensemble``: one model, the mean of their logits, as
   ``sentireview ensemble`` builds it). The candidate with the lowest validation log loss
   (member 1, member 2 or the ensemble; ``work/final.json``) is evaluated on the 25,000
   official test reviews (metrics.json, confusion matrix, loss curves), exported to ONNX
   (verified against PyTorch) and copied with its model card into ``out``, replacing the
   folder in one swap. The test split plays no part in any choice.

Seeded throughout; the word vectors are trained in a child process with ``PYTHONHASHSEED=0``
(gensim seeds each word's vector from ``hash()``). Timings: the model card, docs/accuracy.md.
"""

from __future__ import annotations

import dataclasses
import functools
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

import numpy as np

from sentireview.artifact import read_config
from sentireview.data.prepare import prepare
from sentireview.data.splits import read_split
from sentireview.ensemble import combine, weights_digest
from sentireview.errors import SentiReviewError
from sentireview.evaluate import classification_metrics, evaluate_run
from sentireview.export import export_onnx
from sentireview.files import building_folder, write_json
from sentireview.predict import Predictor, score_texts
from sentireview.recipes.common import get_archive, step
from sentireview.recipes.model_card import model_card
from sentireview.teacher import score_split
from sentireview.training.language_model import LMConfig, is_trained, train_language_model
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


@dataclass
class ShippedConfig:
    """The shipped recipe's settings (see the model card for why each)."""

    work: Path
    out: Path | None = None  # where the model is installed (None: not installed)
    archive: Path | None = None
    rounds: int = 3  # distillation rounds after round 0
    teacher_epochs: int = 4  # round 0
    student_epochs: int = 5  # rounds 1..
    members: int = 2  # 1: member 1 only; 2: also member 2 (language model) and the ensemble
    lm_epochs: int = 4  # member 2's language-model epochs
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

    def __post_init__(self) -> None:
        if self.members not in (1, 2):
            raise ValueError("members must be 1 or 2")
        if self.members == 2 and self.lm_epochs < 1:
            raise ValueError(
                "member 2 differs from member 1 by its language model: lm_epochs must be >= 1"
            )

    @property
    def data(self) -> Path:
        return self.work / "prepared"

    @property
    def vectors(self) -> Path:
        return self.work / "word2vec.bin"


def teacher_rounds(k: int) -> list[int]:
    """Round 0 teaches round 1; every later round learns from the mean score of all the
    distilled rounds before it (rounds 1..k-1), a small ensemble."""
    return [] if k == 0 else list(range(1 if k > 1 else 0, k))


def started_from(run: Path) -> str | None:
    """The language model a trained round started from (None: word vectors only)."""
    return read_config(run).get("training", {}).get("init", {}).get("language_model")


def same_path(a: str | Path | None, b: str | Path | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return Path(a).resolve() == Path(b).resolve()


def train_round(
    cfg: ShippedConfig, k: int, teachers: list[Path], lm: Path | None, rounds_dir: Path
) -> Path:
    """Round ``k`` in ``rounds_dir``, on the work folder's data and vectors; a round with
    teachers first scores the unlabelled reviews with them."""
    run = rounds_dir / f"round{k}"
    done = (run / "model.safetensors").exists()
    start = started_from(run) if done else None
    if done and not same_path(start, lm):
        log.warning(
            "%s was trained %s; it is kept as it is (delete it to train it again)",
            run,
            f"from {start}" if start else "without a language model",
        )
    if step(f"{rounds_dir.name}/round{k}", done):
        scored = []
        if teachers:
            scores = rounds_dir / "scores" / f"round{k}.parquet"
            scored = [score_split(teachers, cfg.data, scores)]
        epochs = cfg.teacher_epochs if k == 0 else cfg.student_epochs
        train_cfg = LSTMTrainConfig(
            data=cfg.data,
            out=run,
            model=cfg.model,
            inputs=cfg.inputs,
            optim=dataclasses.replace(cfg.optim, epochs=epochs),
            init=InitSettings(word_vectors=cfg.vectors, language_model=lm),
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
        write_json(run / "summary.json", summary)
    return run


@functools.cache
def validation_split(data: Path) -> tuple[list[str], list[int]]:
    """The prepared validation reviews and labels (read once per data folder)."""
    return read_split(data, "valid", "clean")


def validation_loss(run: Path, data: Path) -> float:
    """The model's log loss on the validation split (rounded to 5 decimals)."""
    texts, labels = validation_split(data)
    scores = score_texts(Predictor.load(run, backend="torch"), texts)
    return round(classification_metrics(np.array(labels), scores)["loss"], 5)


def choose_round(cfg: ShippedConfig, rounds_dir: Path) -> tuple[Path, dict[int, float]]:
    """The round whose model has the lowest log loss on the validation split (written to
    ``selection.json`` beside the rounds). The test split plays no part in the choice."""
    losses = {k: validation_loss(rounds_dir / f"round{k}", cfg.data) for k in range(cfg.rounds + 1)}
    best = min(losses, key=lambda k: (losses[k], -k))  # a tie goes to the later round
    named = {f"round{k}": loss for k, loss in losses.items()}
    log.info("%s: validation log loss by round: %s; chose round%d", rounds_dir, named, best)
    write_json(rounds_dir / "selection.json", {"valid_loss": named, "chosen": f"round{best}"})
    return rounds_dir / f"round{best}", losses


def train_member(
    cfg: ShippedConfig, lm: Path | None, rounds_dir: Path
) -> tuple[Path, dict[int, float]]:
    """One member: rounds 0..N in ``rounds_dir``, and the round chosen on validation."""
    rounds_dir.mkdir(parents=True, exist_ok=True)
    for k in range(cfg.rounds + 1):
        teachers = [rounds_dir / f"round{j}" for j in teacher_rounds(k)]
        train_round(cfg, k, teachers, lm, rounds_dir)
    return choose_round(cfg, rounds_dir)


def ensemble_of(members: list[Path], out: Path) -> Path:
    """``out``: the ensemble of ``members``, built again unless it holds exactly them."""
    config_path = out / "config.json"
    built = None
    if config_path.exists():
        training = json.loads(config_path.read_text("utf-8")).get("training", {})
        built = (training.get("ensemble_of"), training.get("member_weights_sha256"))
    wanted = ([str(m) for m in members], [weights_digest(m) for m in members])
    if step("ensemble", built == wanted):  # same runs with the same weights: kept
        combine(members, out, overwrite=True)
    return out


def choose_final(
    cfg: ShippedConfig, candidates: dict[str, Path], known: dict[str, float]
) -> tuple[str, dict[str, float]]:
    """The candidate (a member or the ensemble) with the lowest validation log loss, written
    to ``work/final.json``; a tie goes to the earlier candidate (the smaller model). ``known``:
    losses already measured (the members', from choosing their rounds)."""
    losses = {
        name: known[name] if name in known else validation_loss(run, cfg.data)
        for name, run in candidates.items()
    }
    best = min(losses, key=lambda name: losses[name])
    log.info("validation log loss: %s; installing %s (%s)", losses, best, candidates[best])
    runs = {name: str(run) for name, run in candidates.items()}
    write_json(cfg.work / "final.json", {"valid_loss": losses, "chosen": best, "runs": runs})
    return best, losses


def install(run: Path, out: Path, card: str) -> None:
    """Copy the shipped files and the model card into ``out``, replacing it in one swap."""
    with building_folder(out) as tmp:
        for name in SHIPPED:
            shutil.copy(run / name, tmp / name)
        (tmp / "README.md").write_text(card, encoding="utf-8")


def folder_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.iterdir() if f.is_file()) / 1e6


def train_word_vectors_seeded(cfg: ShippedConfig) -> None:
    """``sentireview train vectors`` in a child process with ``PYTHONHASHSEED=0``, so that
    gensim's per-word seeds (from ``hash()``) and the vectors are the same on every run."""
    command = [sys.executable, "-m", "sentireview", "train", "vectors"]
    command += ["--data", str(cfg.data), "--out", str(cfg.vectors), "--seed", str(cfg.seed)]
    done = subprocess.run(command, env={**os.environ, "PYTHONHASHSEED": "0"}, check=False)
    if done.returncode != 0:
        raise SentiReviewError(f"word vectors failed (exit {done.returncode}): {' '.join(command)}")


def run_recipe(cfg: ShippedConfig) -> Path:
    """Run every step (see the module docstring); returns the installed candidate's run."""
    work = cfg.work
    work.mkdir(parents=True, exist_ok=True)
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    if step("prepare", (cfg.data / "manifest.json").exists()):
        prepare(get_archive(cfg.archive, cfg.work), cfg.data, recipe="words", split="official")
    times["prepare_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    if step("word vectors", cfg.vectors.exists()):
        train_word_vectors_seeded(cfg)
    times["vectors_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    lm = work / "lm" if cfg.members == 2 else None
    if lm is not None and step("language model", is_trained(lm)):
        lm_cfg = LMConfig(
            data=cfg.data,
            out=lm,
            epochs=cfg.lm_epochs,
            embed_dim=cfg.model.embed_dim,
            hidden=cfg.model.hidden,
            max_vocab=cfg.inputs.max_vocab,
            word_vectors=cfg.vectors,
            seed=cfg.seed,
        )
        train_language_model(lm_cfg)
    times["lm_s"] = time.perf_counter() - t0

    members = [train_member(cfg, None, work)]
    if cfg.members == 2:
        members.append(train_member(cfg, lm, work / "with_lm"))
    candidates = {f"member {i}": run for i, (run, _) in enumerate(members, 1)}
    if len(members) == 2:
        candidates["ensemble"] = ensemble_of([run for run, _ in members], work / "ensemble")
    chosen, final_loss = "member 1", {}
    if len(candidates) > 1:
        known = {f"member {i}": min(losses.values()) for i, (_, losses) in enumerate(members, 1)}
        chosen, final_loss = choose_final(cfg, candidates, known)
    run = candidates[chosen]

    config = read_config(run)  # configs of runs made before 2026-12-01 are upgraded on read
    config["name"] = NAME
    config["version"] = date.today().isoformat()
    write_json(run / "config.json", config)
    if step("export", (run / "model.onnx").exists()):
        export_onnx(run)
    metrics = evaluate_run(run, cfg.data, split="test", backend="onnx")
    metrics["data"] = "aclImdb_v1 official test split"
    write_json(run / "metrics.json", metrics)
    if cfg.out is None:
        return run
    member_rounds = {}
    for i, (member, valid_loss) in enumerate(members, 1):
        rounds = {}
        for k in range(cfg.rounds + 1):
            path = member.parent / f"round{k}" / "summary.json"
            summary = json.loads(path.read_text("utf-8")) if path.exists() else {}
            rounds[k] = {**summary, "valid_loss": valid_loss.get(k), "teachers": teacher_rounds(k)}
        member_rounds[f"member {i}"] = {"chosen": member.name, "rounds": rounds}
    card = model_card(config, metrics, member_rounds, times, chosen, final_loss)
    install(run, cfg.out, card)
    log.info(
        "installed %s: test accuracy %.4f, %.1f MB",
        cfg.out,
        metrics["accuracy"],
        folder_mb(cfg.out),
    )
    return run
