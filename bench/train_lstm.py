"""LSTM training speed on CPU: this library's loop vs a plain reference, in the same run.

Reference (the tutorial's model, written plainly): Embedding(V, 500) -> torch.nn.LSTM
bidirectional 128 over every review padded to 500 tokens -> Dropout -> Linear(256, 1), BCE,
Adam lr 1e-3, batch 64, reviews in file order, one process, default threads.

Ours: the same model (``LSTMClassifier``: same layers and sizes) fed batches bucketed by
length (``bucket_batches``) through packed sequences, so no time goes into padding; same
loss, optimizer and batch size. Same results in expectation: every review is read in full by
both (the reference additionally reads padding).

    python bench/train_lstm.py --limit 2000 [--data ../shared/data/aclImdb_v1.tar.gz]

Prints reviews/s for both and the ratio. Rates are training steps only (forward, backward,
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
from sentireview.training.lstm import IdSplit, lstm_loss
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
    pairs = [(t, 1) for t in texts[1]] + [(t, 0) for t in texts[0]]
    pairs = [p for pair in zip(pairs[: len(texts[1])], pairs[len(texts[1]) :]) for p in pair]
    return [t for t, _ in pairs], [y for _, y in pairs]


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


def time_reference(split: IdSplit, vocab_size: int, batches: int, batch_size: int) -> float:
    torch.manual_seed(0)
    model = PlainLSTM(vocab_size).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.BCEWithLogitsLoss()
    n, elapsed = 0, 0.0
    for b in range(batches + 1):
        idx = list(range(b * batch_size, (b + 1) * batch_size))
        ids = torch.zeros((batch_size, 500), dtype=torch.int64)
        for row, i in enumerate(idx):
            ids[row, : split.lengths[i]] = torch.as_tensor(split.ids[i])
        labels = torch.tensor([split.labels[i] for i in idx], dtype=torch.float32)
        t = time.perf_counter()
        loss = loss_fn(model(ids), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if b > 0:  # the first batch is a warm-up
            elapsed += time.perf_counter() - t
            n += len(idx)
    return n / elapsed


def time_ours(split: IdSplit, vocab_size: int, batches: int, batch_size: int) -> float:
    torch.manual_seed(0)
    model = LSTMClassifier(LSTMConfig(vocab_size=vocab_size)).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    plan = bucket_batches(split.lengths, batch_size, seed=17, epoch=0)[: batches + 1]
    device = torch.device("cpu")
    n, elapsed = 0, 0.0
    for b, idx in enumerate(plan):
        batch = split.collate(idx, device)
        t = time.perf_counter()
        loss_sum, _ = lstm_loss(model, batch)
        opt.zero_grad()
        (loss_sum / len(idx)).backward()
        opt.step()
        if b > 0:
            elapsed += time.perf_counter() - t
            n += len(idx)
    return n / elapsed


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help="aclImdb .tar.gz or prepared dir"
    )
    p.add_argument("--limit", type=int, default=2000, help="reviews to read")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--ref-batches", type=int, default=4, help="timed batches for the reference")
    p.add_argument("--batches", type=int, default=20, help="timed batches for ours")
    p.add_argument("--threads", type=int, default=None, help="torch threads for ours")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    from sentireview.text import clean

    raw, labels = read_reviews(args.data, args.limit)
    cleaned = [clean(t) for t in raw]
    vocab = Vocab.build(cleaned, min_freq=3)
    split = IdSplit([vocab.encode(t, 500) for t in cleaned], labels)
    mean_len = sum(split.lengths) / len(split)
    log.info(
        "%d reviews, vocabulary %d, mean length %.0f tokens (max 500)",
        len(split),
        len(vocab),
        mean_len,
    )
    default_threads = torch.get_num_threads()
    ref = time_reference(split, len(vocab), args.ref_batches, args.batch_size)
    log.info("reference (nn.LSTM, padded to 500, %d threads): %.1f reviews/s", default_threads, ref)
    if args.threads:
        torch.set_num_threads(args.threads)
    ours = time_ours(split, len(vocab), args.batches, args.batch_size)
    log.info(
        "ours (bucketed, unpacked fused LSTM, %d threads): %.1f reviews/s",
        torch.get_num_threads(),
        ours,
    )
    log.info("speed-up: %.1fx", ours / ref)


if __name__ == "__main__":
    main()
