"""The model a worker serves: a ``Predictor`` plus what the artifact says about itself.

Loaded once per worker by the application factory. Anything wrong with the artifact folder
(missing, unreadable, a corrupt ONNX file) raises :class:`ModelLoadError` with one line that
names the folder, so start-up stops with a message an operator can act on.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sentireview.errors import SentiReviewError

log = logging.getLogger(__name__)

#: Reviews the readiness check must classify correctly (clear-cut, in IMDb's register).
KNOWN_POSITIVE = (
    "A wonderful, moving film with brilliant acting and a great story. One of the best "
    "movies I have seen in years: I loved every minute and will watch it again."
)
KNOWN_NEGATIVE = (
    "A terrible, boring film with awful acting and a stupid plot. One of the worst movies "
    "I have ever seen: a complete waste of time and money, I hated it."
)


#: How the page labels each kind of model (config.json's ``title`` wins).
TITLES = {
    "lstm": "LSTM trained from scratch",
    "transformer": "fine-tuned transformer",
}


class ExplainUnavailable(SentiReviewError):
    """This model cannot explain its predictions (answered 501)."""


def make_explainer(predictor: PredictorLike, path: Path) -> Any:
    """``sentireview.explain.Explainer`` for a model loaded with ``Predictor.load``; an
    injected predictor (tests) explains itself if it has ``explain(text)``; else None."""
    from sentireview.explain import Explainer
    from sentireview.predict import Predictor

    if isinstance(predictor, Predictor):
        return Explainer(predictor, path)
    if callable(getattr(predictor, "explain", None)):  # an injected predictor's own
        return predictor
    return None


class ModelLoadError(SentiReviewError):
    """The model folder cannot be served."""


class PredictionTimeout(SentiReviewError):
    """A prediction ran past its deadline (answered 503, before gunicorn's worker timeout)."""


#: Reviews per call to the predictor when a deadline is given: it is checked between calls.
DEADLINE_CHUNK = 16


class PredictorLike(Protocol):
    """What the web app needs from ``sentireview.predict.Predictor``."""

    def predict(self, texts: list[str]) -> list[dict[str, Any]]: ...


@dataclass
class ServedModel:
    """A loaded predictor and the artifact's description (config.json, metrics.json)."""

    predictor: PredictorLike
    path: Path
    config: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] | None = None
    backend: str = "unknown"
    _explainer: Any = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return str(self.config.get("name") or self.path.name)

    @property
    def version(self) -> str:
        return str(self.config.get("version") or "unknown")

    @property
    def kind(self) -> str:
        return str(self.config.get("kind") or "unknown")

    @property
    def title(self) -> str:
        """How the page labels the model: config.json's ``title``, else by kind."""
        return str(self.config.get("title") or TITLES.get(self.kind, self.name))

    def headline(self) -> dict[str, Any]:
        """The few figures the page shows: accuracy, macro F1, on how many reviews of which
        split (from metrics.json, whichever of them it has)."""
        m = self.metrics or {}
        if "accuracy" not in m and isinstance(m.get("test"), dict):  # {"test": {...}}
            m = m["test"]
        figures = {
            "accuracy": m.get("accuracy"),
            "f1": ((m.get("report") or {}).get("macro avg") or {}).get("f1-score"),
            "n": m.get("n"),
            "split": m.get("split"),
        }
        return {k: v for k, v in figures.items() if v is not None}

    def explain(self, text: str, deadline: float | None = None) -> dict[str, Any]:
        """The prediction of ``text`` with the spans that mattered (``sentireview.explain``):
        ``{"sentiment", "score", "label", "spans": [{"start", "end", "weight"}], "method"}``.

        The work is one batched call, bounded in size (a few hundred ms at most for the light
        model, about 1 s for a transformer on one core): :class:`PredictionTimeout` is raised
        when ``deadline`` has passed before it starts, or for a ``TimeoutError`` within."""
        if self._explainer is None:
            raise ExplainUnavailable(f"model {self.name!r} cannot explain its predictions")
        if deadline is not None and time.monotonic() > deadline:
            raise PredictionTimeout("no time left for the explanation")
        try:
            found = self._explainer.explain(text)
        except TimeoutError as exc:
            raise PredictionTimeout(str(exc) or "the explainer timed out") from exc
        label = int(found.score > 0.5)
        labels = self.config.get("labels", ["negative", "positive"])
        return {
            "sentiment": str(labels[label]),
            "score": float(found.score),
            "label": label,
            "spans": [
                {"start": s.start, "end": s.end, "weight": round(s.weight, 4)} for s in found.spans
            ],
            "method": found.method,
        }

    def summary(self) -> dict[str, str]:
        """``{"name", "version"}``: echoed in every prediction."""
        return {"name": self.name, "version": self.version}

    def predict(self, texts: list[str], deadline: float | None = None) -> list[dict[str, Any]]:
        """``[{"sentiment", "score", "label"}]`` in the order of ``texts``, as plain JSON types.

        With a ``deadline`` (a ``time.monotonic()`` value), the texts go to the predictor
        :data:`DEADLINE_CHUNK` at a time and :class:`PredictionTimeout` is raised once it has
        passed, as it is for a ``TimeoutError`` from the predictor.
        """
        texts = list(texts)
        step = DEADLINE_CHUNK if deadline is not None else max(1, len(texts))
        results: list[dict[str, Any]] = []
        for start in range(0, len(texts), step):
            if deadline is not None and time.monotonic() > deadline:
                raise PredictionTimeout(f"prediction stopped after {start} of {len(texts)} texts")
            try:
                results.extend(self.predictor.predict(texts[start : start + step]))
            except TimeoutError as exc:
                raise PredictionTimeout(str(exc) or "the predictor timed out") from exc
        if len(results) != len(texts):
            raise RuntimeError(f"predictor returned {len(results)} results for {len(texts)} texts")
        return [
            {
                "sentiment": str(r["sentiment"]),
                "score": float(r["score"]),
                "label": int(r["label"]),
            }
            for r in results
        ]

    def self_check(self) -> str | None:
        """None when the known positive and negative reviews come out right, else the problem."""
        try:
            pos, neg = self.predict([KNOWN_POSITIVE, KNOWN_NEGATIVE])
        except Exception as exc:  # readiness must report, not raise
            log.exception("readiness check failed")
            return f"the model failed on the readiness reviews ({type(exc).__name__})"
        if pos["sentiment"] != "positive" or neg["sentiment"] != "negative":
            return (
                "the model misclassifies the readiness reviews "
                f"(positive -> {pos['sentiment']}, negative -> {neg['sentiment']})"
            )
        return None


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ModelLoadError(f"{path} does not hold a JSON object")
    return data


def _backend_name(predictor: object) -> str:
    """Best-effort name of the back end a predictor uses (for /api/model)."""
    for attr in ("backend_name", "backend"):
        value = getattr(predictor, attr, None)
        if isinstance(value, str):
            return value
        if value is not None:
            return str(getattr(value, "name", type(value).__name__))
    return "unknown"


def load_model(
    path: Path, backend: str = "auto", threads: int = 1, predictor: PredictorLike | None = None
) -> ServedModel:
    """Open the artifact folder ``path`` with ``Predictor.load`` (or wrap ``predictor``)."""
    path = Path(path)
    if not path.is_dir():
        raise ModelLoadError(
            f"model folder not found: {path} (set SENTIREVIEW_MODEL_DIR to an artifact folder)"
        )
    config = _read_json(path / "config.json")
    if config is None:
        raise ModelLoadError(f"model folder {path} has no config.json: not an artifact folder")
    metrics = _read_json(path / "metrics.json")
    if predictor is None:
        # ONNX Runtime's thread count is read by the ONNX back end from the environment.
        os.environ["SENTIREVIEW_THREADS"] = str(threads)
        try:
            from sentireview.predict import Predictor

            predictor = Predictor.load(path, backend=backend)
        except Exception as exc:
            message = " ".join(str(exc).split()) or type(exc).__name__
            raise ModelLoadError(f"cannot load the model from {path}: {message}") from exc
    try:  # built once here: a broken folder stops start-up, not each /api/explain
        explainer = make_explainer(predictor, path)
    except Exception as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        raise ModelLoadError(f"cannot explain the model in {path}: {message}") from exc
    served = ServedModel(
        predictor=predictor, path=path,
        # the predictor's config is the normalised one (an old LSTM's grouped settings, say)
        config=dict(getattr(predictor, "config", None) or config), metrics=metrics,
        backend=_backend_name(predictor), _explainer=explainer,
    )
    log.info("serving %s %s (%s, %s back end) from %s",
             served.kind, served.name, served.version, served.backend, path)
    return served


def load_models(
    paths: tuple[Path, ...] | list[Path],
    backend: str = "auto",
    threads: int = 1,
    predictor: PredictorLike | None = None,
) -> dict[str, ServedModel]:
    """Every folder of ``paths`` loaded (``predictor``, when given, serves the first), by
    name, in order: the first is the default. Two folders with one name: ModelLoadError."""
    seen: dict[str, Path] = {}
    for path in map(Path, paths):  # names first: no model is loaded for nothing
        config = _read_json(path / "config.json") if path.is_dir() else None
        name = str((config or {}).get("name") or path.name)
        if name in seen:
            raise ModelLoadError(
                f"two served models are named {name!r} ({seen[name]} and {path}): "
                "give each a distinct name in its config.json"
            )
        seen[name] = path
    models: dict[str, ServedModel] = {}
    for i, path in enumerate(paths):
        served = load_model(path, backend, threads, predictor if i == 0 else None)
        models[served.name] = served
    return models
