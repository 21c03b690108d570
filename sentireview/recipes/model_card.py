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


def _member_table(label: str, member: dict[str, Any]) -> str:
    rows = "\n".join(
        f"| {k} | {_round_data(r.get('teachers', []))} | {_minutes(r.get('wall_s'))} | "
        f"{r.get('mix')} | {r.get('valid_loss', '-')} |"
        for k, r in sorted(member["rounds"].items())
    )
    return (
        f"{label} (chose {member['chosen']}):\n\n"
        "| round | data | wall time | mix (LSTM, wide, bias) | validation log loss |\n"
        "|---|---|---:|---|---:|\n"
        f"{rows}\n"
    )


def model_card(
    config: dict[str, Any],
    metrics: dict[str, Any],
    members: dict[str, dict[str, Any]],
    times: dict[str, float],
    chosen: str = "member 1",
    final_loss: dict[str, float] | None = None,
) -> str:
    """``members``: per member label, ``{"chosen": round name, "rounds": {k: summary}}``;
    ``chosen``: the installed candidate (a member label or "ensemble"), ``final_loss`` the
    validation log loss of each candidate."""
    m, training = config["model"], config["training"]
    ensemble = config["kind"] == "lstm_ensemble"
    t = training["members"][0] if ensemble else training
    inputs, optim = t["inputs"], t["optim"]
    report = metrics["report"]
    tables = "\n".join(_member_table(label, member) for label, member in members.items())
    losses = ", ".join(f"{name} {loss}" for name, loss in (final_loss or {}).items())
    chosen_line = (
        "In each member the round with the lowest validation log loss was kept; "
        f"then, by the same rule, the installed model: **{chosen}** (validation log loss: "
        f"{losses}). The test split played no part in any choice; each round's mix is\n"
        "fitted on the validation split, so these losses are slightly optimistic for every\n"
        "candidate alike.\n"
        if losses
        else "The round with the lowest validation log loss was kept (the test split played no\n"
        "part in the choice; the mix is fitted on the validation split, so these losses are\n"
        "slightly optimistic for every round alike).\n"
    )
    runs = training["members"] if ensemble else [training]
    uses_lm = any(r["init"].get("language_model") for r in runs)
    lm_start, lm_time, pretraining = "", "", "word vectors"
    if uses_lm:
        lm_start = (
            " and then pre-trained with the LSTM as a language model (each direction predicting\n"
            "  the next word) on the 72,500 training and unlabelled reviews"
            + (" (member 2 only)" if ensemble else "")
        )
        lm_time = f", the language model {_minutes(times.get('lm_s'))},"
        pretraining = "word vectors and language-model pre-training"
    if ensemble:
        what = (
            f"It is an ensemble of {m['members']} such models trained apart (the same recipe, "
            "member 2 after\nlanguage-model pre-training), stored as one: P(positive) = "
            "sigmoid(mean over members i of\na_i * LSTM_i logit + b_i * wide logit + c_i), "
            "with a_i, b_i, c_i fitted on the validation split\nfor each member."
        )
        shape = f"{m['members']} members, each: embedding"
        curves = "each member's chosen round"
    else:
        what = (
            "Output: P(positive) = sigmoid(a * LSTM logit + b * wide logit + c),\n"
            "with a, b, c fitted on the validation split."
        )
        shape = "Embedding"
        curves = "the shipped round"
    return f"""# {config["name"]} (version {config["version"]})

**What it is.** A light recurrent model for English movie-review sentiment: the tutorial's
bidirectional LSTM, made smaller and given what it lacked: {pretraining} on unlabelled
reviews, distillation from its own earlier rounds over the 50,000
unlabelled IMDb reviews, and a "wide" linear part over hashed word 1-3-grams beside it (a
wide-and-deep model). {what} How much each part contributes is measured in
[docs/accuracy.md](../../../docs/accuracy.md).

## Data
- IMDb (Maas et al., ACL 2011), official split: the 25,000 training reviews split 22,500 /
  2,500 (train / validation, seed {t["seed"]}), the 25,000 test reviews never used in training,
  and the 50,000 unlabelled reviews ({pretraining} and distillation only).
- Text: the `{config["text"]["recipe"]}` recipe (HTML breaks removed, lowercase, NLTK
  TweetTokenizer, every word kept, "does n't" read as "doesn't"), first
  {config["text"]["max_tokens"]} tokens.

## Model
- {shape} {m["vocab_size"]:,} words x {m["embed_dim"]} (min frequency {inputs["min_freq"]},
  the {inputs["max_vocab"]:,} most frequent), started from word2vec vectors{lm_start}; bidirectional
  LSTM, hidden {m["hidden"]} per direction; final states and max pooling over time; dropout
  {m["dropout"]}; linear -> 1 logit.
- Wide part: {m["ngram_buckets"]:,} hashed buckets for the distinct 1-{m["ngram_orders"]}-grams
  of the review, fitted first as logistic regression (L2, C = {optim["wide_c"]}) on NB-scaled
  binary features, then frozen.
- Weights stored in float16 (computation in float32) in `model.safetensors` (PyTorch, also
  readable as the tutorial's `.pth`); `model.onnx` (served by ONNX Runtime, no torch) reads
  its large weights (embeddings, wide part) from that file, so the two travel together.

## Training (this project's machine: 2 CPU cores, no GPU)
{tables}
{chosen_line}
Preparing the data took {_minutes(times.get("prepare_s"))} and the word vectors
{_minutes(times.get("vectors_s"))}{lm_time} in the run that produced this folder (about 0 when
reused).
Batch {optim["batch_size"]}, Adam lr {optim["lr"]}, best checkpoint by validation loss of the LSTM,
seed {t["seed"]}. Reproduce:
`.venv/bin/sentireview train shipped --work runs/shipped --out webapp/flask/ml_model`.

## Figures (official IMDb test split, {metrics["n"]:,} reviews, ONNX back end)
| metric | value |
|---|---:|
| accuracy | {metrics["accuracy"]:.4f} |
| log loss | {metrics["loss"]:.4f} |
| F1 negative | {report["negative"]["f1-score"]:.4f} |
| F1 positive | {report["positive"]["f1-score"]:.4f} |

Short reviews, latency and the comparison with the baselines: docs/accuracy.md
(`bench/accuracy.py`). Plots: `confusion_matrix.png`, `loss_curves.png` ({curves}).

## Intended use and limits
- English movie reviews, positive vs negative; a demonstration and template, not a product.
- Not for decisions about people or content moderation. Expect errors on sarcasm, mixed
  reviews, other domains and other languages (non-English text is mostly unknown words and
  gets a near-arbitrary score). Reviews longer than {config["text"]["max_tokens"]} tokens are
  read up to that point.
- `score` is P(positive) as the model estimates it; its calibration is what the log loss shows.

Built {date.today().isoformat()} by `sentireview train shipped`
(`sentireview.recipes.shipped`).
"""
