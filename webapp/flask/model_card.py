"""The shipped model's card (``ml_model/README.md``), filled from its config and measurements."""

from __future__ import annotations

from datetime import date
from typing import Any


def _minutes(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 60:.1f} min"


def _round_data(teachers: list[int]) -> str:
    if not teachers:
        return "22,500 labelled reviews"
    if len(teachers) == 1:
        return f"+ 50,000 unlabelled, scored by round {teachers[0]}"
    return f"+ 50,000 unlabelled, scored by the mean of rounds {', '.join(map(str, teachers))}"


def model_card(
    config: dict[str, Any],
    metrics: dict[str, Any],
    rounds: dict[int, dict[str, Any]],
    times: dict[str, float],
    chosen: str | None = None,
) -> str:
    m, t = config["model"], config["training"]
    report = metrics["report"]
    round_rows = "\n".join(
        f"| {k} | {_round_data(s.get('teachers', []))} | {_minutes(s.get('wall_s'))} | "
        f"{s.get('mix')} | {s.get('valid_loss', '-')} |"
        for k, s in sorted(rounds.items())
    )
    chosen_line = (
        f"Shipped: {chosen}, the round with the lowest validation log loss (the test split played\n"
        "no part in the choice; the mix is fitted on the validation split, so these losses are\n"
        "slightly optimistic for every round alike).\n"
        if chosen
        else ""
    )
    lm_start, lm_time, pretraining = "", "", "word vectors"
    if t.get("init_from"):  # the LSTM started from a pre-trained language model
        lm_start = (
            " and then pre-trained with the LSTM as a language model (each direction predicting\n"
            "  the next word) on the 72,500 training and unlabelled reviews"
        )
        lm_time = f", the language model {_minutes(times.get('lm_s'))},"
        pretraining = "word vectors and language-model pre-training"
    return f"""# {config["name"]} (version {config["version"]})

**What it is.** A light recurrent model for English movie-review sentiment: the tutorial's
bidirectional LSTM, made smaller and given what it lacked: {pretraining} on unlabelled
reviews, distillation from its own earlier rounds over the 50,000
unlabelled IMDb reviews, and a "wide" linear part over hashed word 1-3-grams beside it (a
wide-and-deep model). Output: P(positive) = sigmoid(a * LSTM logit + b * wide logit + c),
with a, b, c fitted on the validation split. How much each part contributes is measured in
[docs/accuracy.md](../../../docs/accuracy.md).

## Data
- IMDb (Maas et al., ACL 2011), official split: the 25,000 training reviews split 22,500 /
  2,500 (train / validation, seed {t["seed"]}), the 25,000 test reviews never used in training,
  and the 50,000 unlabelled reviews ({pretraining} and distillation only).
- Text: the `{config["text"]["recipe"]}` recipe (HTML breaks removed, lowercase, NLTK
  TweetTokenizer, every word kept, "does n't" read as "doesn't"), first
  {config["text"]["max_tokens"]} tokens.

## Model
- Embedding {m["vocab_size"]:,} words x {m["embed_dim"]} (min frequency {t["min_freq"]},
  the {t["max_vocab"]:,} most frequent), started from word2vec vectors{lm_start}; bidirectional
  LSTM, hidden {m["hidden"]} per direction; final states and max pooling over time; dropout
  {m["dropout"]}; linear -> 1 logit.
- Wide part: {m["ngram_buckets"]:,} hashed buckets for the distinct 1-{m["ngram_orders"]}-grams
  of the review, fitted first as logistic regression (L2, C = {t["wide_c"]}) on NB-scaled
  binary features, then frozen.
- Weights stored in float16 (computation in float32); `model.onnx` (served by ONNX Runtime,
  no torch) and `model.safetensors` (PyTorch, also readable as the tutorial's `.pth`).

## Training (this project's machine: 2 CPU cores, no GPU)
| round | data | wall time | mix (LSTM, wide, bias) | validation log loss |
|---|---|---:|---|---:|
{round_rows}

{chosen_line}
Preparing the data took {_minutes(times.get("prepare_s"))} and the word vectors
{_minutes(times.get("vectors_s"))}{lm_time} in the run that produced this folder (about 0 when
reused).
Batch {t["batch_size"]}, Adam lr {t["lr"]}, best checkpoint by validation loss of the LSTM,
seed {t["seed"]}. Reproduce: `.venv/bin/python webapp/flask/train_shipped_model.py`.

## Figures (official IMDb test split, {metrics["n"]:,} reviews, ONNX back end)
| metric | value |
|---|---:|
| accuracy | {metrics["accuracy"]:.4f} |
| log loss | {metrics["loss"]:.4f} |
| F1 negative | {report["negative"]["f1-score"]:.4f} |
| F1 positive | {report["positive"]["f1-score"]:.4f} |

Short reviews, latency and the comparison with the baselines: docs/accuracy.md
(`bench/accuracy.py`). Plots: `confusion_matrix.png`, `loss_curves.png` (the shipped round).

## Intended use and limits
- English movie reviews, positive vs negative; a demonstration and template, not a product.
- Not for decisions about people or content moderation. Expect errors on sarcasm, mixed
  reviews, other domains and other languages (non-English text is mostly unknown words and
  gets a near-arbitrary score). Reviews longer than {config["text"]["max_tokens"]} tokens are
  read up to that point.
- `score` is P(positive) as the model estimates it; its calibration is what the log loss shows.

Built {date.today().isoformat()} by `webapp/flask/train_shipped_model.py`.
"""
