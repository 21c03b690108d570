"""The tutorial notebooks: committed clean, and runnable top to bottom on tiny data."""

import json

import nbformat
import pandas as pd
import pytest
from tests.notebooks.notebook_runner import NOTEBOOKS, run_notebook

from sentireview.predict import Predictor

NAMES = ["01_preprocessing.ipynb", "02_lstm_starter.ipynb", "03_roberta_transfer_learning.ipynb"]
# Clear reviews in the invented data's words: a model trained on it has one right answer.
REVIEWS = ["A wonderful, moving film. Loved it, superb!", "Dull and boring. I hated it, awful."]


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebook_is_clean(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and code[0] is tagged[0], "one `parameters` cell, the first code cell"
    assert "REPO_URL" in tagged[0].source and "import sentireview" in code[1].source
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None, "outputs must be stripped"
        # The notebooks call the library; they do not define models, datasets or loops.
        for line in cell.source.splitlines():
            assert not line.startswith(("def ", "class ")), line


def test_readme_links_every_notebook():
    readme = (NOTEBOOKS / "README.md").read_text(encoding="utf-8")
    assert all(name in readme for name in NAMES)


@pytest.fixture(scope="module")
def prepared(acl_folder, tmp_path_factory):
    """Notebook 01 run on an invented aclImdb folder; returns its prepared dataset."""
    work = tmp_path_factory.mktemp("nb01")
    out = work / "prepared"
    run_notebook(
        NAMES[0],
        work,
        DATA_SOURCE=str(acl_folder),
        DATA_DIR=str(work / "data"),
        PREPARED_DIR=str(out),
        SAMPLE_SIZE=20,
        WORKERS=1,
    )
    return out


@pytest.mark.slow
def test_01_prepares_the_dataset(prepared):
    manifest = json.loads((prepared / "manifest.json").read_text())
    assert manifest["split"] == "official" and manifest["recipe"] == "tutorial"
    train = pd.read_parquet(prepared / "train.parquet")
    assert set(train["label"]) == {0, 1} and {"raw", "text", "clean"} <= set(train.columns)
    assert {p.name for p in prepared.glob("*.parquet")} >= {
        "train.parquet",
        "valid.parquet",
        "test.parquet",
    }


@pytest.mark.slow
def test_02_trains_exports_and_predicts(prepared, tmp_path):
    run = tmp_path / "runs" / "lstm"
    webapp = tmp_path / "ml_model"
    run_notebook(
        NAMES[1],
        tmp_path,
        PREPARED_DIR=str(prepared),
        RUN_DIR=str(run),
        TRAIN_SAMPLE=None,
        VALID_SAMPLE=None,
        TEST_SAMPLE=None,
        EPOCHS=1,
        BATCH_SIZE=16,
        DEVICE="cpu",
        WEBAPP_MODEL_DIR=str(webapp),
    )
    for name in ("model.safetensors", "model.pth", "model.onnx", "vocab.json", "metrics.json"):
        assert (run / name).is_file(), name
    assert (run / "loss_curves.png").is_file() and (run / "confusion_matrix.png").is_file()
    for folder, backend in ((run, "onnx"), (webapp, "onnx"), (run, "torch")):
        predictor = Predictor.load(folder, backend=backend)
        out = predictor.predict(REVIEWS)
        assert [set(p) for p in out] == [{"sentiment", "score", "label"}] * 2
        assert [p["sentiment"] for p in out] == ["positive", "negative"], (folder, backend)


@pytest.mark.slow
def test_03_two_stages_from_a_csv(kaggle_csv, tiny_encoder, tmp_path):
    # PREPARED_DIR does not exist yet: the notebook prepares the CSV itself.
    prepared, run = tmp_path / "prepared", tmp_path / "runs" / "roberta"
    nb = run_notebook(
        NAMES[2],
        tmp_path,
        PREPARED_DIR=str(prepared),
        DATA_SOURCE=str(kaggle_csv),
        ENCODER=str(tiny_encoder),
        RUN_DIR=str(run),
        TRAIN_SAMPLE=None,
        VALID_SAMPLE=None,
        TEST_SAMPLE=None,
        PRETRAIN_EPOCHS=20,  # cheap: stage 1 trains on cached features
        FINETUNE_EPOCHS=3,
        # A tiny random encoder: the mean of its token vectors carries the words (its random
        # pooler and first token carry little), and it learns from scratch at a high rate.
        POOLING="mean",
        LR=1e-3,
        HEAD_LR=1e-2,
        MAX_LENGTH=32,
        BATCH_SIZE=16,
        DEVICE="cpu",
    )
    assert json.loads((prepared / "manifest.json").read_text())["split"] == "tutorial"
    history = pd.read_csv(run / "history.csv")
    # the default recipe, "recommended": two validations per epoch, dropout 0.1, plain text
    assert list(history["stage"]) == ["pretrain"] * 40 + ["finetune"] * 6
    config = json.loads((run / "config.json").read_text())
    assert config["kind"] == "transformer" and config["model"]["dropout"] == 0.1
    assert config["text"]["column"] == "text" and config["text"]["truncation"] == "head+tail"
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics["stages"]) == {"pretrain", "finetune"}
    assert (run / "confusion_stages.png").is_file()
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "encoder tensors changed in stage 2" in text
    out = Predictor.load(run).predict(REVIEWS)
    assert [p["sentiment"] for p in out] == ["positive", "negative"]
