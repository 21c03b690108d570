"""Train the tutorial's LSTM on a prepared dataset and write the run folder.

Tutorial settings (the defaults): vocabulary from the training split (min frequency 3),
reviews trimmed to 500 words, Embedding 500 -> BiLSTM 128 -> Dropout 0.3 -> Linear(256, 1),
BCE loss (on logits), Adam lr 1e-3, batch 64 bucketed by length, 5 epochs, validation twice
per epoch, best checkpoint by validation loss.

The settings are grouped by concern; the shipped recipe (:mod:`sentireview.recipes.shipped`)
sets the groups the tutorial leaves at their defaults:

* ``model``: the network's shape; ``ngram_buckets > 0`` adds the wide part
  (:mod:`sentireview.models.wide`, fitted by :mod:`.wide` before the LSTM trains);
* ``inputs``: vocabulary and trimming, seeded samples for quick runs;
* ``optim``: epochs, batches, learning rate, validation, mixed precision;
* ``init``: the embedding from word vectors (:mod:`.word_vectors`);
* ``distill``: splits scored by a teacher (:mod:`sentireview.teacher`), added to the
  training reviews with their soft labels.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from sentireview import artifact
from sentireview.data.splits import dataset_recipe, read_split
from sentireview.models.lstm import LSTMClassifier, LSTMConfig
from sentireview.models.wide import WideLSTMClassifier, WideLSTMConfig
from sentireview.training.distributed import DistInfo, cleanup, setup
from sentireview.training.loop import (
    History,
    StageConfig,
    previous_rows,
    resolve_amp,
    train_stage,
)
from sentireview.training.tracking import history_hooks
from sentireview.training.wide import fit_mix, fit_wide
from sentireview.training.word_vectors import init_embedding
from sentireview.vocab import UNK_ID, Vocab, pad_ids
from sentireview.weights import HALF, round_to_half, save_weights

log = logging.getLogger(__name__)


@dataclass
class ModelSettings:
    """The network's shape (the vocabulary size comes from the data)."""

    embed_dim: int = 500
    hidden: int = 128
    dropout: float = 0.3
    pooling: str = "last"  # last: the tutorial's final states | last_max: + max over time
    ngram_buckets: int = 0  # > 0: the wide part with this many hashed n-gram weights
    ngram_orders: int = 3  # the wide part's n-grams: 1 to this many words


@dataclass
class InputSettings:
    """What the model reads: vocabulary, trimming, and seeded samples for quick runs."""

    max_words: int = 500
    min_freq: int = 3
    max_vocab: int | None = None
    limit_train: int | None = None
    limit_valid: int | None = None


@dataclass
class OptimSettings:
    """How the LSTM is fitted (and the wide part, by logistic regression)."""

    epochs: int = 5
    batch_size: int = 64
    lr: float = 1e-3
    evals_per_epoch: int = 2
    early_stopping: int | None = None
    amp: str = "auto"  # auto (fp32 on CPU) | bf16 | fp16 | none: see loop.resolve_amp
    wide_c: float = 4.0  # the wide part's logistic regression: inverse L2 strength


@dataclass
class InitSettings:
    """Where the weights start."""

    word_vectors: Path | None = None  # word2vec-format file (train vectors): the embedding


@dataclass
class DistillSettings:
    """Distillation: splits scored by a teacher (``label`` = its P(positive)), trained on
    beside the labelled reviews. They count as training text for the vocabulary."""

    scored: list[Path] = field(default_factory=list)


@dataclass
class LSTMTrainConfig:
    """Settings of ``sentireview train lstm`` (defaults: the tutorial's)."""

    data: Path
    out: Path
    model: ModelSettings = field(default_factory=ModelSettings)
    inputs: InputSettings = field(default_factory=InputSettings)
    optim: OptimSettings = field(default_factory=OptimSettings)
    init: InitSettings = field(default_factory=InitSettings)
    distill: DistillSettings = field(default_factory=DistillSettings)
    seed: int = 17
    resume: bool = False
    half_weights: bool = False  # store the weights as float16 (half the artifact's size)
    save_pth: bool = False  # also write the tutorial's model.pth
    device: str | None = None
    threads: int | None = None
    progress: bool = True
    report_to: str = "none"  # none | tensorboard (training.tracking)


class IdSplit:
    """Reviews as id lists; ``collate`` pads them into ``ids`` (B, T) and ``lengths`` (B,)."""

    def __init__(self, ids: list[list[int]], labels: Sequence[float]) -> None:
        # An empty review is read as one <unk>: the LSTM needs one step.
        self.ids = [x if x else [UNK_ID] for x in ids]
        self.labels = list(labels)
        self.lengths = [len(x) for x in self.ids]

    def __len__(self) -> int:
        return len(self.ids)

    def collate(self, indices: Sequence[int], device: torch.device) -> dict[str, torch.Tensor]:
        ids, lengths = pad_ids([self.ids[i] for i in indices])
        return {
            "ids": torch.from_numpy(ids).to(device),
            "lengths": torch.from_numpy(lengths),  # stays on the CPU
            "labels": torch.tensor([self.labels[i] for i in indices], device=device),
        }


def lstm_loss(
    model: nn.Module, batch: dict[str, torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed BCE of the LSTM's own logit over the batch (the loop turns sums into the
    global-batch mean). With a wide part (frozen, already fitted) this is still the LSTM's
    logit, in training and validation alike: the best checkpoint is the best LSTM, and the
    two parts are weighted afterwards (:func:`.wide.fit_mix`)."""
    if isinstance(getattr(model, "module", model), WideLSTMClassifier):  # DDP wraps it
        logits = model(batch["ids"], batch["lengths"], parts=True)[:, 0]
    else:
        logits = model(batch["ids"], batch["lengths"])  # (B,)
    loss = nn.functional.binary_cross_entropy_with_logits(
        logits.float(), batch["labels"].float(), reduction="sum"
    )
    return loss, logits


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


def read_data(cfg: LSTMTrainConfig) -> tuple[IdSplit, IdSplit, Vocab, list[list[int]], list[int]]:
    """The encoded training split (labelled reviews, then the scored ones), the validation
    split, the vocabulary (the run's own when resuming) and the labelled reviews alone (ids,
    labels: the wide part is fitted on them)."""
    inputs = cfg.inputs
    texts, labels = read_split(cfg.data, "train", "clean", inputs.limit_train)
    valid_texts, valid_labels = read_split(cfg.data, "valid", "clean", inputs.limit_valid)
    scored_texts: list[str] = []
    scored_labels: list[float] = []
    for path in cfg.distill.scored:
        t, s = read_split(cfg.data, str(path), "clean")
        scored_texts, scored_labels = scored_texts + t, scored_labels + [float(x) for x in s]
    vocab_path = Path(cfg.out) / artifact.VOCAB
    if cfg.resume and vocab_path.exists():
        vocab = Vocab.load(vocab_path)  # the resumed model's embedding rows match this one
    else:
        if cfg.resume:
            log.warning("--resume: nothing to resume in %s, starting afresh", cfg.out)
        vocab = Vocab.build(
            texts + scored_texts, min_freq=inputs.min_freq, max_size=inputs.max_vocab
        )
    log.info("vocabulary: %d words (min frequency %d)", len(vocab), inputs.min_freq)
    ids = [vocab.encode(t, inputs.max_words) for t in texts]
    scored_ids = [vocab.encode(t, inputs.max_words) for t in scored_texts]
    train = IdSplit(ids + scored_ids, list(labels) + scored_labels)
    valid = IdSplit([vocab.encode(t, inputs.max_words) for t in valid_texts], valid_labels)
    return train, valid, vocab, ids, labels


def build_model(cfg: LSTMTrainConfig, vocab: Vocab) -> LSTMClassifier:
    """The model, seeded (same initial weights on every rank and every run), started from
    word vectors when the ``init`` settings name them."""
    m = cfg.model
    shape = dict(embed_dim=m.embed_dim, hidden=m.hidden, dropout=m.dropout, pooling=m.pooling)
    torch.manual_seed(cfg.seed)
    if m.ngram_buckets:
        model: LSTMClassifier = WideLSTMClassifier(
            WideLSTMConfig(
                len(vocab), **shape, ngram_buckets=m.ngram_buckets, ngram_orders=m.ngram_orders
            )
        )
    else:
        model = LSTMClassifier(LSTMConfig(len(vocab), **shape))
    if cfg.init.word_vectors:
        found = init_embedding(model.embedding, vocab, Path(cfg.init.word_vectors))
        log.info("embedding: %d of %d words from %s", found, len(vocab), cfg.init.word_vectors)
    return model


def _train(cfg: LSTMTrainConfig, info: DistInfo, on_step) -> dict[str, object]:
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    out = Path(cfg.out)
    train, valid, vocab, labelled_ids, labels = read_data(cfg)
    model = build_model(cfg, vocab)
    wide_fit = None
    if isinstance(model, WideLSTMClassifier):
        # Convex, deterministic, on the labelled training reviews only; then frozen.
        wide_fit = fit_wide(model, labelled_ids, labels, c=cfg.optim.wide_c)
    model = model.to(info.device)
    amp = resolve_amp(info.device, cfg.optim.amp)
    training = {k: artifact.jsonable(v) for k, v in dataclasses.asdict(cfg).items()}
    training.update(
        world_size=info.world, global_batch_size=cfg.optim.batch_size * info.world, amp_used=amp
    )
    text = {
        "recipe": dataset_recipe(cfg.data),
        "column": "clean",
        "max_tokens": cfg.inputs.max_words,
    }
    config = artifact.make_config("lstm", model.config, text, training, name=out.name or "lstm")
    if cfg.half_weights:
        config["weights_dtype"] = HALF
    if info.is_main:
        out.mkdir(parents=True, exist_ok=True)
        vocab.save(out / artifact.VOCAB)
        artifact.write_config(out, config)

    wrapped: nn.Module = model
    if info.enabled:
        wrapped = nn.parallel.DistributedDataParallel(
            model, device_ids=[info.device.index] if info.device.type == "cuda" else None
        )
    stage = StageConfig(
        name="lstm",
        epochs=cfg.optim.epochs,
        batch_size=cfg.optim.batch_size,
        seed=cfg.seed,
        evals_per_epoch=cfg.optim.evals_per_epoch,
        early_stopping=cfg.optim.early_stopping,
        amp=amp,
        progress=cfg.progress,
    )
    history = History(
        out if info.is_main else None,
        previous_rows(out) if cfg.resume else [],
        history_hooks(cfg.report_to, out if info.is_main else None),
    )
    t0 = time.perf_counter()
    result = train_stage(
        wrapped,
        train,
        valid,
        lstm_loss,
        make_optimizer(model, cfg.optim.lr),
        stage,
        info,
        checkpoint_dir=out / "checkpoints",
        history=history,
        resume=cfg.resume,
        on_step=on_step,
    )
    mix = None
    if cfg.half_weights:
        round_to_half(model)  # the mix is fitted to the weights that get saved
    if isinstance(model, WideLSTMClassifier):
        mix = fit_mix(model, valid.ids, valid.labels)
        log.info("parts weighted (deep, wide, bias) = %s on the validation split", mix)
    if info.is_main:
        save_weights(out, model, pth=cfg.save_pth, half=cfg.half_weights)
    return {
        "mix": mix,
        "wide_fit": wide_fit,
        "run_dir": str(out),
        "best_val_loss": result.best_val_loss,
        "seconds": time.perf_counter() - t0,
        "stopped_early": result.stopped_early,
    }
