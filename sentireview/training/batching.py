"""Batches bucketed by length, identical on every rank, sharded by rank.

The sampler draws *global* batches for an epoch from ``(seed, epoch)`` alone, so every rank
(and a resumed run) computes the same list; rank ``r`` of ``world`` takes ``batch[r::world]``.
A run with N processes and per-process batch size b therefore sees exactly the global
batches of a one-process run with batch size N * b.

Bucketing (as the tutorial's BucketIterator): shuffle, cut into pools of ``pool`` batches,
sort each pool by length, cut into batches, shuffle the batch order. Batches hold reviews of
similar length, so little time goes into padding, and the order still changes every epoch.
"""

from __future__ import annotations

import random
from collections.abc import Sequence


def bucket_batches(
    lengths: Sequence[int],
    batch_size: int,
    seed: int,
    epoch: int,
    pool: int = 50,
    shuffle: bool = True,
    min_size: int = 1,
) -> list[list[int]]:
    """Global batches of indices for one epoch; batches smaller than ``min_size`` (the world
    size, so every rank gets at least one review) are dropped."""
    order = list(range(len(lengths)))
    rng = random.Random(seed * 1_000_003 + epoch)
    if shuffle:
        rng.shuffle(order)
    batches: list[list[int]] = []
    span = batch_size * pool
    for start in range(0, len(order), span):
        chunk = sorted(order[start : start + span], key=lambda i: lengths[i])
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    if shuffle:
        rng.shuffle(batches)
    return [b for b in batches if len(b) >= min_size]


def eval_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Fixed batches for evaluation: sorted by length (fast), same for every call."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def shard(batch: Sequence[int], rank: int, world: int) -> list[int]:
    """This rank's part of a global batch."""
    return list(batch[rank::world])
