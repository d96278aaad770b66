"""schemathesis against the real API's /openapi.json, authenticated as a real user: no
5xx, every answer matches the schema (status codes, content types, bodies, headers), and
its own auth probes (no token, an invalid one) are refused.

schemathesis is a test dependency (``pip install schemathesis``); without it this module
is skipped, and the hand-made hostile input of test_api_input.py still runs.
"""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, settings

from tests.support.server import ServerProcess

from .central import answered, server_errors
from .conftest import LONG, LONG_SIZES, SHORT_SIZES, Figures

schemathesis = pytest.importorskip("schemathesis")

SIZES = LONG_SIZES if LONG else SHORT_SIZES

#: Two of schemathesis's heuristics, told what this API does by design. The pull cursor is
#: an opaque string: one the server never gave out is a 400. A request the schema refuses
#: may also be a 413 (more than 1,000 changes). Values of the wrong JSON type
#: (``"changed_at": 1700000000``, ``"3"`` for a version) are refused, not coerced
#: (protocol/wire.py), so "schema-violating request accepted" is checked too.
CHECKS = {
    "negative_data_rejection": {"expected-statuses": [400, 401, 404, 413, 422]},
    "positive_data_acceptance": {"expected-statuses": ["2XX", 400, 401, 403, 404, 409, 429]},
}


@pytest.fixture(scope="module")
def api_schema(shared_server: ServerProcess, alice_token: str):
    auth = {"openapi": {"HTTPBearer": {"bearer": alice_token}}}  # FastAPI's HTTPBearer scheme
    config = schemathesis.Config.from_dict({"checks": CHECKS, "auth": auth})
    return schemathesis.openapi.from_url(f"{shared_server.url}/openapi.json", config=config)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=SIZES.schema_examples,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_schemathesis_authenticated(case, shared_server: ServerProcess):
    wait = (case.query or {}).get("wait")
    with contextlib.suppress(TypeError, ValueError):
        if float(wait) > 0.1:  # a valid long-poll: keep it short
            case.query["wait"] = type(wait)(0.1)
    case.call_and_validate(base_url=shared_server.url)


def test_schemathesis_left_no_internal_errors(shared_server: ServerProcess, figures: Figures):
    """Runs after the generated tests of this module: the server logged no 5xx."""
    internal, unavailable = server_errors(shared_server.log_text())
    codes = answered(shared_server.log_text())
    figures["requests"] = sum(codes.values())
    figures["answered_2xx"] = sum(n for code, n in codes.items() if code < 300)
    figures["answered_4xx"] = sum(n for code, n in codes.items() if 400 <= code < 500)
    figures["server_errors"] = internal
    figures["unavailable_503"] = unavailable
    assert internal == 0, shared_server.log_text()[-4000:]
