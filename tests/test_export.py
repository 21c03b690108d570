"""ONNX export: the file, the CLI, and parity between the PyTorch and ONNX Runtime back ends."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from sentireview import artifact
from sentireview.backends.onnx import OnnxBackend
from sentireview.backends.torch import TorchBackend
from sentireview.errors import SentiReviewError
from sentireview.export import _export_here, export_onnx
from sentireview.kinds import get_kind
from sentireview.models.lstm import LSTMClassifier, LSTMConfig
from sentireview.predict import Predictor
from sentireview.text import clean
from sentireview.vocab import Vocab, pad_ids
from sentireview.weights import save_weights
from tests.helpers.fake_reviews import build_tiny_transformer

REVIEWS = [
    "A wonderful film with a great cast, I loved it.",
    "Terrible. Boring plot, awful acting, a waste of time.",
    "ok",
    "",
    "The first half drags but the ending is great; the music is good and the actors are "
    "good too, though the story is a bit thin and some scenes are bad. " * 6,
    "😍 <b>bold</b> \x00 Фильм",
]


def build_tiny_lstm(folder: Path, max_tokens: int = 200, embed_dim: int = 16) -> Path:
    """A small random-weight LSTM artifact (what `sentireview train lstm` writes, minus metrics)."""
    torch.manual_seed(0)
    vocab = Vocab.build([clean(t) for t in REVIEWS * 3], min_freq=1)
    cfg = LSTMConfig(vocab_size=len(vocab), embed_dim=embed_dim, hidden=8)
    model = LSTMClassifier(cfg)
    text = {"recipe": "tutorial", "column": "clean", "max_tokens": max_tokens}
    artifact.write_config(folder, artifact.make_config("lstm", cfg, text, name="tiny-lstm"))
    save_weights(folder, model)
    vocab.save(folder / "vocab.json")
    return folder


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    """One exported tiny artifact for the module (the export takes ~5-7 s on 2 cores)."""
    folder = build_tiny_lstm(tmp_path_factory.mktemp("export") / "run")
    export_onnx(folder)
    return folder


@pytest.mark.slow
def test_export_writes_model_onnx(exported):
    assert (exported / "model.onnx").is_file()
    assert not list(exported.glob("*.partial")) and not list(exported.glob("*.tmp"))
    config = artifact.read_config(exported)
    backend = OnnxBackend(exported, config)
    names = [i.name for i in backend.session.get_inputs()]
    assert names == list(get_kind("lstm").inputs) == ["ids", "lengths"]


@pytest.mark.slow
def test_parity_torch_vs_onnx(exported):
    config = artifact.read_config(exported)
    torch_backend = TorchBackend(exported, config, device="cpu")
    onnx_backend = OnnxBackend(exported, config)
    rng = np.random.default_rng(0)
    vocab_size = config["model"]["vocab_size"]
    # Many lengths in one batch (1 .. 300 tokens), and batches of one.
    batch = [list(rng.integers(1, vocab_size, size=n)) for n in (1, 2, 5, 17, 64, 300, 3)]
    feed = _feed(batch)
    want, got = torch_backend.predict_proba(feed), onnx_backend.predict_proba(feed)
    assert np.max(np.abs(want - got)) <= 1e-5
    for row in batch:
        one_torch = torch_backend.predict_proba(_feed([row]))
        one_onnx = onnx_backend.predict_proba(_feed([row]))
        assert abs(one_torch[0] - one_onnx[0]) <= 1e-5


@pytest.mark.slow
def test_parity_through_predictor(exported):
    p_torch = Predictor.load(exported, backend="torch")
    p_onnx = Predictor.load(exported, backend="auto")
    assert p_onnx.backend_name == "onnx"
    a, b = p_torch.predict(REVIEWS), p_onnx.predict(REVIEWS)
    for x, y in zip(a, b, strict=True):
        assert abs(x["score"] - y["score"]) <= 1e-5
        assert x["label"] == y["label"]


@pytest.mark.slow
def test_onnx_backend_takes_thread_count(exported, monkeypatch):
    config = artifact.read_config(exported)
    monkeypatch.setenv("SENTIREVIEW_THREADS", "2")
    def threads(backend: OnnxBackend) -> int:
        return backend.session.get_session_options().intra_op_num_threads

    assert threads(OnnxBackend(exported, config)) == 2
    assert threads(OnnxBackend(exported, config, threads=1)) == 1


@pytest.mark.slow
def test_failed_export_keeps_previous_file(exported, tmp_path, monkeypatch):
    folder = build_tiny_lstm(tmp_path / "run")
    (folder / "model.onnx").write_bytes(b"previous")

    def broken(*args, **kwargs):
        raise RuntimeError("exporter exploded")

    monkeypatch.setattr(torch.onnx, "export", broken)
    with pytest.raises(SentiReviewError, match="exporter exploded"):
        _export_here(folder, None, True)  # in this process, where the monkeypatch holds
    assert (folder / "model.onnx").read_bytes() == b"previous"
    assert not list(folder.glob("*.partial")) and not list(folder.glob("*.tmp"))


@pytest.mark.slow
def test_corrupt_onnx_is_a_one_line_error(exported, tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    for name in ("config.json", "vocab.json"):
        (folder / name).write_bytes((exported / name).read_bytes())
    (folder / "model.onnx").write_bytes(b"\x08\x07garbage" * 10)
    with pytest.raises(SentiReviewError, match="cannot load") as info:
        Predictor.load(folder)
    assert "\n" not in str(info.value)


@pytest.mark.slow
def test_missing_onnx_file(exported, tmp_path):
    config = artifact.read_config(exported)
    with pytest.raises(SentiReviewError, match="sentireview export"):
        OnnxBackend(tmp_path, config)


def _feed(rows):
    ids, lengths = pad_ids(rows)
    return {"ids": ids, "lengths": lengths}


def test_pad_ids_shapes():
    ids, lengths = pad_ids([[5, 6, 7], [], [8]])
    assert ids.tolist() == [[5, 6, 7], [1, 0, 0], [8, 0, 0]] and lengths.tolist() == [3, 1, 1]


@pytest.mark.slow
def test_cli_export(tmp_path):
    folder = build_tiny_lstm(tmp_path / "run")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "sentireview", "export", str(folder), "--format", "onnx"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert (folder / "model.onnx").is_file()
    bad = subprocess.run(
        [sys.executable, "-m", "sentireview", "export", str(tmp_path / "nope")],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "not found" in bad.stderr


# A meta-path finder that refuses torch and transformers, as if they were not installed.
# (Not sys.modules["torch"] = None: scipy, present in the dev environment only, trips on it.)
BLOCK_TORCH = """\
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("torch", "transformers"):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked)", name=name)
sys.meta_path.insert(0, Block())
"""


@pytest.mark.slow
def test_package_and_predictor_import_without_torch(exported):
    code = BLOCK_TORCH + (
        "import sentireview, sentireview.predict, sentireview.backends.onnx, sentireview.cli\n"
        "from sentireview.predict import Predictor\n"
        f"p = Predictor.load({str(exported)!r})\n"
        "print(p.backend_name, p.predict(['a great film'])[0]['sentiment'])\n"
        "assert 'torch' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] == "onnx"


@pytest.mark.slow
def test_web_app_imports_and_serves_without_torch(exported):
    code = BLOCK_TORCH + (
        "from senti_api import create_app\n"
        f"app = create_app({{'MODEL_DIR': {str(exported)!r}}})\n"
        "r = app.test_client().post('/predict', json={'review': 'a great film'})\n"
        "assert r.status_code == 200, r.data\n"
        "r = app.test_client().post('/api/explain', json={'review': 'a great film'})\n"
        "assert r.status_code == 200 and r.get_json()['spans'], r.data\n"
        "print(app.test_client().get('/api/model').get_json()['backend'])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "onnx"


@pytest.mark.slow
def test_large_weights_are_read_from_the_safetensors_file(tmp_path):
    import onnx

    folder = build_tiny_lstm(tmp_path / "run", embed_dim=400)  # embedding > 64 KiB
    export_onnx(folder)
    model = onnx.load(str(folder / "model.onnx"), load_external_data=False)
    linked = [i for i in model.graph.initializer if i.data_location == onnx.TensorProto.EXTERNAL]
    assert len(linked) == 1  # the embedding; the small LSTM weights stay in the graph
    info = {e.key: e.value for e in linked[0].external_data}
    assert info["location"] == "model.safetensors"
    stored = (folder / "model.safetensors").read_bytes()
    offset, length = int(info["offset"]), int(info["length"])
    from safetensors.torch import load_file

    want = load_file(str(folder / "model.safetensors"))["embedding.weight"].numpy().tobytes()
    assert stored[offset : offset + length] == want
    assert want not in (folder / "model.onnx").read_bytes()  # not stored twice
    a = Predictor.load(folder, backend="torch").predict_proba(REVIEWS)
    b = Predictor.load(folder, backend="onnx").predict_proba(REVIEWS)
    assert max(abs(x - y) for x, y in zip(a, b, strict=True)) <= 1e-5


@pytest.mark.slow
def test_onnx_refuses_weights_replaced_after_the_export(tmp_path):
    from safetensors.torch import load_file, save_file

    folder = build_tiny_lstm(tmp_path / "run", embed_dim=400)
    export_onnx(folder)
    state = load_file(str(folder / "model.safetensors"))
    state["embedding.weight"] = state["embedding.weight"] * 2  # same size, other values
    save_file(state, str(folder / "model.safetensors"))
    with pytest.raises(SentiReviewError, match="exported from another model.safetensors"):
        Predictor.load(folder, backend="onnx")
    assert Predictor.load(folder, backend="torch").predict_proba(["fine"])  # torch still works
    save_file({"x": torch.zeros(1)}, str(folder / "model.safetensors"))  # far too small
    with pytest.raises(SentiReviewError, match="reads its large weights from model.safetensors"):
        Predictor.load(folder, backend="onnx")


@pytest.mark.slow
def test_a_graph_saved_with_its_weights_inside_still_loads(tmp_path):
    import onnx

    folder = build_tiny_lstm(tmp_path / "run", embed_dim=400)
    export_onnx(folder)
    want = Predictor.load(folder, backend="onnx").predict_proba(REVIEWS)
    model = onnx.load(str(folder / "model.onnx"))  # reads the external weights in
    onnx.save(model, str(folder / "inside.onnx"))
    (folder / "inside.onnx").replace(folder / "model.onnx")
    (folder / "model.safetensors").unlink()  # the metadata still names it
    got = Predictor.load(folder, backend="onnx").predict_proba(REVIEWS)
    assert got == want


def test_safetensors_index_points_at_each_tensor(tmp_path):
    from safetensors.torch import save_file

    from sentireview.export import safetensors_index

    tensors = {"a": torch.arange(6, dtype=torch.float32).view(2, 3), "b": torch.ones(4).half()}
    save_file(tensors, str(tmp_path / "w.safetensors"))
    data = (tmp_path / "w.safetensors").read_bytes()
    index = safetensors_index(tmp_path / "w.safetensors")
    assert len(index) == 2
    for (dtype, shape, _), (offset, length) in index.items():
        name = "a" if dtype == "float32" else "b"
        assert shape == tuple(tensors[name].shape)
        assert data[offset : offset + length] == tensors[name].numpy().tobytes()


@pytest.mark.slow
def test_int8_transformer_serves_without_torch_or_transformers(tmp_path):
    run = build_tiny_transformer(tmp_path / "run")
    export_onnx(run, quantize="int8")
    onnx_model = onnx.load(str(run / "model.onnx"))
    assert {"DynamicQuantizeLinear", "MatMulInteger"} & {n.op_type for n in onnx_model.graph.node}
    assert not any(i.data_location == onnx.TensorProto.EXTERNAL
                   for i in onnx_model.graph.initializer)  # needs no model.safetensors
    served = tmp_path / "served"
    served.mkdir()
    for name in ("config.json", "model.onnx"):
        (served / name).write_bytes((run / name).read_bytes())
    shutil.copytree(run / "tokenizer", served / "tokenizer")
    reviews = ["good great film", "awful boring plot " * 10 + "the end"]
    want = Predictor.load(run, backend="torch").predict_proba(reviews)
    code = BLOCK_TORCH + (
        "import json\n"
        "from sentireview.predict import Predictor\n"
        f"p = Predictor.load({str(served)!r})\n"
        f"print(json.dumps(p.predict_proba({reviews!r})))\n"
        "assert not [m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers')]\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got == pytest.approx(want, abs=0.2)  # int8: close, not equal


def test_int8_check_refuses_a_quantization_that_changes_the_answers(tmp_path, monkeypatch):
    """The int8 check runs the written reviews through the artifact's tokenizer; a graph that
    answers P(positive) = 0.99 whatever it reads stands in for a broken quantization."""
    from onnx import TensorProto, helper

    from sentireview import export

    run = build_tiny_transformer(tmp_path / "run")
    fed = []

    def broken(source: Path, target: Path) -> None:
        ids = helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["b", "s"])
        mask = helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["b", "s"])
        out = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["b", 2])
        nodes = [
            helper.make_node("Cast", ["input_ids"], ["f"], to=TensorProto.FLOAT),
            helper.make_node("ReduceSum", ["f", "axes"], ["col"], keepdims=1),
            helper.make_node("Mul", ["col", "zero"], ["z"]),
            helper.make_node("Add", ["z", "answer"], ["logits"]),
        ]
        inits = [
            helper.make_tensor("axes", TensorProto.INT64, [1], [1]),
            helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0]),
            helper.make_tensor("answer", TensorProto.FLOAT, [1, 2], [0.0, 5.0]),
        ]
        graph = helper.make_graph(nodes, "broken", [ids, mask], [out], inits)
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), target)

    real_difference = export._difference

    def spy(kind, model, session, inputs, names):
        fed.append(inputs["input_ids"].shape)
        return real_difference(kind, model, session, inputs, names)

    monkeypatch.setattr(export, "quantize_int8", broken)
    monkeypatch.setattr(export, "_difference", spy)
    with pytest.raises(SentiReviewError, match="int8 export .* disagrees"):
        _export_here(run, None, True, "int8")
    assert not (run / "model.onnx").exists()
    # the last batch checked: one row per written review, cut to the artifact's 12 tokens
    assert fed[-1] == (len(export.INT8_CHECK_REVIEWS), 12)


def test_quantize_is_refused_for_other_kinds(tmp_path, capsys):
    from sentireview.cli import main

    run = build_tiny_lstm(tmp_path / "lstm")
    assert main(["export", str(run), "--quantize", "int8"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "transformer" in err and "lstm" in err
    assert not (run / "model.onnx").exists()
