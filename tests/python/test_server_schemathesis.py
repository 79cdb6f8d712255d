"""`nearstore serve` fuzzed from its own OpenAPI description (api/openapi.json) with
schemathesis: generated requests, valid and not, to every operation; no answer may be a 5xx,
every answer must match the description (status code, content type, headers, body schema),
and schema-invalid requests must be refused.

One check is left out, positive_data_acceptance (a request the schema allows must succeed):
the API has constraints across fields and state that a schema cannot state (quantization
needs an hnsw index, ef_construction >= m, a collection must exist and match the vector's
dimension), so schema-valid requests are rightly refused with 400 or 404."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from server_process import ServerProcess

import nearstore

REPO = Path(__file__).resolve().parents[2]
schema = schemathesis.openapi.from_path(REPO / "api" / "openapi.json")


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory):
    # Its access log tells a failure's story.
    server = ServerProcess(tmp_path_factory.mktemp("fuzzed") / "db")
    yield server
    assert server.stop() == 0, server.log()


def ensure_fuzz_collection(url: str) -> None:
    """"fuzz", the collection the description's examples name, exists and holds points before
    each case (a generated case may have dropped or emptied it), so that generated bodies reach
    the handlers' parsing and not only "no such collection"."""
    with nearstore.connect(url) as db:
        try:
            col = db.get_or_create_collection("fuzz", dim=3, metric="l2")
        except nearstore.InvalidArgumentError:  # re-created by a case with other settings
            db.drop_collection("fuzz")
            col = db.create_collection("fuzz", dim=3, metric="l2")
        if col.count() < 20:
            col.upsert([str(i) for i in range(20)], [[float(i), 1.0, 2.0] for i in range(20)],
                       [{"n": i, "city": "x" if i % 2 else "y"} for i in range(20)])


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_described(case, fuzzed: ServerProcess) -> None:
    ensure_fuzz_collection(fuzzed.url)
    case.call_and_validate(base_url=fuzzed.url, excluded_checks=[positive_data_acceptance])
