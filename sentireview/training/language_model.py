"""Language-model pre-training of the LSTM on unlabelled reviews (ULMFiT's first idea).

Each direction of the bidirectional LSTM learns to predict the next word it will read: the
forward one the word after position t, the backward one the word before it. Training text
needs no labels, so the 50,000 unlabelled IMDb reviews and the training reviews' text
(labels unused) all serve. The classifier then starts from the learned embedding and LSTM
weights (:func:`load_pretrained`, ``LSTMTrainConfig.init.language_model``) instead of from word
vectors alone: the recurrent weights, not only the word vectors, come pre-trained.

A softmax over 30,000 words at every position costs far more than the small LSTM
(``bench/lm_softmax.py``, one step on 64 reviews of 230 words, 2 cores: full softmax 8.4 s,
``nn.AdaptiveLogSoftmaxWithLoss`` 2.4 s, this sampled softmax 0.17 s), so training uses a
sampled softmax (Jean et al. 2015): each batch scores the true next word against
``negatives`` words drawn once for the batch from the unigram distribution raised to 0.75,
with the usual log-probability correction. The validation loss (its exponential: the
perplexity) is computed with the full softmax. The output layers are discarded after training.

It trains through the classifiers' loop (:func:`sentireview.training.loop.train_stage`): the
loop's unit is a predicted word here, one validation per epoch, gradient clipping, the
weights with the lowest validation loss kept.

Measured on IMDb (docs/accuracy.md): 4 epochs took 14 min on 2 cores and made the distilled
LSTM alone about 0.3 points better on the test split; the shipped recipe's member 2 starts
from it.

The folder written (``out``): ``lm_settings.json`` (first), ``vocab.json``,
``lm.safetensors`` (embedding and LSTM weights, under the classifier's parameter names),
``history.json`` and, last, ``lm_config.json`` (its presence marks a finished run); while
training, ``checkpoints/`` (the loop's resume state, every ``checkpoint_every`` batches and at
each epoch's end) lets an interrupted run resume where it stopped, to the same weights and
history. Resuming with other settings is refused with a one-line error.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from torch import nn

from sentireview.artifact import jsonable
from sentireview.data.splits import read_split, read_unlabelled
from sentireview.errors import SentiReviewError
from sentireview.files import write_json
from sentireview.models.lstm import LSTMClassifier, LSTMConfig, reverse_within
from sentireview.training.batching import bucket_batches
from sentireview.training.distributed import DistInfo, pick_device
from sentireview.training.loop import History, StageConfig, previous_rows, train_stage
from sentireview.training.word_vectors import init_embedding
from sentireview.vocab import PAD_ID, Vocab, pad_ids
from sentireview.weights import load_tensors, save_tensors

log = logging.getLogger(__name__)

WEIGHTS = "lm.safetensors"
CONFIG = "lm_config.json"
SETTINGS = "lm_settings.json"  # the run's settings, written first (a resume must match them)
CHECKPOINT = "checkpoints/lm.pt"  # the loop's resume state


@dataclass
class LMConfig:
    """Settings of the language-model pre-training."""

    data: Path
    out: Path
    splits: Sequence[str] = ("train", "unsup")  # the `clean` text of these; labels unused
    embed_dim: int = 100
    hidden: int = 64
    min_freq: int = 3
    max_vocab: int | None = 30_000
    max_words: int = 400  # the first words of each review (the cost grows with length)
    epochs: int = 2
    batch_size: int = 64
    lr: float = 2e-3  # peak; linear warm-up over the first 2% of steps, then linear decay
    dropout: float = 0.2  # on the embedded words and on the outputs before the heads
    negatives: int = 256  # sampled words per batch and direction
    clip: float = 1.0
    word_vectors: Path | None = None  # word2vec file to start the embedding
    valid_reviews: int = 500  # validation reviews for the perplexity after each epoch
    checkpoint_every: int = 300  # batches
    seed: int = 17
    limit: int | None = None  # at most this many training reviews (tests, quick runs)
    device: str | None = None  # default: the GPU when there is one, else the CPU


class SampledSoftmax(nn.Module):
    """Next-word output layer (hidden -> vocabulary) trained by sampled softmax."""

    def __init__(self, hidden: int, vocab_size: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(vocab_size, hidden) * hidden**-0.5)
        self.bias = nn.Parameter(torch.zeros(vocab_size))

    def sampled_loss(
        self, h: torch.Tensor, target: torch.Tensor, negatives: torch.Tensor, log_q: torch.Tensor
    ) -> torch.Tensor:
        """Summed loss of (N, H) states against their (N,) targets and shared negatives."""
        true = (h * self.weight[target]).sum(-1) + self.bias[target] - log_q[target]
        neg = h @ self.weight[negatives].T + self.bias[negatives] - log_q[negatives]
        neg = neg.masked_fill(negatives.view(1, -1) == target.view(-1, 1), float("-inf"))
        return -(true - torch.logaddexp(true, torch.logsumexp(neg, dim=1))).sum()

    def full_loss(self, h: torch.Tensor, target: torch.Tensor, chunk: int = 2048) -> torch.Tensor:
        """Summed cross-entropy over the whole vocabulary (evaluation)."""
        total = h.new_zeros(())
        for start in range(0, h.shape[0], chunk):
            logits = h[start : start + chunk] @ self.weight.T + self.bias
            total = total + nn.functional.cross_entropy(
                logits, target[start : start + chunk], reduction="sum"
            )
        return total


class BidirectionalLM(nn.Module):
    """An LSTMClassifier's embedding and LSTM, with one next-word output layer per direction."""

    def __init__(
        self, encoder: LSTMClassifier, counts: torch.Tensor, dropout: float, negatives: int
    ) -> None:
        super().__init__()
        cfg = encoder.config
        self.encoder = encoder
        self.drop = nn.Dropout(dropout)
        self.heads = nn.ModuleList(SampledSoftmax(cfg.hidden, cfg.vocab_size) for _ in range(2))
        q = counts.double().clamp(min=1) ** 0.75
        q[PAD_ID] = 0.0
        self.register_buffer("sampling", (q / q.sum()).float(), persistent=False)
        self.negatives = min(negatives, cfg.vocab_size - 1)
        # log Q: the log of each word's expected count among the negatives (drawn with
        # replacement, duplicates kept), k * p
        expected = self.negatives * q / q.sum()
        self.register_buffer("log_q", expected.clamp(min=1e-12).log().float(), persistent=False)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, int]:
        """Summed negative log-likelihood of every predicted word (sampled while training,
        full softmax in eval mode) and how many words were predicted."""
        B, T = ids.shape
        x = self.drop(self.encoder.embedding(ids))
        outputs = self.encoder.direction_outputs(x, lengths)
        targets = [ids, reverse_within(ids, lengths)]
        # position t predicts the word at t + 1 of its direction's reading order
        keep = torch.arange(T - 1, device=ids.device).view(1, -1) < (lengths - 1).view(B, 1)
        total = x.new_zeros(())
        for out, target, head in zip(outputs, targets, self.heads, strict=True):
            h, y = self.drop(out[:, :-1][keep]), target[:, 1:][keep]
            if self.training:
                negatives = torch.multinomial(self.sampling, self.negatives, replacement=True)
                total = total + head.sampled_loss(h, y, negatives, self.log_q)
            else:
                total = total + head.full_loss(h, y)
        return total, int(keep.sum()) * 2


class LMSplit:
    """Reviews as id lists for the loop (:func:`sentireview.training.loop.train_stage`); its
    unit is a predicted word: each direction predicts ``length - 1`` words of a review."""

    def __init__(self, vocab: Vocab, texts: list[str], max_words: int) -> None:
        ids = (vocab.encode(t, max_words) for t in texts)
        self.ids = [x for x in ids if len(x) >= 2]  # a one-word review predicts nothing
        self.lengths = [len(x) for x in self.ids]

    def __len__(self) -> int:
        return len(self.ids)

    def units(self, indices: Sequence[int]) -> int:
        return 2 * sum(self.lengths[i] - 1 for i in indices)

    def collate(self, indices: Sequence[int], device: torch.device) -> dict[str, torch.Tensor]:
        padded, lengths = pad_ids([self.ids[i] for i in indices])
        return {
            "ids": torch.from_numpy(padded).to(device),
            "lengths": torch.from_numpy(lengths).to(device),
            "labels": torch.zeros(len(indices), device=device),  # unused
        }


def lm_loss(model: nn.Module, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, None]:
    """Summed next-word loss of the batch (sampled softmax while training, full in eval mode);
    no logits, so the loop reports no accuracy."""
    total, _ = model(batch["ids"], batch["lengths"])
    return total, None


def train_language_model(cfg: LMConfig) -> dict[str, object]:
    """Pre-train and write ``cfg.out`` (see the module docstring); returns a summary. Resumes
    from ``cfg.out/checkpoints/`` when it is there; a finished folder is left as it is."""
    out = Path(cfg.out)
    if is_trained(out):
        log.info("%s already holds a trained language model", out)
        return json.loads((out / CONFIG).read_text(encoding="utf-8"))["summary"]
    texts: list[str] = []
    for split in cfg.splits:
        texts += read_unlabelled(cfg.data, split, "clean")
    if cfg.limit is not None:
        texts = texts[: cfg.limit]
    settings = {
        k: jsonable(v)
        for k, v in dataclasses.asdict(cfg).items()
        if k not in ("out", "device", "checkpoint_every")
    }
    vocab_path, settings_path = out / "vocab.json", out / SETTINGS
    resume = (out / CHECKPOINT).exists() and vocab_path.exists() and settings_path.exists()
    if resume:
        _check_same_settings(out, json.loads(settings_path.read_text("utf-8")), settings)
        vocab = Vocab.load(vocab_path)
    else:
        vocab = Vocab.build(texts, min_freq=cfg.min_freq, max_size=cfg.max_vocab)
        vocab.save(vocab_path)
        write_json(settings_path, settings)
    train = LMSplit(vocab, texts, cfg.max_words)
    valid_texts, _ = read_split(cfg.data, "valid", "clean", limit=cfg.valid_reviews)
    valid = LMSplit(vocab, valid_texts, cfg.max_words)
    if not len(train) or not len(valid):
        raise SentiReviewError(f"{cfg.data}: no reviews of two words or more to train on")

    info = DistInfo(device=pick_device(0, cfg.device))  # one process, as before the loop
    torch.manual_seed(cfg.seed)
    encoder = LSTMClassifier(LSTMConfig(len(vocab), cfg.embed_dim, cfg.hidden, pooling="last_max"))
    if cfg.word_vectors:
        init_embedding(encoder.embedding, vocab, Path(cfg.word_vectors))
    counts = torch.bincount(torch.tensor([i for x in train.ids for i in x]), minlength=len(vocab))
    model = BidirectionalLM(encoder, counts, cfg.dropout, cfg.negatives).to(info.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    total_steps = len(bucket_batches(train.lengths, cfg.batch_size, cfg.seed, 0)) * cfg.epochs
    warmup = max(1, total_steps // 50)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda s: min((s + 1) / warmup, max(0.0, (total_steps - s) / max(1, total_steps - warmup))),
    )
    stage = StageConfig(
        name="lm",
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        evals_per_epoch=1,
        max_grad_norm=cfg.clip,
        seed=cfg.seed,
        progress=False,
        checkpoint_every=cfg.checkpoint_every,
    )
    log.info(
        "language model: %d reviews, %d words of vocabulary, %d batches",
        len(train),
        len(vocab),
        total_steps,
    )
    history = History(out, previous_rows(out) if resume else [])
    result = train_stage(
        model,
        train,
        valid,
        lm_loss,
        optimizer,
        stage,
        info,
        out / "checkpoints",
        history,
        scheduler=scheduler,
        resume=resume,
    )
    weights = {k: v.cpu() for k, v in encoder.state_dict().items() if not k.startswith("fc.")}
    save_tensors(weights, out / WEIGHTS)
    rows = [{**r, "valid_perplexity": round(math.exp(r["val_loss"]), 2)} for r in result.history]
    summary = {"history": rows, "reviews": len(train), "vocab": len(vocab)}
    write_json(out / CONFIG, {"config": settings, "summary": summary})  # last: "finished"
    shutil.rmtree(out / "checkpoints", ignore_errors=True)
    return summary


def is_trained(folder: Path) -> bool:
    """Whether ``folder`` holds a finished language model (its config is written last)."""
    return (Path(folder) / CONFIG).exists() and (Path(folder) / WEIGHTS).exists()


def _check_same_settings(out: Path, saved: dict, settings: dict) -> None:
    changed = sorted(k for k in settings.keys() | saved.keys() if saved.get(k) != settings.get(k))
    if changed:
        raise SentiReviewError(
            f"{out} holds an unfinished run with other settings ({', '.join(changed)}): "
            f"run again with the same ones, or delete {out / CHECKPOINT} to start afresh"
        )


@torch.no_grad()
def load_pretrained(model: LSTMClassifier, vocab: Vocab, folder: Path) -> int:
    """Start ``model`` from a pre-trained language model: its LSTM weights, and the embedding
    rows of the words both vocabularies share (the others keep their start). Returns how many
    words were found; raises SentiReviewError when the shapes differ."""
    folder = Path(folder)
    try:
        weights = load_tensors(folder / WEIGHTS)
        lm_vocab = Vocab.load(folder / "vocab.json")
    except (OSError, ValueError, SafetensorError) as exc:
        raise SentiReviewError(f"cannot read a language model in {folder}: {exc}") from None
    if "embedding.weight" not in weights:
        raise SentiReviewError(f"{folder / WEIGHTS} has no embedding: not a language model")
    own = model.state_dict()
    for name, tensor in weights.items():
        if name == "embedding.weight":
            continue
        if name not in own or own[name].shape != tensor.shape:
            raise SentiReviewError(
                f"{folder}: {name} {tuple(tensor.shape)} does not fit this model "
                f"(embedding and hidden sizes must match the language model's)"
            )
        own[name].copy_(tensor)
    embedding = weights["embedding.weight"]
    if embedding.shape[1] != model.config.embed_dim:
        raise SentiReviewError(
            f"{folder}: {embedding.shape[1]}-dimensional embedding, the model has "
            f"{model.config.embed_dim}"
        )
    rows = [(i, lm_vocab.stoi[w]) for i, w in enumerate(vocab.itos) if w in lm_vocab.stoi]
    if rows:
        target, source = (torch.tensor(r) for r in zip(*rows, strict=True))
        model.embedding.weight[target] = embedding[source].to(model.embedding.weight.dtype)
    return len(rows)
