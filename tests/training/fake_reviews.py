"""An invented prepared dataset (the documented columns), shared by the training tests."""

import json
import random

import pandas as pd

POSITIVE = ["good", "great", "wonderful", "loved", "brilliant", "fine"]
NEGATIVE = ["bad", "awful", "boring", "hated", "terrible", "poor"]
NEUTRAL = ["film", "movie", "plot", "actor", "scene", "story", "the", "end", "music", "time"]


def make_reviews(n: int, seed: int) -> pd.DataFrame:
    """Invented reviews: the label decides which sentiment words appear; lengths vary."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = i % 2
        words = [rng.choice(NEUTRAL) for _ in range(rng.randint(2, 12))]
        for _ in range(rng.randint(1, 3)):
            words.insert(rng.randrange(len(words) + 1), rng.choice(POSITIVE if label else NEGATIVE))
        text = " ".join(words)
        rows.append(
            {
                "id": f"x/{i}",
                "rating": 8 if label else 2,
                "raw": text,
                "text": text.capitalize(),
                "clean": text,
                "label": label,
            }
        )
    frame = pd.DataFrame(rows)
    return frame.astype({"rating": "int16", "label": "int8"})


def write_dataset(folder, n_train=96, n_valid=32, n_test=32, seed=0):
    folder.mkdir(parents=True, exist_ok=True)
    for split, n, s in (
        ("train", n_train, seed),
        ("valid", n_valid, seed + 1),
        ("test", n_test, seed + 2),
    ):
        make_reviews(n, s).to_parquet(folder / f"{split}.parquet", index=False)
    (folder / "manifest.json").write_text(
        json.dumps({"format": 1, "recipe": "tutorial", "seed": 17})
    )
    return folder
