"""The light model's card (``ml_model/README.md``), filled from its config and measurements."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sentireview.recipes.shipped import ShippedConfig


#: Reviews of a kind the card's summary needs before it calls the model good or weak at it
#: (the hand-written kinds have about 25 each: in the table, not in the summary).
MIN_KIND_REVIEWS = 50


def strong_and_weak(by_kind: dict[str, dict[str, Any]], most: int = 2) -> tuple[str, str]:
    """The kinds of short review (with :data:`MIN_KIND_REVIEWS` or more) the model reads best
    and worst, as text ("plain (89%), ..."); distinct, and empty when there are none."""
    sure = sorted(
        ((k, v) for k, v in by_kind.items() if v["n"] >= MIN_KIND_REVIEWS),
        key=lambda kv: -kv[1]["accuracy"],
    )
    top = sure[: min(most, len(sure) // 2)]
    bottom = sure[len(sure) - len(top):][::-1] if top else []

    def text(kinds: list[tuple[str, dict[str, Any]]]) -> str:
        return ", ".join(f"{k} ({100 * v['accuracy']:.0f}%)" for k, v in kinds)

    return text(top), text(bottom)


def _minutes(seconds: float | None) -> str:
    return "-" if not seconds else f"{seconds / 60:.1f} min"


def _short_rows(short: dict[str, dict[str, Any]]) -> str:
    return "\n".join(
        f"| {name} | {v['n']:,} | {100 * v['accuracy']:.2f}% |" for name, v in short.items()
    )


def model_card(
    config: dict[str, Any],
    metrics: dict[str, Any],
    final: dict[str, Any],
    summaries: dict[str, dict[str, Any]],
    times: dict[str, float],
    cfg: ShippedConfig,
    by_kind: dict[str, dict[str, Any]],
) -> str:
    """``final``: the choice (``work/final.json``); ``summaries``: round 0's and the
    student's training summaries; ``metrics``: the test evaluation, with ``short_sets`` when
    the recipe found the project's short test sets; ``by_kind``: the installed run on the
    written dev part per kind of review (:func:`~sentireview.recipes.common.written_by_kind`)."""
    m, training = config["model"], config["training"]
    inputs, optim = training["inputs"], training["optim"]
    report = metrics["report"]
    valid = "\n".join(
        f"| {name} | {_minutes(summaries.get(name, {}).get('wall_s'))} | "
        f"{summaries.get(name, {}).get('mix')} | {v['accuracy']:.4f} | {v['loss']:.4f} | "
        f"{v['written_dev']:.4f} |"
        for name, v in final["valid"].items()
    )
    short = metrics.get("short_sets") or {}
    short_section = (
        "| set | reviews | accuracy |\n|---|---:|---:|\n" + _short_rows(short) + "\n\n"
        "Both sets were written for this project and are kept apart from training and from\n"
        "every choice (`bench/README.md`)."
        if short
        else "Not measured in this run (the project's short test sets were not found): see\n"
        "docs/accuracy.md."
    )
    kinds = sorted(by_kind.items(), key=lambda kv: -kv[1]["accuracy"])
    kind_rows = "\n".join(f"| {k} | {v['n']:,} | {100 * v['accuracy']:.1f}% |" for k, v in kinds)
    kind_section = (
        "By kind of short review: the written dev part (the choice read it; dev data, not a\n"
        "test set):\n\n| kind | reviews | accuracy |\n|---|---:|---:|\n" + kind_rows
        if kinds else "The written dev part has no kinds of review to break it down by."
    )
    strong, weak = strong_and_weak(by_kind)
    good = (f" and, of the kinds of short review with {MIN_KIND_REVIEWS}+ examples in the "
            f"written dev part, {strong}" if strong else "")
    weaker = f"{weak} (the written dev part); " if weak else ""
    return f"""# {config["name"]} (version {config["version"]})

**What it is.** A light recurrent model for English movie-review sentiment: the tutorial's
bidirectional LSTM, made smaller, with a "wide" linear part over hashed word 1-3-grams beside
it (a wide-and-deep model), taught by a fine-tuned transformer. Output: P(positive) =
sigmoid(a * LSTM logit + b * wide logit + c), with a, b, c fitted on the validation split.
What each step of the recipe buys is measured in
[docs/accuracy.md](../../../docs/accuracy.md).

## Data
- IMDb (Maas et al., ACL 2011), official split: the 25,000 training reviews split 22,500 /
  2,500 (train / validation, seed {cfg.seed}), the 25,000 test reviews never used in training
  or in any choice, and the 50,000 unlabelled reviews (word vectors and distillation).
- The teacher (`{cfg.teacher}`: a transformer fine-tuned on the same training reviews and on
  written short reviews) scored the 50,000 unlabelled reviews (the mean of its P(positive)
  and round 0's) and sentence-level pieces of {cfg.piece_reviews:,} training and unlabelled
  reviews (its P(positive) alone).
- Short reviews written for this project (`sentireview/resources/written_*`): {cfg.written:,}
  from the phrase bank's train part and the hand-written train lines, labelled by their
  rules; the dev part ({cfg.written_dev:,} + the hand-written dev lines) only to choose with.
- Text: the `{config["text"]["recipe"]}` recipe (HTML breaks removed, lowercase, NLTK
  TweetTokenizer, every word kept, "does n't" read as "doesn't"), first
  {config["text"]["max_tokens"]} tokens.

## Model
- Embedding {m["vocab_size"]:,} words x {m["embed_dim"]} (min frequency {inputs["min_freq"]},
  the {inputs["max_vocab"]:,} most frequent), started from word2vec vectors; bidirectional
  LSTM, hidden {m["hidden"]} per direction; final states and max pooling over time; dropout
  {m["dropout"]}; linear -> 1 logit.
- Wide part: {m["ngram_buckets"]:,} hashed buckets for the distinct 1-{m["ngram_orders"]}-grams
  of the review, fitted first as logistic regression (L2, C = {optim["wide_c"]}) on NB-scaled
  binary features of the labelled reviews, then frozen.
- Weights stored in float16 (computation in float32) in `model.safetensors` (PyTorch, also
  readable as the tutorial's `.pth`); `model.onnx` (served by ONNX Runtime, no torch) reads
  its large weights (embeddings, wide part) from that file, so the two travel together.

## Training (`sentireview train shipped`; this project's machine: 2 CPU cores, no GPU)
Round 0 learns from the 22,500 labelled reviews ({cfg.round0_epochs} epochs); the student
learns from them and from everything above ({cfg.student_epochs} epochs). Batch
{optim["batch_size"]}, Adam lr {optim["lr"]}, best checkpoint by validation loss of the
LSTM, seed {cfg.seed}. Chosen on validation data only: the student unless it costs more than
{cfg.max_valid_drop * 100:.1f} points of IMDb validation accuracy or gains nothing on the
written dev part. Installed: **{final["chosen"]}**.

| run | wall time | mix (LSTM, wide, bias) | IMDb valid acc. | IMDb valid loss | written dev acc. |
|---|---:|---|---:|---:|---:|
{valid}

Other steps, as the recipe timed them when they ran (a step reused by a later invocation
keeps its time): preparing the data {_minutes(times.get("prepare_s"))}, word vectors
{_minutes(times.get("vectors_s"))}, the teacher's scores and the written reviews
{_minutes(times.get("teacher_data_s"))}, the test evaluation {_minutes(times.get("test_s"))}.
Reproduce: `.venv/bin/sentireview train shipped --work runs/shipped --out
webapp/flask/ml_model`.

## Figures (official IMDb test split, {metrics["n"]:,} reviews, ONNX back end)
| metric | value |
|---|---:|
| accuracy | {metrics["accuracy"]:.4f} |
| log loss | {metrics["loss"]:.4f} |
| F1 negative | {report["negative"]["f1-score"]:.4f} |
| F1 positive | {report["positive"]["f1-score"]:.4f} |

Short texts:

{short_section}

{kind_section}

Latency and the comparison with the baselines: docs/accuracy.md (`bench/accuracy.py`).
Plots: `confusion_matrix.png`, `loss_curves.png`.

## Intended use and limits
- English movie reviews, positive vs negative; a demonstration and template, not a product.
- Good at: whole IMDb reviews (the test figures above){good}.
- Weaker at: {weaker}text from other domains and other languages (non-English text is
  mostly unknown words and gets a near-arbitrary score).
- Not for decisions about people or content moderation. Reviews longer than
  {config["text"]["max_tokens"]} tokens are read up to that point.
- `score` is P(positive) as the model estimates it; its calibration is what the log loss shows.

Built {date.today().isoformat()} by `sentireview train shipped`
(`sentireview.recipes.shipped`).
"""
