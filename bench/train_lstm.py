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


def our_steps(split: IdSplit, vocab_size: int, batch_size: int):
    """Yields this library's training-step times (bucketed batches, LSTMClassifier)."""
    torch.manual_seed(0)
    model = LSTMClassifier(LSTMConfig(vocab_size=vocab_size)).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    device = torch.device("cpu")
    for epoch in range(1000):
        for idx in bucket_batches(split.lengths, batch_size, seed=17, epoch=epoch):
            batch = split.collate(idx, device)
            t = time.perf_counter()
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
    p.add_argument("--limit", type=int, default=2000, help="reviews to read")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--ref-batches", type=int, default=4, help="timed batches for the reference")
    p.add_argument("--batches", type=int, default=20, help="timed batches for ours")
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
    threads = torch.get_num_threads()
    # Interleaved (one reference batch, then a few of ours) so that both see the same load
    # on a shared machine; the first batch of each is a warm-up and is not counted.
    ref = reference_steps(split, len(vocab), args.batch_size)
    ours = our_steps(split, len(vocab), args.batch_size)
    next(ref), next(ours)
    per_round = max(1, args.batches // args.ref_batches)
    totals = {"ref": [0.0, 0], "ours": [0.0, 0]}
    for _ in range(args.ref_batches):
        for key, steps, n in (("ref", ref, 1), ("ours", ours, per_round)):
            for _ in range(n):
                seconds, count = next(steps)
                totals[key][0] += seconds
                totals[key][1] += count
    ref_rate = totals["ref"][1] / totals["ref"][0]
    our_rate = totals["ours"][1] / totals["ours"][0]
    log.info("reference (nn.LSTM, padded to 500, %d threads): %.1f reviews/s", threads, ref_rate)
    log.info(
        "ours (bucketed batches, fused unpacked LSTM, %d threads): %.1f reviews/s",
        threads,
        our_rate,
    )
    log.info("speed-up: %.1fx", our_rate / ref_rate)


if __name__ == "__main__":
    main()
