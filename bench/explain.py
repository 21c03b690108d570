"""Speed of ``/api/explain``'s method against the naive way, in the same run, on one core.

* ``explainer``: :class:`sentireview.explain.Explainer` (for the light model: exact n-gram
  weights + LSTM occlusion in one batched call of at most 25 rows).
* ``naive``: leave one word out at a time, one ``Predictor.predict`` call per variant (the
  baseline that issue 17 measured at about half a second for a 230-word review).

Reviews: 230 words, written for this benchmark (no dataset text). Goal (issue 17): p50 under
100 ms with the light model. For a transformer folder (``--model``), the goal is p50 under 1 s.

    .venv/bin/python bench/explain.py [--model webapp/flask/ml_model] [--repeats 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("SENTIREVIEW_THREADS", "1")  # one ONNX Runtime thread: one core

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sentireview.explain import Explainer  # noqa: E402
from sentireview.predict import Predictor  # noqa: E402

SENTENCES = [
    "The opening act moves slowly and the dialogue often feels stiff and forced.",
    "Yet the lead actress gives a warm, funny and quietly moving performance.",
    "Some scenes drag on far too long, and the villain is a cardboard cliche.",
    "The music is lovely, the camera work is careful, and the city looks beautiful.",
    "I laughed more than I expected, though the final twist made little sense to me.",
    "Not a masterpiece, but a charming evening at the cinema that I would recommend.",
]


def review(words: int = 230) -> str:
    """A review of exactly ``words`` words, cycling through :data:`SENTENCES`."""
    pool = " ".join(SENTENCES * 10).split()
    return " ".join(pool[:words])


def naive(predictor: Predictor, text: str) -> list[float]:
    """Leave-one-word-out with one predictor call per variant."""
    words = text.split()
    full = predictor.predict_proba([text])[0]
    return [
        full - predictor.predict_proba([" ".join(words[:i] + words[i + 1 :])])[0]
        for i in range(len(words))
    ]


def timed(fn, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "webapp" / "flask" / "ml_model")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--naive-repeats", type=int, default=5)
    args = parser.parse_args()

    predictor = Predictor.load(args.model, backend="onnx")
    explainer = Explainer(predictor)
    text = review()
    explainer.explain(text)  # warm-up (first call compiles patterns, touches pages)
    ours = timed(lambda: explainer.explain(text), args.repeats)
    theirs = timed(lambda: naive(predictor, text), args.naive_repeats)
    p50, base = statistics.median(ours) * 1000, statistics.median(theirs) * 1000
    goal = 1000 if explainer.kind.two_logits else 100
    print(f"model {args.model} ({predictor.config['kind']}), {len(text.split())}-word review, "
          f"1 thread, method: {explainer.method}")
    print(f"explainer p50 {p50:.1f} ms (p90 {sorted(ours)[int(0.9 * len(ours))] * 1000:.1f} ms, "
          f"{args.repeats} runs)")
    print(f"naive leave-one-out p50 {base:.1f} ms ({args.naive_repeats} runs)")
    print(f"speed-up {base / p50:.1f}x; goal p50 < {goal} ms: "
          f"{'met' if p50 < goal else 'MISSED'}")


if __name__ == "__main__":
    main()
