"""Benchmark: one language-model training step with a full, an adaptive and a sampled softmax.

Why ``sentireview.training.language_model`` trains with a sampled softmax: on a CPU the output
layer over 30,000 words, not the small BiLSTM, sets the cost of a step. Times one step
(forward, backward, Adam) of the shipped model's BiLSTM (embedding 100, hidden 64) on a
synthetic batch of 64 reviews of 230 words (IMDb's mean is about 230 in the ``words`` recipe),
for each output layer; the full softmax is the baseline in the same run.

    .venv/bin/python bench/lm_softmax.py [--threads 2] [--steps 5]
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from sentireview.models.lstm import LSTMClassifier, LSTMConfig, reverse_within
from sentireview.training.language_model import BidirectionalLM

VOCAB, BATCH, WORDS = 30_002, 64, 230


class _OtherHeads(nn.Module):
    """The same BiLSTM with a full or an adaptive softmax per direction."""

    def __init__(self, encoder: LSTMClassifier, kind: str) -> None:
        super().__init__()
        self.encoder, self.kind = encoder, kind
        h = encoder.config.hidden
        if kind == "full":
            self.heads = nn.ModuleList(nn.Linear(h, VOCAB) for _ in range(2))
        else:
            self.heads = nn.ModuleList(
                nn.AdaptiveLogSoftmaxWithLoss(h, VOCAB, [2000, 10000], div_value=4.0)
                for _ in range(2)
            )

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, int]:
        outputs = self.encoder.direction_outputs(self.encoder.embedding(ids), lengths)
        targets = [ids, reverse_within(ids, lengths)]
        total = 0.0
        for out, target, head in zip(outputs, targets, self.heads, strict=True):
            h, y = out[:, :-1].reshape(-1, out.shape[-1]), target[:, 1:].reshape(-1)
            if self.kind == "full":
                total = total + nn.functional.cross_entropy(head(h), y, reduction="sum")
            else:
                total = total + head(h, y).loss * len(y)
        return total, 2 * ids.shape[0] * (ids.shape[1] - 1)


def seconds_per_step(model: nn.Module, steps: int) -> float:
    g = torch.Generator().manual_seed(0)
    # Zipf-like word ids: frequent words are most of the text, as in real reviews
    ranks = torch.randint(1, 200, (BATCH, WORDS), generator=g) ** 2
    ids = (ranks % (VOCAB - 2)) + 2
    lengths = torch.full((BATCH,), WORDS)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    times = []
    for i in range(steps + 1):
        t0 = time.perf_counter()
        loss, n = model(ids, lengths)
        optimizer.zero_grad()
        (loss / n).backward()
        optimizer.step()
        if i:  # the first step warms up
            times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=5)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    def encoder() -> LSTMClassifier:
        return LSTMClassifier(LSTMConfig(VOCAB, 100, 64, pooling="last_max"))

    counts = torch.ones(VOCAB)
    rows = [
        ("full softmax (baseline)", _OtherHeads(encoder(), "full")),
        ("adaptive softmax, clusters 2,000 / 10,000", _OtherHeads(encoder(), "adaptive")),
        ("sampled softmax, 256 negatives (train lm)", BidirectionalLM(encoder(), counts, 0.2, 256)),
    ]
    print(f"one step, batch {BATCH} x {WORDS} words, {args.threads} threads (median)\n")
    print("| output layer | s per step | vs full |\n|---|---:|---:|")
    base = None
    for name, model in rows:
        s = seconds_per_step(model, args.steps)
        base = base or s
        print(f"| {name} | {s:.3f} | {base / s:.1f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
