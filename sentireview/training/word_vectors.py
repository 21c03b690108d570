"""Word vectors learned from unlabelled reviews (word2vec), to start the LSTM's embedding.

Transfer learning at its lightest: the 50,000 unlabelled IMDb reviews (and the training
reviews' text, without labels) teach which words are used alike; the classifier then starts
from those vectors instead of random ones. Uses gensim's word2vec; the file is written in the
word2vec binary format, atomically. Deterministic for a given seed with ``workers=1``
(gensim also needs ``PYTHONHASHSEED`` fixed for that; the training script sets it).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from sentireview.data.splits import read_unlabelled
from sentireview.errors import SentiReviewError
from sentireview.files import atomic_path
from sentireview.vocab import Vocab

log = logging.getLogger(__name__)


@dataclass
class WordVectorConfig:
    """Settings of ``sentireview train vectors``."""

    data: Path
    out: Path
    splits: Sequence[str] = ("train", "unsup")
    dim: int = 100
    window: int = 5
    min_count: int = 3
    epochs: int = 5
    skipgram: bool = True
    workers: int = 1
    seed: int = 17


def train_word_vectors(cfg: WordVectorConfig) -> Path:
    """Train word2vec on the ``clean`` column of the given splits and write ``cfg.out``."""
    try:
        from gensim.models import Word2Vec
    except ImportError:
        raise SentiReviewError(
            "word vectors need gensim: pip install 'sentireview[train]'"
        ) from None
    sentences: list[list[str]] = []
    for split in cfg.splits:
        texts = read_unlabelled(cfg.data, split, "clean")  # labels are not used
        sentences.extend(t.split() for t in texts)
    if not sentences:
        raise SentiReviewError(f"no reviews in {cfg.data} ({', '.join(cfg.splits)})")
    log.info("word2vec on %d reviews (%s)", len(sentences), ", ".join(cfg.splits))
    logging.getLogger("gensim").setLevel(logging.WARNING)  # it logs every 2% of each epoch
    model = Word2Vec(
        sentences=sentences,
        vector_size=cfg.dim,
        window=cfg.window,
        min_count=cfg.min_count,
        sg=int(cfg.skipgram),
        epochs=cfg.epochs,
        workers=cfg.workers,
        seed=cfg.seed,
    )
    out = Path(cfg.out)
    with atomic_path(out) as tmp:
        model.wv.save_word2vec_format(str(tmp), binary=True)
    log.info("wrote %d word vectors of %d dimensions to %s", len(model.wv), cfg.dim, out)
    return out


def read_word_vectors(path: Path) -> tuple[list[str], torch.Tensor]:
    """Words and their vectors (n, dim) from a word2vec binary file."""
    try:
        from gensim.models import KeyedVectors
    except ImportError:
        raise SentiReviewError(
            "word vectors need gensim: pip install 'sentireview[train]'"
        ) from None
    try:
        kv = KeyedVectors.load_word2vec_format(str(path), binary=True)
    except (OSError, ValueError, EOFError) as exc:
        raise SentiReviewError(f"cannot read word vectors {path}: {exc}") from None
    return list(kv.index_to_key), torch.from_numpy(kv.vectors.copy())


@torch.no_grad()
def init_embedding(embedding: nn.Embedding, vocab: Vocab, path: Path) -> int:
    """Copy the vectors of the vocabulary's words found in ``path`` into ``embedding``'s
    rows (the others keep their random start); returns how many were found."""
    words, vectors = read_word_vectors(path)
    if vectors.shape[1] != embedding.embedding_dim:
        raise SentiReviewError(
            f"{path} has {vectors.shape[1]}-dimensional vectors; the embedding has "
            f"{embedding.embedding_dim} (set the embedding size to match)"
        )
    index = {w: i for i, w in enumerate(words)}
    rows = [(vocab.stoi[w], index[w]) for w in vocab.itos if w in index]
    if rows:
        target, source = (torch.tensor(r) for r in zip(*rows, strict=True))
        embedding.weight[target] = vectors[source].to(embedding.weight.dtype)
    return len(rows)
