"""Stage 1 on cached encoder features.

While the encoder is frozen, the vector it gives a review never changes. So stage 1 encodes
each review once (encoder in eval mode, no gradients, batches sorted by length and padded to
their own longest review) and the head trains on the stored vectors for all its epochs: the
tutorial's 12 stage-1 epochs cost one encoder pass plus 12 passes of a small head.

The cache is a folder per split in the run folder (``features/train``, ``features/valid``):
``key.json`` and parts of ``PART`` reviews (``part-00003.safetensors``: ``features`` (n, H)
float32 and ``index`` (n,) int64, written atomically). The key names everything the vectors
depend on: the encoder (name and a hash of its weights), the text column, the maximum length,
the truncation, the pooling, the data file's checksum and the sample. A different key empties
the folder and encodes again; an interrupted pass keeps its finished parts and encodes the
rest. With several processes, each encodes every world-th part.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from sentireview.errors import SentiReviewError
from sentireview.files import write_json
from sentireview.training.batching import eval_batches
from sentireview.training.distributed import DistInfo, barrier
from sentireview.weights import load_tensors, save_tensors

log = logging.getLogger(__name__)

PART = 1024  # reviews per part file (rounded to whole batches)
KEY = "key.json"


class FeatureSplit:
    """Cached vectors of a split; ``collate`` gives ``features`` (B, H) and ``labels``.

    ``lengths`` are the reviews' token counts, so the loop's length buckets (and the order of
    the batches) are those of the token split the vectors came from."""

    def __init__(self, features: torch.Tensor, labels: Sequence[int], lengths: Sequence[int]):
        if len(features) != len(labels) or len(labels) != len(lengths):
            raise ValueError("features, labels and lengths differ in length")
        self.features, self.labels, self.lengths = features, list(labels), list(lengths)

    def __len__(self) -> int:
        return len(self.labels)

    def collate(self, indices: Sequence[int], device: torch.device) -> dict[str, torch.Tensor]:
        index = torch.as_tensor(list(indices), dtype=torch.int64)
        return {
            "features": self.features[index].to(device),
            "labels": torch.tensor([self.labels[i] for i in indices]).to(device),
        }


def _read_key(folder: Path) -> Any:
    try:
        return json.loads((folder / KEY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@torch.inference_mode()
def cached_features(
    model: Any,
    split: Any,
    folder: Path,
    key: dict[str, Any],
    info: DistInfo,
    batch_size: int = 64,
    progress: bool = True,
) -> torch.Tensor:
    """(N, H) float32 vectors of ``split`` (a token split: ``lengths`` and ``collate``) from
    ``model.features``, read from ``folder`` when its key matches, else computed into it."""
    folder = Path(folder)
    if info.is_main:
        if folder.exists() and _read_key(folder) != key:
            log.info("feature cache %s: key changed, encoding again", folder)
            shutil.rmtree(folder)
        folder.mkdir(parents=True, exist_ok=True)
        write_json(folder / KEY, key)
    barrier(info)

    batches = eval_batches(split.lengths, batch_size)
    per_part = max(1, PART // batch_size)
    parts = [batches[i : i + per_part] for i in range(0, len(batches), per_part)]
    mine = [k for k in range(len(parts)) if k % info.world == info.rank]
    todo = [k for k in mine if not _part_path(folder, k).is_file()]
    if todo:
        was_training = model.training
        model.eval()
        bar = tqdm(
            total=sum(len(b) for k in todo for b in parts[k]),
            desc=f"encoding {folder.name}",
            disable=not (progress and info.is_main),
            leave=False,
        )
        for k in todo:
            rows, vectors = [], []
            for batch_ids in parts[k]:
                batch = split.collate(batch_ids, info.device)
                vectors.append(
                    model.features(batch["input_ids"], batch["attention_mask"]).float().cpu()
                )
                rows.extend(batch_ids)
                bar.update(len(batch_ids))
            save_tensors(
                {"features": torch.cat(vectors), "index": torch.tensor(rows, dtype=torch.int64)},
                _part_path(folder, k),
            )
        bar.close()
        model.train(was_training)
    barrier(info)

    out: torch.Tensor | None = None
    seen = torch.zeros(len(split), dtype=torch.bool)
    for k in range(len(parts)):
        path = _part_path(folder, k)
        try:
            part = load_tensors(path)
            features, index = part["features"], part["index"]
            if out is None:
                out = torch.empty((len(split), features.shape[1]), dtype=torch.float32)
            out[index] = features
            seen[index] = True
        except Exception as exc:  # safetensors, indexing: a damaged or foreign file
            raise SentiReviewError(
                f"feature cache {path} is damaged ({type(exc).__name__}); delete {folder} "
                "to encode again"
            ) from None
    if out is None or not bool(seen.all()):
        raise SentiReviewError(f"feature cache {folder} is incomplete; delete it to encode again")
    return out


def _part_path(folder: Path, k: int) -> Path:
    return folder / f"part-{k:05d}.safetensors"
