"""The shipped model's scores on fixed reviews, pinned in ``shipped_scores.json``.

Any change to what the served model computes (its weights, the ``words`` cleaner, the
vocabulary, a back end) moves these scores; the test fails at 1e-5. When the model changes
on purpose, regenerate the file and commit it with the change:

    .venv/bin/python -m tests.golden.shipped_scores
"""

from __future__ import annotations

import json
from pathlib import Path

from sentireview.files import sha256_file, write_json

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "shipped_scores.json"
MODEL_DIR = HERE.parents[1] / "webapp" / "flask" / "ml_model"

#: Written for this file: long and short, plain and tricky (negation, contrast, emoticons,
#: ratings, shouting, spelling), so a change to any step of the pipeline shows.
REVIEWS = [
    "One of the best films I have seen in years. The cast is superb and the ending moved me.",
    "A dull, clumsy mess. Two hours of my life I will never get back.",
    "Not bad at all.",
    "Not good at all.",
    "ok film :D :D",
    "ok film :( :(",
    "LOVED IT!!! 10/10",
    "3/10, would not recommend.",
    "I expected to hate it, but it won me over by the end.",
    "It starts well, but the second half falls apart completely.",
    "Great, another two-hour trailer for a sequel. Just what I wanted.",
    "Sooooo goooood",
    "meh",
    "The acting was fine, the plot was fine, everything was fine. Fine.",
    "Worst. Movie. Ever?!",
    "A quiet, patient drama that rewards attention; the lead performance is remarkable.",
    "Boring plot, wooden dialogue, and the jokes never land.",
    "I didn't like it, and I didn't hate it either.",
    "Beautiful photography cannot save a script this lazy.",
    "My kids watched it twice in one weekend and laughed the whole time.",
    "The BEST film of 2019, hands down <br /><br />Go see it.",
    "Il film è bellissimo.",
    "",
    "😍😍😍",
]


def score(backend: str) -> list[float]:
    from sentireview.predict import Predictor

    return Predictor.load(MODEL_DIR, backend=backend).predict_proba(REVIEWS)


def main() -> None:
    onnx = score("onnx")
    write_json(
        GOLDEN,
        {
            "model": "webapp/flask/ml_model",
            "weights_sha256": sha256_file(MODEL_DIR / "model.safetensors"),
            "onnx_sha256": sha256_file(MODEL_DIR / "model.onnx"),
            "regenerate": "python -m tests.golden.shipped_scores",
            "scores": {review: round(p, 7) for review, p in zip(REVIEWS, onnx, strict=True)},
        },
    )
    print(json.dumps(dict(zip(REVIEWS, onnx, strict=True)), indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
