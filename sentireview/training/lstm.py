"""Train the tutorial's LSTM on a prepared dataset and write the run folder.

Tutorial settings: vocabulary from the training split (min frequency 3), reviews trimmed to
500 words, Embedding 500 -> BiLSTM 128 -> Dropout 0.3 -> Linear(256, 1), BCE loss (on logits),
Adam lr 1e-3, batch 64 bucketed by length, 5 epochs, validation twice per epoch, best
checkpoint by validation loss.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from sentireview import artifact
from sentireview.errors import SentiReviewError
from sentireview.models.lstm import LSTMClassifier, LSTMConfig
from sentireview.training.data import read_split, read_unlabelled
from sentireview.training.distributed import DistInfo, cleanup, setup
from sentireview.training.loop import History, StageConfig, resolve_amp, train_stage
from sentireview.training.wide import fit_mix, fit_wide, out_of_fold_logits, wide_logits
from sentireview.vocab import PAD_ID, UNK_ID, Vocab

log = logging.getLogger(__name__)


@dataclass
class LSTMTrainConfig:
    """Command-line settings of ``sentireview train lstm`` (defaults: the tutorial's)."""

    data: Path
    out: Path
    epochs: int = 5
    batch_size: int = 64
    lr: float = 1e-3
    max_words: int = 500
    min_freq: int = 3
    max_vocab: int | None = None
    embed_dim: int = 500
    hidden: int = 128
    dropout: float = 0.3
    pooling: str = "last"
    ngram_buckets: int = 0
    ngram_orders: int = 3
    wide_c: float = 4.0  # the wide part's logistic regression: inverse L2 strength
    # k >= 2: stacking, the LSTM learns on top of the wide part's out-of-fold logits (k folds)
    wide_stacking: int = 0
    # distillation: a run (or several: their mean score) whose scores label the unlabelled split
    teacher: Path | list[Path] | None = None
    unlabelled_split: str = "unsup"
    word_vectors: Path | None = None  # word2vec-format file to initialise the embedding
    # a pre-trained language model's folder (training.language_model): the LSTM weights and
    # the embedding rows of shared words start from it (after word_vectors, if both are set)
    init_from: Path | None = None
    half_weights: bool = False  # store the weights as float16 (half the artifact's size)
    seed: int = 17
    resume: bool = False
    early_stopping: int | None = None
    limit_train: int | None = None
    limit_valid: int | None = None
    evals_per_epoch: int = 2
    save_pth: bool = False
    device: str | None = None
    threads: int | None = None
    progress: bool = True
    recurrence: str = "auto"  # auto (torch.lstm) | fused: faster on a CPU shared with others
    amp: str = "auto"  # auto (fp32 on CPU) | bf16 | fp16 | none: see loop.resolve_amp


class IdSplit:
    """Reviews as id lists; ``collate`` pads them into ``ids`` (B, T) and ``lengths`` (B,),
    with ``offset`` (B,) when the split has ``offsets`` (the wide logits, for stacking)."""

    def __init__(self, ids: list[list[int]], labels: list[int]) -> None:
        # An empty review is read as one <unk>: the LSTM needs one step.
        self.ids = [x if x else [UNK_ID] for x in ids]
        self.labels = labels
        self.lengths = [len(x) for x in self.ids]
        self.offsets: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def collate(self, indices: Sequence[int], device: torch.device) -> dict[str, torch.Tensor]:
        T = max(self.lengths[i] for i in indices)
        ids = torch.full((len(indices), T), PAD_ID, dtype=torch.int64)
        for row, i in enumerate(indices):
            ids[row, : self.lengths[i]] = torch.as_tensor(self.ids[i])
        batch = {
            "ids": ids.to(device),
            "lengths": torch.tensor([self.lengths[i] for i in indices]),  # CPU for packing
            "labels": torch.tensor([self.labels[i] for i in indices], device=device),
        }
        if self.offsets is not None:
            batch["offset"] = self.offsets[list(indices)].to(device)
        return batch


def lstm_loss(
    model: nn.Module, batch: dict[str, torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed BCE over the batch (the loop turns sums into the global-batch mean)."""
    logits = model(batch["ids"], batch["lengths"])  # (B,)
    return _bce_sum(logits, batch["labels"]), logits


def lstm_deep_loss(
    model: nn.Module, batch: dict[str, torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor]:
    """For a model with a (frozen, already fitted) wide part: the BCE of the LSTM's own logit,
    in training and validation alike (the best checkpoint is the best LSTM; the two parts
    are weighted afterwards, see :mod:`sentireview.training.wide`)."""
    deep = model(batch["ids"], batch["lengths"], parts=True)[:, 0]
    return _bce_sum(deep, batch["labels"]), deep


def lstm_stacked_loss(
    model: nn.Module, batch: dict[str, torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Stacking: the BCE of the LSTM's logit plus the batch's fixed wide logits (out of fold
    for the training reviews), so the LSTM is trained on what the wide part gets wrong."""
    deep = model(batch["ids"], batch["lengths"], parts=True)[:, 0]
    logits = deep.float() + batch["offset"]
    return _bce_sum(logits, batch["labels"]), logits


def _bce_sum(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return nn.functional.binary_cross_entropy_with_logits(
        logits.float(), labels.float(), reduction="sum"
    )


def make_optimizer(model: nn.Module, lr: float) -> torch.optim.Optimizer:
    """The tutorial's Adam, as one fused kernel per step where torch has it (CPU, CUDA): the
    same algorithm and defaults as ``torch.optim.Adam(params, lr)`` (equal up to float
    rounding, tested). The embedding's gradient stays dense, as in the tutorial: every row's
    moments decay and every row moves each step (a sparse or lazy Adam would change that)."""
    try:
        return torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    except (RuntimeError, TypeError):  # a device or dtype without the fused kernel
        return torch.optim.Adam(model.parameters(), lr=lr)


def train_lstm(
    cfg: LSTMTrainConfig, on_step: Callable[[int], bool] | None = None
) -> dict[str, object]:
    """Train and write the artifact to ``cfg.out``; returns a summary. Runs under torchrun."""
    info = setup(cfg.device)
    try:
        return _train(cfg, info, on_step)
    finally:
        cleanup(info)


def _train(cfg: LSTMTrainConfig, info: DistInfo, on_step) -> dict[str, object]:
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    if cfg.wide_stacking and (cfg.wide_stacking < 2 or not cfg.ngram_buckets):
        raise SentiReviewError("wide stacking needs a wide part (ngram buckets) and >= 2 folds")
    out = Path(cfg.out)
    train_texts, train_labels = read_split(cfg.data, "train", "clean", cfg.limit_train)
    valid_texts, valid_labels = read_split(cfg.data, "valid", "clean", cfg.limit_valid)
    manifest_recipe = _recipe(Path(cfg.data))

    extra_texts: list[str] = []
    extra_labels: list[float] = []
    if cfg.teacher:
        extra_texts = read_unlabelled(cfg.data, cfg.unlabelled_split, "clean")
        extra_labels = ensemble_scores(_teachers(cfg.teacher), extra_texts, manifest_recipe)

    vocab_path = out / artifact.VOCAB
    if cfg.resume and vocab_path.exists():
        vocab = Vocab.load(vocab_path)  # the resumed model's embedding rows match this one
    else:
        if cfg.resume:
            log.warning("--resume: nothing to resume in %s, starting afresh", out)
        # Unlabelled reviews used in training count as training text.
        words = train_texts + extra_texts
        vocab = Vocab.build(words, min_freq=cfg.min_freq, max_size=cfg.max_vocab)
    log.info("vocabulary: %d words (min frequency %d)", len(vocab), cfg.min_freq)
    train_ids = [vocab.encode(t, cfg.max_words) for t in train_texts]
    extra_ids = [vocab.encode(t, cfg.max_words) for t in extra_texts]
    train = IdSplit(train_ids + extra_ids, list(train_labels) + extra_labels)
    valid = IdSplit([vocab.encode(t, cfg.max_words) for t in valid_texts], valid_labels)

    model_cfg = LSTMConfig(
        vocab_size=len(vocab),
        embed_dim=cfg.embed_dim,
        hidden=cfg.hidden,
        dropout=cfg.dropout,
        pooling=cfg.pooling,
        ngram_buckets=cfg.ngram_buckets,
        ngram_orders=cfg.ngram_orders,
    )
    torch.manual_seed(cfg.seed)  # same initial weights on every rank and every run
    model = LSTMClassifier(model_cfg)
    if cfg.word_vectors:
        from sentireview.training.word_vectors import init_embedding

        found = init_embedding(model.embedding, vocab, Path(cfg.word_vectors))
        log.info("embedding: %d of %d words from %s", found, len(vocab), cfg.word_vectors)
    if cfg.init_from:
        from sentireview.training.language_model import load_pretrained

        found = load_pretrained(model, vocab, Path(cfg.init_from))
        log.info("language model %s: LSTM and %d of %d words", cfg.init_from, found, len(vocab))
    wide_fit = None
    if model.wide is not None:
        # Convex, deterministic, on the labelled training reviews only; then frozen.
        wide_fit = fit_wide(model, train_ids, train_labels, c=cfg.wide_c)
        if cfg.wide_stacking:
            oof = out_of_fold_logits(
                model, train_ids, train_labels, cfg.wide_c, cfg.wide_stacking, cfg.seed
            )
            bias = wide_fit["bias"]
            train.offsets = torch.cat([oof, wide_logits(model, extra_ids) + bias])
            valid.offsets = wide_logits(model, valid.ids) + bias
    model = model.to(info.device)
    model.recurrence = cfg.recurrence
    amp = resolve_amp(info.device, cfg.amp)
    stage = StageConfig(
        name="lstm",
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        seed=cfg.seed,
        evals_per_epoch=cfg.evals_per_epoch,
        early_stopping=cfg.early_stopping,
        amp=amp,
        progress=cfg.progress,
    )
    training = {k: artifact.jsonable(v) for k, v in dataclasses.asdict(cfg).items()}
    training.update(
        world_size=info.world, global_batch_size=cfg.batch_size * info.world, amp_used=amp
    )
    config = artifact.make_config(
        "lstm",
        model_cfg,
        {"recipe": manifest_recipe, "column": "clean", "max_tokens": cfg.max_words},
        training,
        name=out.name or "lstm",
    )
    if cfg.half_weights:
        config["weights_dtype"] = artifact.HALF
    if info.is_main:
        out.mkdir(parents=True, exist_ok=True)
        vocab.save(vocab_path)
        artifact.write_config(out, config)

    wrapped: nn.Module = model
    if info.enabled:
        wrapped = nn.parallel.DistributedDataParallel(
            model, device_ids=[info.device.index] if info.device.type == "cuda" else None
        )
    optimizer = make_optimizer(model, cfg.lr)
    history = History(out if info.is_main else None, _previous_rows(out) if cfg.resume else [])
    t0 = time.perf_counter()
    result = train_stage(
        wrapped,
        train,
        valid,
        _loss_fn(model, cfg),
        optimizer,
        stage,
        info,
        checkpoint_dir=out / "checkpoints",
        history=history,
        resume=cfg.resume,
        on_step=on_step,
    )
    mix = None
    if cfg.half_weights:
        artifact.round_to_half(model)  # the mix is fitted to the weights that get saved
    if model.wide is not None:
        mix = fit_mix(model, valid.ids, valid.labels)
        log.info("parts weighted (deep, wide, bias) = %s on the validation split", mix)
    if info.is_main:
        artifact.save_weights(out, model, pth=cfg.save_pth, half=cfg.half_weights)
    return {
        "mix": mix,
        "wide_fit": wide_fit,
        "run_dir": str(out),
        "best_val_loss": result.best_val_loss,
        "seconds": time.perf_counter() - t0,
        "stopped_early": result.stopped_early,
    }


def _loss_fn(model: LSTMClassifier, cfg: LSTMTrainConfig):
    if model.wide is None:
        return lstm_loss
    return lstm_stacked_loss if cfg.wide_stacking else lstm_deep_loss


def _teachers(teacher: Path | str | Sequence[Path | str]) -> list[Path]:
    if isinstance(teacher, (str, Path)):
        return [Path(teacher)]
    return [Path(t) for t in teacher]


def ensemble_scores(teachers: Sequence[Path], texts: list[str], recipe: str) -> list[float]:
    """The mean P(positive) of several teacher runs (one teacher: its own scores)."""
    if not teachers:
        raise SentiReviewError("distillation needs at least one teacher run")
    import numpy as np

    return np.mean([teacher_scores(t, texts, recipe) for t in teachers], axis=0).tolist()


def teacher_scores(teacher: Path, texts: list[str], recipe: str) -> list[float]:
    """P(positive) of each (cleaned) text by the teacher run: the soft labels of distillation."""
    from sentireview.predict import Predictor

    predictor = Predictor.load(teacher)
    spec = predictor.config["text"]
    if spec.get("column", "clean") != "clean" or spec.get("recipe") != recipe:
        raise SentiReviewError(
            f"teacher {teacher} reads {spec.get('column')}/{spec.get('recipe')} text; "
            f"the dataset's clean column is the {recipe} recipe"
        )
    log.info("teacher %s: scoring %d unlabelled reviews", teacher, len(texts))
    from sentireview.evaluate import score_texts  # batches of similar length: little padding

    return [float(s) for s in score_texts(predictor, texts)]


def _recipe(data_dir: Path) -> str:
    """The cleaning recipe recorded in the dataset's manifest (the predictor re-applies it)."""
    import json

    try:
        manifest = json.loads((data_dir / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        log.warning("%s has no manifest.json: assuming the 'tutorial' recipe", data_dir)
        return "tutorial"
    except ValueError as exc:
        raise SentiReviewError(f"{data_dir / 'manifest.json'} is not valid JSON: {exc}") from None
    return str(manifest.get("recipe", "tutorial"))


def _previous_rows(out: Path) -> list[dict]:
    import json

    try:
        return json.loads((out / "history.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return []
