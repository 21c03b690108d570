"""Property-based run of the whole API from its own /openapi.json: schemathesis generates
valid and invalid requests for every operation; no answer may be a 5xx, and every answer must
match the documented status codes, content types and schemas.

In-process over WSGI with a keyword model (many cases), and over HTTP against the real
gunicorn server with the shipped model (fewer cases). Runs are seeded (``SEED``) so a failure
replays; Hypothesis prints the failing case.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st


@pytest.fixture(scope="module")
def api_schema(module_app):
    return schemathesis.openapi.from_wsgi("/openapi.json", module_app)


OPERATIONS = ["POST /predict", "POST /api/predict", "POST /api/explain", "GET /api/models",
              "GET /health", "GET /ready", "GET /api/model", "GET /metrics",
              "GET /"]  # schemathesis skips the schema's own path, /openapi.json


def test_every_operation_is_exercised(api_schema):
    found = {op.ok().label for op in api_schema.get_all_operations()}
    assert found == set(OPERATIONS)


SEED = 20261201


def check_operation(api_schema, label: str, examples: int) -> None:
    """Positive and negative cases for one operation, each validated against the schema."""
    (operation,) = [
        op.ok() for op in api_schema.get_all_operations() if op.ok().label == label
    ]
    strategy = st.one_of(
        operation.as_strategy(generation_mode=schemathesis.GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE),
    )

    @seed(SEED)
    @given(case=strategy)
    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case):
        case.call_and_validate()

    run()


@pytest.mark.parametrize("label", OPERATIONS)
def test_api_conforms_to_its_schema(api_schema, label):
    check_operation(api_schema, label, 100 if label.startswith("POST") else 10)


@pytest.mark.slow
def test_predict_conforms_to_its_schema_long_run(api_schema):
    check_operation(api_schema, "POST /api/predict", 1000)


#: Over HTTP the whole body limit applies too: a negative case with reviews past their
#: length limit can also be past the body limit, and 413 rejects it as rightly as 400 does.
REAL_SERVER_CONFIG = """
[checks.negative_data_rejection]
expected-statuses = ["400", "404", "405", "406", "413", "415", "422"]
"""


@pytest.fixture(scope="module")
def served_schema(server):
    config = schemathesis.config.SchemathesisConfig.from_str(REAL_SERVER_CONFIG)
    return schemathesis.openapi.from_url(server + "/openapi.json", config=config)


@pytest.mark.slow
@pytest.mark.parametrize("label", OPERATIONS)
def test_the_real_server_conforms_to_its_schema(served_schema, label):
    # the shipped model behind gunicorn's worker: real cleaning, vocabulary and ONNX Runtime
    check_operation(served_schema, label, 60 if label.startswith("POST") else 5)
