"""Invented reviews as a prepared dataset, and a tiny offline encoder: shared by the tests."""

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


def make_tiny_encoder(folder, words=None):
    """A random 2-layer RoBERTa (hidden 32) and a word-level tokenizer over ``words``
    (default: this module's invented vocabulary), built offline."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast, RobertaConfig, RobertaModel

    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    if words is None:
        words = {w for w in POSITIVE + NEGATIVE + NEUTRAL} | {w.capitalize() for w in NEUTRAL}
    words = sorted(set(words))
    vocab = {w: i for i, w in enumerate(specials + words)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        mask_token="<mask>",
        cls_token="<s>",
        sep_token="</s>",
    )
    fast.save_pretrained(str(folder))
    config = RobertaConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=80,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        type_vocab_size=1,
    )
    import torch

    torch.manual_seed(0)
    RobertaModel(config).save_pretrained(str(folder))
    return folder


def build_tiny_transformer(folder, recipe="words"):
    """A transformer artifact (tiny random RoBERTa, mean pooling, head+tail, reading the
    ``text`` column) as training writes one: config.json, model.safetensors, tokenizer/."""
    import shutil

    import torch

    from sentireview import artifact
    from sentireview.models.transformer import TransformerClassifier
    from sentireview.weights import save_weights

    encoder = make_tiny_encoder(folder.parent / f"{folder.name}-encoder")
    torch.manual_seed(0)
    model = TransformerClassifier.from_pretrained(str(encoder), dropout=0.1, pooling="mean")
    folder.mkdir(parents=True)
    text = {"recipe": recipe, "column": "text", "max_tokens": 12, "truncation": "head+tail"}
    artifact.write_config(folder, artifact.make_config("transformer", model.config, text, {}))
    save_weights(folder, model)
    (folder / "tokenizer").mkdir()
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(encoder / name, folder / "tokenizer" / name)
    return folder
