"""The OpenAPI 3 document served at ``/openapi.json`` (limits filled in from the settings)."""

from __future__ import annotations

from typing import Any

from sentireview import __version__

from .settings import Settings

# A review must contain a visible character: one outside JavaScript's (JSON Schema's)
# whitespace set and outside the characters that show nothing -- controls (NUL included),
# zero-width and other format characters (soft hyphen, joiners, direction marks, the BOM),
# the combining grapheme joiner, variation selectors, Hangul fillers and the blank braille
# pattern. A review made only of these is treated as empty. Written with \\u escapes only, so
# that Python's re and ECMA-262 (JSON Schema's regex dialect) read it alike.
NOT_BLANK = (
    r"[^\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
    r"\u0000-\u001f\u007f-\u009f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    r"\u200b-\u200f\u202a-\u202e\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\uffa0\ufff0-\ufffb]"
)


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def build_spec(settings: Settings, model_names: list[str]) -> dict[str, Any]:
    """OpenAPI 3.0 description of every route of the app; ``model_names``: the served models,
    the default first."""
    error = {"$ref": "#/components/schemas/Error"}
    review = {"type": "string", "minLength": 1, "maxLength": settings.max_review_chars,
              "pattern": NOT_BLANK,
              "description": "the review text (not only whitespace or invisible characters)"}
    errors = {
        "400": _json(error, "malformed request: body, JSON, review or batch invalid or too long"),
        "413": _json(error, "request body over the size limit"),
        "415": _json(error, "Content-Type is not application/json, or the body is encoded"),
        "503": _json(error, "the prediction ran past SENTIREVIEW_PREDICT_TIMEOUT"),
    }
    model = {"type": "string", "enum": list(model_names),
             "description": f"a served model (GET /api/models); default {model_names[0]!r}"}
    choice_errors = {**errors, "400": _json(error, "malformed request, or an unknown model")}
    operator = {"/metrics": {"get": {
        "summary": "Prometheus metrics (off with SENTIREVIEW_METRICS=0)",
        "operationId": "metrics",
        "responses": {"200": {"description": "Prometheus text format",
                              "content": {"text/plain": {"schema": {"type": "string"}}}}},
    }}} if settings.metrics else {}
    spec = {
        "openapi": "3.0.3",
        "info": {
            "title": "Senti-review API",
            "version": __version__,
            "description": "Sentiment (positive/negative) of English movie reviews.",
        },
        "paths": {
            "/predict": {
                "post": {
                    "summary": "The tutorial's contract: one review in, the bare label out",
                    "description": "Answers `positive` or `negative` as text/plain, as the "
                                   "tutorial's Flask app did, so that its React client works "
                                   "unchanged. Errors are JSON. For scores, batches and model "
                                   "choice use POST /api/predict.",
                    "operationId": "predictLabel",
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/TutorialRequest"}}}},
                    "responses": {
                        "200": {"description": "the label of the default model",
                                "content": {"text/plain": {"schema": {
                                    "type": "string", "enum": ["negative", "positive"]}}}},
                        **errors,
                    },
                }
            },
            "/api/predict": {
                "post": {
                    "summary": "Classify one review or a batch of reviews",
                    "operationId": "predict",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"oneOf": [
                            {"$ref": "#/components/schemas/ReviewRequest"},
                            {"$ref": "#/components/schemas/BatchRequest"},
                        ]}}},
                    },
                    "responses": {
                        "200": _json({"oneOf": [
                            {"$ref": "#/components/schemas/PredictResponse"},
                            {"$ref": "#/components/schemas/BatchResponse"},
                        ]}, "the prediction(s), in request order"),
                        **choice_errors,
                    },
                }
            },
            "/api/explain": {
                "post": {
                    "summary": "Classify one review and give the spans that mattered",
                    "operationId": "explain",
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/ExplainRequest"}}}},
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/ExplainResponse"},
                                     "the prediction and its spans"),
                        **choice_errors,
                        "501": _json(error, "this model cannot explain its predictions"),
                    },
                }
            },
            "/api/models": {"get": {
                "summary": "The served models, the default first",
                "operationId": "models",
                "responses": {"200": _json({"$ref": "#/components/schemas/ModelList"},
                                           "the served models")},
            }},
            "/health": {"get": {
                "summary": "Liveness", "operationId": "health",
                "responses": {"200": _json({"type": "object", "required": ["status"],
                                            "properties": {"status": {"type": "string"}}},
                                           "the process answers")},
            }},
            "/ready": {"get": {
                "summary": "Readiness: the model is loaded and classifies two known reviews",
                "operationId": "ready",
                "responses": {
                    "200": _json({"type": "object", "required": ["status", "model"], "properties": {
                        "status": {"type": "string"},
                        "model": {"$ref": "#/components/schemas/ModelSummary"}}}, "ready"),
                    "503": _json(error, "not ready"),
                },
            }},
            "/api/model": {"get": {
                "summary": "The model served: kind, name, version, back end, metrics, limits",
                "operationId": "modelInfo",
                "responses": {
                    "200": _json({"$ref": "#/components/schemas/ModelInfo"}, "the model")
                },
            }},
            "/openapi.json": {"get": {
                "summary": "This document", "operationId": "openapi",
                "responses": {"200": _json({"type": "object"}, "OpenAPI 3 document")},
            }},
            "/": {"get": {
                "summary": "The web page (the React build), or a note that it is not built",
                "operationId": "page",
                "responses": {"200": {"description": "HTML page",
                                      "content": {"text/html": {"schema": {"type": "string"}}}}},
            }},
        },
        "components": {"schemas": {
            "TutorialRequest": {"type": "object", "required": ["review"],
                                "additionalProperties": False,
                                "properties": {"review": review}},
            "ReviewRequest": {"type": "object", "required": ["review"],
                              "additionalProperties": False,
                              "properties": {"review": review, "model": model}},
            "ExplainRequest": {"$ref": "#/components/schemas/ReviewRequest"},
            "BatchRequest": {"type": "object", "required": ["reviews"],
                             "additionalProperties": False, "properties": {
                "reviews": {"type": "array", "minItems": 1, "maxItems": settings.max_batch,
                            "items": review},
                "model": model}},
            "Span": {"type": "object", "required": ["start", "end", "weight"], "properties": {
                "start": {"type": "integer", "minimum": 0,
                          "description": "offset into the review, in code points"},
                "end": {"type": "integer", "minimum": 0},
                "weight": {"type": "number",
                           "description": "log-odds; above 0 pushes towards positive"}}},
            "ExplainResponse": {"allOf": [
                {"$ref": "#/components/schemas/PredictResponse"},
                {"type": "object", "required": ["spans", "method"], "properties": {
                    "spans": {"type": "array", "items": {"$ref": "#/components/schemas/Span"}},
                    "method": {"type": "string"}}},
            ]},
            "ModelList": {"type": "object", "required": ["default", "models"], "properties": {
                "default": {"type": "string"},
                "models": {"type": "array", "items": {
                    "type": "object",
                    "required": ["name", "title", "kind", "version", "default", "metrics"],
                    "properties": {
                        "name": {"type": "string"}, "title": {"type": "string"},
                        "kind": {"type": "string"}, "version": {"type": "string"},
                        "backend": {"type": "string"}, "default": {"type": "boolean"},
                        "metrics": {"type": "object"}}}}}},
            "Prediction": {"type": "object", "required": ["sentiment", "score", "label"],
                           "properties": {
                               "sentiment": {"type": "string", "enum": ["negative", "positive"]},
                               "score": {"type": "number", "minimum": 0, "maximum": 1,
                                         "description": "probability that the review is positive"},
                               "label": {"type": "integer", "enum": [0, 1]}}},
            "ModelSummary": {"type": "object", "required": ["name", "version"], "properties": {
                "name": {"type": "string"}, "version": {"type": "string"}}},
            "PredictResponse": {"allOf": [
                {"$ref": "#/components/schemas/Prediction"},
                {"type": "object", "required": ["model"], "properties": {
                    "model": {"$ref": "#/components/schemas/ModelSummary"}}},
            ]},
            "BatchResponse": {
                "type": "object", "required": ["predictions", "model"], "properties": {
                    "predictions": {"type": "array",
                                    "items": {"$ref": "#/components/schemas/Prediction"}},
                    "model": {"$ref": "#/components/schemas/ModelSummary"}}},
            "ModelInfo": {"type": "object", "required": ["kind", "name", "version", "metrics"],
                          "properties": {
                              "kind": {"type": "string"}, "name": {"type": "string"},
                              "version": {"type": "string"}, "backend": {"type": "string"},
                              "labels": {"type": "array", "items": {"type": "string"}},
                              "metrics": {"type": "object", "nullable": True},
                              "limits": {"type": "object"}}},
            "Error": {"type": "object", "required": ["error"],
                      "properties": {"error": {"type": "string"}}},
        }},
    }
    spec["paths"].update(operator)
    return spec
