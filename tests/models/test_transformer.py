
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
    with pytest.raises(SentiReviewError, match="cannot load encoder"):
        TransformerClassifier.from_pretrained(str(tmp_path / "missing"))
