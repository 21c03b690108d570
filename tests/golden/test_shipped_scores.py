"""The shipped model's behaviour is pinned: its scores on fixed reviews, both back ends,
within 1e-5 of the golden file (see shipped_scores.py to regenerate it on purpose)."""

import json

import pytest

from tests.golden.shipped_scores import GOLDEN, MODEL_DIR, REVIEWS, score


@pytest.fixture(scope="module")
def golden():
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_golden_file_covers_the_reviews(golden):
    assert list(golden["scores"]) == REVIEWS


@pytest.mark.parametrize("backend", ["onnx", "torch"])
def test_shipped_scores_are_pinned(golden, backend):
    got = dict(zip(REVIEWS, score(backend), strict=True))
    off = {r: (got[r], want) for r, want in golden["scores"].items() if abs(got[r] - want) > 1e-5}
    assert not off, (
        f"{len(off)} of {len(REVIEWS)} scores of {MODEL_DIR.name} moved (got, pinned): {off}; "
        f"if the model changed on purpose: {golden['regenerate']}"
    )
