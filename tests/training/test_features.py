"""Stage 1 on cached encoder features: same updates as running the encoder, a cache that is
rebuilt when its key changes, reused when not, resumed when cut short, and refused when
damaged."""

import copy

import pytest
import torch

from sentireview.errors import SentiReviewError
from sentireview.models.transformer import TransformerClassifier
from sentireview.subwords import SubwordEncoder, load_tokenizer
from sentireview.training import features as features_module
from sentireview.training.distributed import DistInfo
from sentireview.training.features import FeatureSplit, cached_features
from sentireview.training.loop import History, StageConfig, train_stage
from sentireview.training.transformer import TokenSplit, transformer_loss
from tests.helpers.fake_reviews import make_reviews, make_tiny_encoder

INFO = DistInfo()


@pytest.fixture(scope="module")
def encoder_dir(tmp_path_factory):
    return make_tiny_encoder(tmp_path_factory.mktemp("enc"))


def token_split(encoder_dir, n, seed):
    frame = make_reviews(n, seed)
    encode = SubwordEncoder(load_tokenizer(encoder_dir), 16, "head+tail")
    return TokenSplit(encode(frame["clean"].tolist()), frame["label"].tolist(), pad_id=1)


def frozen_model(encoder_dir, pooling="mean"):
    torch.manual_seed(3)
    m = TransformerClassifier.from_pretrained(str(encoder_dir), dropout=0.4, pooling=pooling)
    m.set_encoder_trainable(False)
    return m


@pytest.mark.parametrize("pooling", ["mean", "pooler"])
def test_cached_stage_1_makes_the_same_head_updates(encoder_dir, tmp_path, pooling):
    train, valid = token_split(encoder_dir, 48, 0), token_split(encoder_dir, 16, 1)
    plain = frozen_model(encoder_dir, pooling)
    cached = copy.deepcopy(plain)
    stage = StageConfig(name="pretrain", epochs=2, batch_size=8, evals_per_epoch=1, progress=False)

    def run(model, tr, va):
        opt = torch.optim.AdamW(model.head_parameters(), lr=1e-2)
        return train_stage(model, tr, va, transformer_loss, opt, stage, INFO, None, History(None))

    a = run(plain, train, valid)
    key = {"encoder": "tiny"}
    vectors = {
        name: FeatureSplit(
            cached_features(cached, split, tmp_path / name, key, INFO, 8, False),
            split.labels,
            split.lengths,
        )
        for name, split in (("train", train), ("valid", valid))
    }
    b = run(cached, vectors["train"], vectors["valid"])
    assert b.best_val_loss == pytest.approx(a.best_val_loss, abs=1e-5)
    for (name, p), q in zip(plain.named_parameters(), cached.parameters(), strict=True):
        torch.testing.assert_close(p, q, atol=1e-5, rtol=1e-4, msg=name)
    # the head did move
    start = frozen_model(encoder_dir, pooling)
    assert not torch.allclose(start.l1.weight, cached.l1.weight)


def counting_features(monkeypatch):
    """Count the reviews the encoder sees."""
    seen = []
    original = TransformerClassifier.features

    def features(self, ids, mask):
        seen.append(len(ids))
        return original(self, ids, mask)

    monkeypatch.setattr(TransformerClassifier, "features", features)
    return seen


def test_cache_is_reused_rebuilt_and_resumed(encoder_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(features_module, "PART", 8)  # parts of one batch of 8
    split = token_split(encoder_dir, 40, 0)
    model = frozen_model(encoder_dir)
    folder = tmp_path / "train"
    seen = counting_features(monkeypatch)

    first = cached_features(model, split, folder, {"max_length": 16}, INFO, 8, False)
    assert sum(seen) == 40 and first.shape == (40, 32)
    assert len(list(folder.glob("part-*.safetensors"))) == 5
    with torch.no_grad():  # row i is review i's vector
        batch = split.collate([7], torch.device("cpu"))
        torch.testing.assert_close(
            first[7:8], model.features(batch["input_ids"], batch["attention_mask"])
        )

    seen.clear()  # same key: nothing is encoded
    again = cached_features(model, split, folder, {"max_length": 16}, INFO, 8, False)
    assert seen == [] and torch.equal(first, again)

    (folder / "part-00002.safetensors").unlink()  # an interrupted pass: one part missing
    resumed = cached_features(model, split, folder, {"max_length": 16}, INFO, 8, False)
    assert sum(seen) == 8 and torch.equal(first, resumed)

    seen.clear()  # another key: everything again
    cached_features(model, split, folder, {"max_length": 32}, INFO, 8, False)
    assert sum(seen) == 40


def test_damaged_cache_is_a_one_line_error(encoder_dir, tmp_path):
    split = token_split(encoder_dir, 16, 0)
    model = frozen_model(encoder_dir)
    cached_features(model, split, tmp_path, {"k": 1}, INFO, 8, False)
    part = next(tmp_path.glob("part-*.safetensors"))
    part.write_bytes(b"\x00" * 40)
    with pytest.raises(SentiReviewError, match="damaged.*delete") as err:
        cached_features(model, split, tmp_path, {"k": 1}, INFO, 8, False)
    assert "\n" not in str(err.value)
