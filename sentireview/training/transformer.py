"""Two-stage transfer learning: a pretrained encoder with the tutorial's head.

Stage 1 ("pretrain", the tutorial's word): encoder frozen (``requires_grad=False``, eval mode,
checked bit-identical afterwards), only the head trains, by default on cached encoder
features (:mod:`.features`: one encoder pass, then the head's epochs on the stored vectors).
Stage 2 ("finetune"): starts from stage 1's best weights, loaded strictly, every weight
trainable. Each stage has its own optimizer and learning-rate schedule (as setfit does) and
keeps its lowest-validation-loss weights.

Two recipes (``TransformerTrainConfig.from_recipe``):

``tutorial``: the tutorial's settings: the cleaned text (``clean`` column), max length 256,
batch 32, AdamW lr 1e-4, linear schedule with one epoch of warm-up, head dropout 0.4 then 0.3,
12 then 20 epochs, best checkpoint by validation loss.

``recommended``: what is known to work for fine-tuning pretrained encoders:

* raw text (``text`` column): pretrained tokenizers and encoders rely on case, punctuation
  and negations, which the tutorial's cleaner removes (SEED_NOTES "Defects");
* the pooling the encoder was trained with (``auto``: mean pooling for sentence-transformer
  encoders such as MiniLM, see :mod:`sentireview.models.transformer`);
* batch 32, encoder lr 2e-5, 2 fine-tuning epochs: Sun et al. 2019, "How to Fine-Tune BERT for
  Text Classification?" (IMDb: lr 2e-5, warm-up 0.1) and the roberta-base IMDb figure in
  SEED_NOTES (2 epochs, lr 2e-5);
* 256 tokens cut head+tail (:mod:`sentireview.subwords`): Sun et al. cut 512 tokens head+tail.
  256 is what the served model reads, and a training step at 512 tokens cost 3.6x one at 256
  here (MiniLM-L6, 2 CPU cores: 0.87 vs 3.1 reviews/s);
* warm-up 6% of the steps, linear decay: RoBERTa paper (Liu et al. 2019, Table 10, GLUE
  fine-tuning); weight decay 0.01 (BERT, Devlin et al. 2019) and gradient clipping at 1.0
  (the Hugging Face Trainer's ``max_grad_norm`` default);
* a freshly initialised head learns faster than the encoder: head lr 1e-3 (a common
  practice, e.g. discriminative learning rates in ULMFiT, Howard & Ruder 2018), with one
  short stage-1 epoch so the head is not random when the encoder starts to move.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from sentireview import artifact
from sentireview.data.splits import dataset_recipe, read_split, split_path
from sentireview.errors import SentiReviewError
from sentireview.files import sha256_file
from sentireview.models.transformer import TransformerClassifier, offline_hint
from sentireview.subwords import SubwordEncoder, check_truncation
from sentireview.training.distributed import DistInfo, cleanup, setup
from sentireview.training.features import FeatureSplit, cached_features
from sentireview.training.loop import (
    History,
    StageConfig,
    previous_rows,
    resolve_amp,
    stage_finished,
    train_stage,
)
from sentireview.training.tracking import history_hooks
from sentireview.weights import load_tensors, save_weights

log = logging.getLogger(__name__)

RECIPES: dict[str, dict[str, Any]] = {
    "tutorial": dict(
        column="clean",
        max_length=256,
        truncation="head",
        pooling="pooler",
        batch_size=32,
        eval_batch_size=64,
        pretrain_epochs=12,
        finetune_epochs=20,
        lr=1e-4,
        head_lr=None,
        warmup_epochs=1.0,
        warmup_ratio=None,
        dropout=(0.4, 0.3),
        weight_decay=0.0,
        max_grad_norm=None,
        evals_per_epoch=1,
    ),
    "recommended": dict(
        column="text",
        max_length=256,
        truncation="head+tail",
        pooling="auto",
        batch_size=32,
        eval_batch_size=64,
        pretrain_epochs=1,
        finetune_epochs=2,
        lr=2e-5,
        head_lr=1e-3,
        warmup_epochs=None,
        warmup_ratio=0.06,
        dropout=(0.1, 0.1),
        weight_decay=0.01,
        max_grad_norm=1.0,
        evals_per_epoch=2,
    ),
}


@dataclass
class TransformerTrainConfig:
    """Settings of ``sentireview train transformer`` (defaults: the tutorial recipe)."""

    data: Path
    out: Path
    encoder: str
    recipe: str = "tutorial"
    column: str = "clean"
    max_length: int = 256
    truncation: str = "head"  # head | head+tail (sentireview.subwords)
    batch_size: int = 32
    eval_batch_size: int = 64
    pretrain_epochs: int = 12
    finetune_epochs: int = 20
    lr: float = 1e-4  # stage 1: the head; stage 2: the encoder (and the head if no head_lr)
    head_lr: float | None = None
    warmup_epochs: float | None = 1.0
    warmup_ratio: float | None = None
    dropout: tuple[float, float] = (0.4, 0.3)
    weight_decay: float = 0.0
    max_grad_norm: float | None = None
    evals_per_epoch: int = 1
    grad_accum: int = 1
    pooling: str = "pooler"  # pooler | first | mean | auto (models.transformer)
    feature_cache: bool = True  # stage 1 on cached encoder features (else the encoder runs)
    checkpoint_every: int | None = None  # also save the resume state every N steps
    report_to: str = "none"  # none | tensorboard (training.tracking)
    # Splits added to the training reviews (``label``: 0/1, or a teacher's P(positive) from
    # sentireview.teacher), read through ``column``: written short reviews, scored pieces.
    extra_train: list[Path] = field(default_factory=list)
    # A trained transformer run to start from (its encoder and head): stage 1 is skipped.
    init_from: Path | None = None
    seed: int = 17
    resume: bool = False
    early_stopping: int | None = None
    limit_train: int | None = None
    limit_valid: int | None = None
    save_pth: bool = False
    device: str | None = None
    amp: str = "auto"  # auto (CUDA: bf16/fp16, CPU: fp32) | bf16 | fp16 | none
    progress: bool = True

    @classmethod
    def from_recipe(cls, recipe: str, **kwargs: Any) -> TransformerTrainConfig:
        """The recipe's values, then ``kwargs`` on top."""
        if recipe not in RECIPES:
            raise SentiReviewError(f"unknown recipe {recipe!r}; expected one of {tuple(RECIPES)}")
        return cls(**{**RECIPES[recipe], "recipe": recipe, **kwargs})


class TokenSplit:
    """Pre-tokenized reviews; ``collate`` pads each batch to its own longest review."""

    def __init__(self, ids: list[list[int]], labels: Sequence[float], pad_id: int) -> None:
        self.ids, self.labels, self.pad_id = ids, labels, pad_id
        self.lengths = [len(x) for x in ids]

    def __len__(self) -> int:
        return len(self.ids)

    def collate(self, indices: Sequence[int], device: torch.device) -> dict[str, torch.Tensor]:
        T = max(self.lengths[i] for i in indices)
        ids = torch.full((len(indices), T), self.pad_id, dtype=torch.int64)
        mask = torch.zeros((len(indices), T), dtype=torch.int64)
        for row, i in enumerate(indices):
            ids[row, : self.lengths[i]] = torch.as_tensor(self.ids[i])
            mask[row, : self.lengths[i]] = 1
        labels = torch.tensor([self.labels[i] for i in indices])
        return {
            "input_ids": ids.to(device),
            "attention_mask": mask.to(device),
            "labels": labels.to(device),
        }


def transformer_loss(
    model: nn.Module, batch: dict[str, torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed cross-entropy over the batch (the loop makes it the global-batch mean); the
    batch holds token ids, or cached ``features`` for the head alone. Float labels are
    P(positive) (a teacher's, or 0./1. beside them): cross-entropy against (1 - p, p)."""
    if "features" in batch:
        logits = model(features=batch["features"])
    else:
        logits = model(batch["input_ids"], batch["attention_mask"])  # (B, 2)
    labels = batch["labels"]
    if labels.is_floating_point():
        labels = torch.stack([1 - labels, labels], dim=1).float()  # (B, 2)
    loss = nn.functional.cross_entropy(logits.float(), labels, reduction="sum")
    return loss, logits


def linear_schedule(
    optimizer: torch.optim.Optimizer, warmup: int, total: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up over ``warmup`` steps, then linear decay to 0 at ``total``."""

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def encoder_fingerprint(model: TransformerClassifier) -> str:
    """A hash of every encoder parameter's bytes (checks that stage 1 left it untouched)."""
    h = hashlib.blake2b(digest_size=16)
    for name, p in model.encoder.named_parameters():
        h.update(name.encode())
        h.update(p.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def _load_tokenizer(name_or_path: str) -> Any:
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(name_or_path)
    except (OSError, ValueError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        first = first.rstrip(".") + offline_hint(name_or_path)
        raise SentiReviewError(f"cannot load the tokenizer of {name_or_path!r}: {first}") from None


def _backend(tokenizer: Any) -> Any:
    """The ``tokenizers.Tokenizer`` under a Hugging Face fast tokenizer (what serving loads
    from tokenizer.json)."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise SentiReviewError("the encoder's tokenizer has no fast (tokenizers) version")
    return backend


def _cache_key(
    cfg: TransformerTrainConfig, model: TransformerClassifier, fingerprint: str
) -> dict[str, Any]:
    """What stage 1's cached vectors depend on, besides the data file and the sample."""
    return {
        "encoder": cfg.encoder,
        "encoder_weights": fingerprint,
        "column": cfg.column,
        "max_length": cfg.max_length,
        "truncation": cfg.truncation,
        "pooling": model.config.pooling,
    }


def start_from(model: TransformerClassifier, run: Path) -> None:
    """Load a trained transformer run's weights into ``model`` (built from the same encoder,
    with the same pooling), strictly; a one-line error when they do not fit."""
    config = artifact.read_config(run)
    if config.get("kind") != "transformer":
        raise SentiReviewError(f"--init-from {run}: not a transformer run ({config.get('kind')})")
    pooling = config.get("model", {}).get("pooling")
    if pooling != model.config.pooling:
        raise SentiReviewError(
            f"--init-from {run} pools with {pooling!r}, this model with {model.config.pooling!r}"
        )
    try:
        model.load_state_dict(load_tensors(run / artifact.WEIGHTS), strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise SentiReviewError(f"--init-from {run} does not fit this encoder: {first}") from None
    log.info("starting from the weights of %s", run)


def train_transformer(
    cfg: TransformerTrainConfig, on_step: Callable[[int], bool] | None = None
) -> dict[str, Any]:
    """Run both stages and write the artifact to ``cfg.out``. Runs under torchrun."""
    info = setup(cfg.device)
    try:
        return _train(cfg, info, on_step)
    finally:
        cleanup(info)


def _optimizer(
    model: TransformerClassifier, cfg: TransformerTrainConfig, stage: int
) -> torch.optim.Optimizer:
    """AdamW with two parameter groups (encoder, head); stage 1 has the head only."""
    head_lr = cfg.head_lr if cfg.head_lr is not None else cfg.lr
    groups = [{"params": model.head_parameters(), "lr": head_lr}]
    if stage == 2:
        groups.insert(0, {"params": list(model.encoder.parameters()), "lr": cfg.lr})
    return torch.optim.AdamW(groups, weight_decay=cfg.weight_decay)


def _train(cfg: TransformerTrainConfig, info: DistInfo, on_step) -> dict[str, Any]:
    out = Path(cfg.out)
    check_truncation(cfg.truncation)
    train_texts, train_labels = read_split(cfg.data, "train", cfg.column, cfg.limit_train)
    train_labels = list(train_labels)
    for extra in cfg.extra_train:
        texts, labels = read_split(cfg.data, str(extra), cfg.column)
        log.info("training also on %s: %d texts", extra, len(texts))
        train_texts, train_labels = train_texts + texts, train_labels + list(labels)
    if any(isinstance(y, float) for y in train_labels):  # soft labels: one float tensor
        train_labels = [float(y) for y in train_labels]
    valid_texts, valid_labels = read_split(cfg.data, "valid", cfg.column, cfg.limit_valid)
    recipe = dataset_recipe(cfg.data)
    tokenizer = _load_tokenizer(cfg.encoder)
    torch.manual_seed(cfg.seed)
    model = TransformerClassifier.from_pretrained(cfg.encoder, cfg.dropout[0], cfg.pooling)
    if cfg.init_from is not None:
        start_from(model, Path(cfg.init_from))
    model.to(info.device)
    encode = SubwordEncoder(_backend(tokenizer), cfg.max_length, cfg.truncation)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    train = TokenSplit(encode(train_texts), train_labels, pad_id)
    valid = TokenSplit(encode(valid_texts), valid_labels, pad_id)
    amp = resolve_amp(info.device, cfg.amp)

    training = {k: artifact.jsonable(v) for k, v in dataclasses.asdict(cfg).items()}
    training.update(world_size=info.world, amp_used=amp, device=str(info.device))
    if info.is_main:
        out.mkdir(parents=True, exist_ok=True)
        tokenizer.save_pretrained(str(out / artifact.TOKENIZER))
    history = History(
        out if info.is_main else None,
        previous_rows(out) if cfg.resume else [],
        history_hooks(cfg.report_to, out if info.is_main else None),
    )
    ckpt_dir = out / "checkpoints"
    base = dict(
        batch_size=cfg.batch_size,
        eval_batch_size=cfg.eval_batch_size,
        grad_accum=cfg.grad_accum,
        evals_per_epoch=cfg.evals_per_epoch,
        early_stopping=cfg.early_stopping,
        max_grad_norm=cfg.max_grad_norm,
        seed=cfg.seed,
        amp=amp,
        progress=cfg.progress,
        checkpoint_every=cfg.checkpoint_every,
    )
    steps_per_epoch = math.ceil(
        math.ceil(len(train) / (cfg.batch_size * info.world)) / cfg.grad_accum
    )
    t0 = time.perf_counter()
    results: dict[str, Any] = {}

    def run(stage: int, name: str, epochs: int, train: Any, valid: Any) -> None:
        optimizer = _optimizer(model, cfg, stage)
        total = epochs * steps_per_epoch
        warmup = (
            round(cfg.warmup_ratio * total)
            if cfg.warmup_ratio is not None
            else round((cfg.warmup_epochs or 0) * steps_per_epoch)
        )
        scheduler = linear_schedule(optimizer, warmup, total)
        wrapped: nn.Module = model
        if info.enabled:  # DDP registers the parameters that require grad: wrap per stage
            wrapped = nn.parallel.DistributedDataParallel(
                model, device_ids=[info.device.index] if info.device.type == "cuda" else None
            )
        started = time.perf_counter()
        result = train_stage(
            wrapped,
            train,
            valid,
            transformer_loss,
            optimizer,
            StageConfig(name=name, epochs=epochs, **base),
            info,
            ckpt_dir,
            history,
            scheduler=scheduler,
            resume=cfg.resume,
            on_step=on_step,
        )
        results[name] = {
            "best_val_loss": result.best_val_loss,
            "seconds": time.perf_counter() - started,
            "stopped_early": result.stopped_early,
        }

    # Stage 1: the head on a frozen encoder (not when starting from a trained run).
    model.set_encoder_trainable(False)
    before = encoder_fingerprint(model)
    pretrain_epochs = cfg.pretrain_epochs if cfg.init_from is None else 0
    if cfg.init_from is not None and cfg.pretrain_epochs > 0:
        log.info("starting from %s: its head is trained, stage 1 is skipped", cfg.init_from)
    # Resumed after stage 1: its best weights are all stage 2 needs (not its cached features).
    pretrain_done = cfg.resume and stage_finished(ckpt_dir, "pretrain")
    if pretrain_epochs > 0 and pretrain_done:
        log.info("stage pretrain already finished: its best weights are loaded")
    if pretrain_epochs > 0 and not pretrain_done:
        if cfg.feature_cache:
            model.eval()
            key = _cache_key(cfg, model, before)

            def vectors(name: str, split: TokenSplit, limit: int | None) -> FeatureSplit:
                """The split's cached encoder vectors (computed once, see :mod:`.features`)."""
                data_key = {
                    "split": name,
                    "sha256": sha256_file(split_path(cfg.data, name)),
                    "limit": limit,
                    "reviews": len(split),
                }
                if name == "train" and cfg.extra_train:  # (no entry without: older keys hold)
                    data_key["extra_sha256"] = [
                        sha256_file(split_path(cfg.data, str(e))) for e in cfg.extra_train
                    ]
                features = cached_features(
                    model, split, out / "features" / name, {**key, **data_key}, info,
                    cfg.eval_batch_size, cfg.progress,
                )
                return FeatureSplit(features, split.labels, split.lengths)

            run(
                1,
                "pretrain",
                pretrain_epochs,
                vectors("train", train, cfg.limit_train),
                vectors("valid", valid, cfg.limit_valid),
            )
        else:
            run(1, "pretrain", pretrain_epochs, train, valid)
        if encoder_fingerprint(model) != before:
            raise RuntimeError("stage 1 changed the frozen encoder")

    # Stage 1's best weights (loaded strictly), whether it ran now or in an earlier
    # invocation: stage 2 starts from them, and without stage 2 they are the model.
    if pretrain_epochs > 0:
        model.load_state_dict(load_tensors(ckpt_dir / "pretrain-best.safetensors"), strict=True)
    # Stage 2: everything, lower dropout.
    if cfg.finetune_epochs > 0:
        model.set_encoder_trainable(True)
        model.set_dropout(cfg.dropout[1])
        run(2, "finetune", cfg.finetune_epochs, train, valid)

    if info.is_main:
        config = artifact.make_config(
            "transformer",
            model.config,
            {
                "recipe": recipe,
                "column": cfg.column,
                "max_tokens": cfg.max_length,
                "truncation": cfg.truncation,
            },
            training,
            name=out.name or "transformer",
        )
        artifact.write_config(out, config)
        save_weights(out, model, pth=cfg.save_pth)
    return {"run_dir": str(out), "stages": results, "seconds": time.perf_counter() - t0}
