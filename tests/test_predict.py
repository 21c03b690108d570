import subprocess
import sys

import pytest
import torch

from sentireview import artifact
from sentireview.backends.torch import load_model
from sentireview.errors import SentiReviewError
from sentireview.models.lstm import LSTMClassifier, LSTMConfig
from sentireview.predict import Predictor, choose_backend
from sentireview.text import clean
from sentireview.vocab import Vocab
from sentireview.weights import save_weights


@pytest.fixture
def run_dir(tmp_path):
    torch.set_num_threads(1)
    torch.manual_seed(0)
    texts = ["A good, great film!", "Bad and awful.", "good bad poor great"]
    vocab = Vocab.build([clean(t) for t in texts], min_freq=1)
    cfg = LSTMConfig(vocab_size=len(vocab), embed_dim=8, hidden=4)
    model = LSTMClassifier(cfg)
    text = {"recipe": "tutorial", "column": "clean", "max_tokens": 3}
    artifact.write_config(tmp_path, artifact.make_config("lstm", cfg, text))
    save_weights(tmp_path, model)
    vocab.save(tmp_path / "vocab.json")
    return tmp_path


def test_predict_matches_the_model(run_dir):
    p = Predictor.load(run_dir)
    assert p.backend_name == "torch"
    texts = ["A good film, great!", "", "bad awful poor and more words here"]
    out = p.predict(texts)
    assert [set(r) for r in out] == [{"sentiment", "score", "label"}] * 3
    model = load_model(run_dir)
    stoi = Vocab.load(run_dir / "vocab.json").stoi
    # by hand: the tutorial's cleaning ("a good film , great !", "", "bad awful poor words"),
    # cut to max_tokens (3); an empty review is one <unk> (id 1); "and", "more", "here" are
    # stopwords
    tokens = [["a", "good", "film"], ["<unk>"], ["bad", "awful", "poor"]]
    for words, r in zip(tokens, out, strict=True):
        ids = [stoi[w] for w in words]
        want = torch.sigmoid(model(torch.tensor([ids]), torch.tensor([len(ids)]))).item()
        assert r["score"] == pytest.approx(want, abs=1e-6)
        assert r["label"] == int(r["score"] > 0.5)
        assert r["sentiment"] == ["negative", "positive"][r["label"]]


def test_batch_order_and_size_independent(run_dir):
    p = Predictor.load(run_dir)
    texts = [f"good {'bad ' * (i % 5)} great" for i in range(150)]
    together = p.predict_proba(texts)
    alone = [p.predict_proba([t])[0] for t in texts[:5]]
    assert together[:5] == pytest.approx(alone, abs=1e-6)


def test_bad_input(run_dir):
    p = Predictor.load(run_dir)
    with pytest.raises(SentiReviewError):
        p.predict("one string")
    with pytest.raises(SentiReviewError):
        p.predict([None])
    assert p.predict([]) == []
    with pytest.raises(SentiReviewError):
        Predictor.load(run_dir, backend="tensorflow")


def test_auto_backend_choice(run_dir):
    assert choose_backend(run_dir) == "torch"
    (run_dir / "model.onnx").write_bytes(b"")
    assert choose_backend(run_dir) == "onnx"
    assert choose_backend(run_dir, "torch") == "torch"


def test_import_does_not_import_torch():
    code = "import sys, sentireview.predict; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_dropped_in_pth_is_what_gets_served(run_dir):
    """The tutorial's way: save a state_dict as model.pth into the model folder."""
    (run_dir / "model.onnx").write_bytes(b"an older export")  # must not shadow the new weights
    texts = ["A good film, great!", "bad awful poor"]
    before = [r["score"] for r in Predictor.load(run_dir, backend="torch").predict(texts)]
    torch.manual_seed(1)
    other = LSTMClassifier(load_model(run_dir).config).eval()
    torch.save(other.state_dict(), run_dir / "model.pth")
    assert choose_backend(run_dir) == "torch"
    p = Predictor.load(run_dir)
    assert p.backend_name == "torch"
    after = [r["score"] for r in p.predict(texts)]
    assert after != before
    stoi = Vocab.load(run_dir / "vocab.json").stoi
    ids = [stoi["a"], stoi["good"], stoi["film"]]  # "A good film, great!" cleaned, cut to 3
    with torch.inference_mode():
        want = float(torch.sigmoid(other(torch.tensor([ids]), torch.tensor([len(ids)]))))
    assert after[0] == pytest.approx(want, abs=1e-6)
