import pytest
import torch
from torch import nn

from sentireview.errors import SentiReviewError
from sentireview.training.word_vectors import (
    WordVectorConfig,
    init_embedding,
    read_word_vectors,
    train_word_vectors,
)
from sentireview.vocab import Vocab

pytest.importorskip("gensim")


def test_vectors_are_trained_written_and_reproducible(dataset, tmp_path):
    first = train_word_vectors(
        WordVectorConfig(
            data=dataset, out=tmp_path / "a.bin", splits=("train",), dim=8, min_count=1
        )
    )
    words, vectors = read_word_vectors(first)
    assert "good" in words and vectors.shape == (len(words), 8)
    assert not list(tmp_path.glob("*.tmp"))
    again = train_word_vectors(
        WordVectorConfig(
            data=dataset, out=tmp_path / "b.bin", splits=("train",), dim=8, min_count=1
        )
    )
    words2, vectors2 = read_word_vectors(again)
    assert words2 == words and torch.equal(vectors2, vectors)  # one worker, fixed seed


def test_unlabelled_reviews_are_read(dataset, tmp_path):
    from tests.helpers.fake_reviews import make_reviews

    unsup = make_reviews(12, seed=5).assign(label=-1)
    unsup["clean"] = "zzzunsupword good film"
    unsup.to_parquet(dataset / "unsup.parquet", index=False)
    path = train_word_vectors(
        WordVectorConfig(data=dataset, out=tmp_path / "v.bin", splits=("train", "unsup"), dim=8)
    )
    assert "zzzunsupword" in read_word_vectors(path)[0]


def test_embedding_rows_come_from_the_vectors(dataset, tmp_path):
    path = train_word_vectors(
        WordVectorConfig(
            data=dataset, out=tmp_path / "v.bin", splits=("train",), dim=8, min_count=1
        )
    )
    words, vectors = read_word_vectors(path)
    vocab = Vocab(["<pad>", "<unk>", "good", "zzzunknown"])
    embedding = nn.Embedding(len(vocab), 8, padding_idx=0)
    before = embedding.weight.detach().clone()
    assert init_embedding(embedding, vocab, path) == 1
    assert torch.equal(embedding.weight[2], vectors[words.index("good")])
    assert torch.equal(embedding.weight[3], before[3])  # not in the vectors: left as it was
    with pytest.raises(SentiReviewError, match="8-dimensional"):
        init_embedding(nn.Embedding(4, 5), vocab, path)


def test_unreadable_vectors_and_empty_data_are_one_line_errors(dataset, tmp_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"not vectors")
    with pytest.raises(SentiReviewError, match="cannot read word vectors"):
        read_word_vectors(bad)
    with pytest.raises(SentiReviewError):
        train_word_vectors(WordVectorConfig(data=tmp_path / "missing", out=tmp_path / "x.bin"))
