import pytest

from sentireview import text
from sentireview.tutorial import cleaning_steps, lost_words, plot_stage_confusions

REVIEWS = [
    "I did NOT like it :( see http://example.com/x ... 2/10",
    "Sooooo good!!! <3 @bob The best film of 1999 :D",
    "It was not bad.<br /><br />Not great either ;p :|",
    "",
]


@pytest.mark.parametrize("review", REVIEWS)
def test_steps_end_with_the_tutorial_cleaner(review):
    rows = cleaning_steps(review)
    assert [r["step"] for r in rows] == list(range(15))
    assert rows[0]["text"] == review
    assert rows[-1]["text"] == text.clean_tutorial(review)


def test_steps_say_what_changed():
    rows = cleaning_steps("see www.example.com now")
    changed = [r["step"] for r in rows if r["changed"]]
    assert changed[0] == 1 and rows[1]["text"] == "see <url> now"


def test_lost_words_flags_negations():
    lost = lost_words("It was not a good film, and I didn't laugh")
    assert ("not", True) in lost and ("didn't", True) in lost and ("a", False) in lost
    assert all(w not in {"good", "film,"} for w, _ in lost)


def test_plot_stage_confusions(tmp_path):
    path = plot_stage_confusions(
        {"stage 1": [[3, 1], [2, 4]], "stage 2": [[4, 0], [1, 5]]}, tmp_path / "cm.png"
    )
    assert path.stat().st_size > 1000
    with pytest.raises(ValueError):
        plot_stage_confusions({}, tmp_path / "none.png")
