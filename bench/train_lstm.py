"""LSTM training speed on CPU: this library's loop vs a plain reference, in the same run.

Reference (the tutorial's model, written plainly): Embedding(V, 500) -> torch.nn.LSTM
bidirectional 128 over every review padded to 500 tokens -> Dropout -> Linear(256, 1), BCE,
Adam lr 1e-3, batch 64, reviews in file order, one process, default threads.

Ours: the same model (``LSTMClassifier``: same layers, sizes and parameters) as
``sentireview train lstm`` runs it: batches bucketed by length (``bucket_batches``), so little
time goes into padding; ``torch.lstm`` over unpacked batches (oneDNN on CPU); Adam as one
fused kernel
(``make_optimizer``: same algorithm). Same loss and batch size. Same results in expectation:
every review is read in full by both (the reference additionally reads padding, which
changes its final states: see docs/training.md).

``--bf16`` adds ours under bfloat16 autocast (``sentireview train lstm --amp bf16``: the
products in bfloat16, weights, Adam and loss in float32), for CPUs with bfloat16 instructions.
Mixed precision changes the arithmetic, so its "same results" is checked on a full run
(docs/training.md), not here.

    python bench/train_lstm.py [--data ../shared/data/aclImdb_v1.tar.gz] [--limit 2000]

The vocabulary is built from ``--vocab-reviews`` training reviews (default 25,000: all of
them, about 39,000 words at min frequency 3, as in a real run: the embedding's size sets the
cost of its dense gradient and of Adam); the first ``--limit`` of them are trained on.
Prints reviews/s for each and the ratios. Rates are training steps only (forward, backward,
optimizer step), after one warm-up batch; data reading and cleaning are not timed.
"""

from __future__ import annotations

import argparse
import logging
import tarfile
import time
from pathlib import Path

import torch
from torch import nn

from sentireview.models.lstm import LSTMClassifier, LSTMConfig
from sentireview.training.batching import bucket_batches
from sentireview.training.loop import autocast
from sentireview.training.lstm import IdSplit, lstm_loss, make_optimizer
from sentireview.vocab import Vocab

log = logging.getLogger("bench")
DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "aclImdb_v1.tar.gz"


def read_reviews(path: Path, limit: int) -> tuple[list[str], list[int]]:
    """Up to ``limit`` labelled training reviews (half positive, half negative)."""
    if path.is_dir():  # a prepared dataset
        import pandas as pd

        frame = pd.read_parquet(path / "train.parquet", columns=["raw", "label"]).head(limit)
        return frame["raw"].tolist(), frame["label"].astype(int).tolist()
    texts: dict[int, list[str]] = {0: [], 1: []}
    with tarfile.open(path, "r:gz") as tar:
        for member in tar:
            parts = member.name.split("/")
            if len(parts) != 4 or parts[1] != "train" or parts[2] not in ("pos", "neg"):
                continue
            label = int(parts[2] == "pos")
            if len(texts[label]) >= limit // 2:
                if all(len(v) >= limit // 2 for v in texts.values()):
                    break
                continue
            texts[label].append(tar.extractfile(member).read().decode("utf-8"))
    out_texts, out_labels = [], []
    for pos, neg in zip(texts[1], texts[0], strict=False):  # alternate the labels
        out_texts += [pos, neg]
        out_labels += [1, 0]
    return out_texts, out_labels


class PlainLSTM(nn.Module):
    """The reference: nn.LSTM over the fixed-length padded batch, final hidden states."""

    def __init__(self, vocab_size: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, 500, padding_idx=0)
        self.lstm = nn.LSTM(500, 128, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(0.3)
        self.fc = nn.Linear(256, 1)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        _, (h, _) = self.lstm(self.embedding(ids))  # h: (2, B, 128)
        return self.fc(self.dropout(torch.cat([h[0], h[1]], -1))).squeeze(-1)


def reference_steps(split: IdSplit, vocab_size: int, batch_size: int):
    """Yields the reference's training-step times, one batch per ``next``."""
    torch.manual_seed(0)
    model = PlainLSTM(vocab_size).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.BCEWithLogitsLoss()
    for b in range(len(split) // batch_size):
        idx = list(range(b * batch_size, (b + 1) * batch_size))
        ids = torch.zeros((batch_size, 500), dtype=torch.int64)  # fixed-length padding
        for row, i in enumerate(idx):
            ids[row, : split.lengths[i]] = torch.as_tensor(split.ids[i])
        labels = torch.tensor([split.labels[i] for i in idx], dtype=torch.float32)
        t = time.perf_counter()
        loss = loss_fn(model(ids), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        yield time.perf_counter() - t, len(idx)


def our_steps(
    split: IdSplit,
    vocab_size: int,
    batch_size: int,
    amp: str | None = None,
):
    """Yields this library's training-step times (bucketed batches, LSTMClassifier)."""
    torch.manual_seed(0)
    model = LSTMClassifier(LSTMConfig(vocab_size=vocab_size)).train()
    opt = make_optimizer(model, 1e-3)
    device = torch.device("cpu")
    for epoch in range(1000):
        for idx in bucket_batches(split.lengths, batch_size, seed=17, epoch=epoch):
            batch = split.collate(idx, device)
            t = time.perf_counter()
            with autocast(device, amp):
                loss_sum, _ = lstm_loss(model, batch)
            opt.zero_grad()
            (loss_sum / len(idx)).backward()
            opt.step()
            yield time.perf_counter() - t, len(idx)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help="aclImdb .tar.gz or prepared dir"
    )
    p.add_argument("--limit", type=int, default=2000, help="reviews to train on")
    p.add_argument(
        "--vocab-reviews", type=int, default=25000, help="reviews the vocabulary is built from"
    )
    p.add_argument("--bf16", action="store_true", help="also time ours under bf16 autocast")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--ref-batches", type=int, default=4, help="timed batches for the reference")
    p.add_argument("--batches", type=int, default=20, help="timed batches for ours")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    from sentireview.text import clean

    raw, labels = read_reviews(args.data, max(args.limit, args.vocab_reviews))
    cleaned = [clean(t) for t in raw]
    vocab = Vocab.build(cleaned, min_freq=3)
    cleaned, labels = cleaned[: args.limit], labels[: args.limit]
    split = IdSplit([vocab.encode(t, 500) for t in cleaned], labels)
    mean_len = sum(split.lengths) / len(split)
    log.info(
        "%d reviews (vocabulary from %d), vocabulary %d, mean length %.0f tokens (max 500)",
        len(split),
        len(raw),
        len(vocab),
        mean_len,
    )
    threads = torch.get_num_threads()
    log.info("load average before: %s", _load())
    # Interleaved (one reference batch, then a few of each candidate) so that all see the
    # same load on a shared machine; the first batch of each is a warm-up, not counted.
    contestants = {"ref": reference_steps(split, len(vocab), args.batch_size)}
    contestants["ours"] = our_steps(split, len(vocab), args.batch_size)
    if args.bf16:
        contestants["bf16"] = our_steps(split, len(vocab), args.batch_size, amp="bf16")
    for steps in contestants.values():
        next(steps)
    per_round = max(1, args.batches // args.ref_batches)
    totals = {key: [0.0, 0] for key in contestants}
    for _ in range(args.ref_batches):
        for key, steps in contestants.items():
            for _ in range(1 if key == "ref" else per_round):
                seconds, count = next(steps)
                totals[key][0] += seconds
                totals[key][1] += count
    log.info("load average after: %s", _load())
    rates = {key: n / seconds for key, (seconds, n) in totals.items()}
    names = {
        "ref": "reference (nn.LSTM, padded to 500, torch.optim.Adam)",
        "ours": "ours (bucketed, torch.lstm unpacked, fused Adam)",
        "bf16": "ours, bf16 autocast (--amp bf16)",
    }
    for key, rate in rates.items():
        log.info("%-66s %d threads: %6.1f reviews/s", names[key], threads, rate)
    for key in rates:
        if key != "ref":
            log.info("speed-up %s / reference: %.1fx", key, rates[key] / rates["ref"])


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


if __name__ == "__main__":
    main()
