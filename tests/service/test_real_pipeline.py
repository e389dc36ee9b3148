"""The service with the real pipeline: one integration pass, and schemathesis over the schema.

The pipeline is built once for this process (support.real_translator) and handed to each app as
its start-up loader, so the lifespan path the service runs in production is the one tested.
"""

import logging

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from klarjournal.service.app import create_app
from klarjournal.service.settings import Settings
from tests.service.support import CLINICIAN_KEY, KEYS, bearer, real_translator

NOTE = ("Anamnese: Pt. indlagt med dyspnø. BT 145/90.\n"
        "Objektivt: Ingen tegn på DVT.\n"
        "Konklusion: Pneumoni. Penicillin 1 mio IE x 4 i 7 dage.")


@pytest.fixture(scope="module")
def client():
    app = create_app(Settings(api_keys=KEYS), load=lambda _: real_translator())
    with TestClient(app) as client:
        yield client


def test_real_pipeline_translates_through_the_service(client, caplog):
    with caplog.at_level(logging.DEBUG):
        response = client.post("/v1/translate", headers=bearer(CLINICIAN_KEY), json={
            "text": NOTE, "id": "int-1", "options": {"detail": "uddybet",
                                                     "specialty": "kardiologi"}})
    assert response.status_code == 200
    body = response.json()
    assert body["original"] == NOTE and body["id"] == "int-1"
    assert body["versions"] == real_translator().versions
    for span in body["spans"]:
        assert NOTE[span["start"]:span["end"]] == span["surface"]
        assert body["plain"][span["plain_start"]:span["plain_end"]].casefold() \
            == span["plain"].casefold()
    for kept in ("145/90", "1 mio", "x 4", "7 dage"):
        assert kept in body["plain"]
    assert {item["term"] for item in body["glossary"]} >= {"dyspnø", "DVT"}
    assert "dyspnø" not in caplog.text and "Pneumoni" not in caplog.text


def test_real_pipeline_batch_lookup_and_readiness(client):
    batch = client.post("/v1/translate/batch", headers=bearer(CLINICIAN_KEY), json={
        "notes": [{"id": "a", "text": NOTE}, {"id": "b", "text": "Pt. har dyspnø."}]}).json()
    assert batch["errors"] == 0
    assert [r["translation"]["id"] for r in batch["results"]] == ["a", "b"]
    lookup = client.get("/v1/lexicon/DVT", headers=bearer(CLINICIAN_KEY)).json()
    assert lookup["entry"]["id"] == "dvt"
    ready = client.get("/readyz").json()
    assert ready["model_status"] in {"loaded", "degraded", "disabled"}
    assert ready["versions"]["lexicon"]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                         ids=["valid", "invalid"])
def test_schema_holds_for_generated_requests(mode):
    # Every generated request, valid or not, must get a documented answer in the documented
    # shape, never a 500; schemathesis also checks that bad credentials are refused.
    app = create_app(Settings(api_keys=KEYS), load=lambda _: real_translator())
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 7
    for operation in operations:
        if mode is GenerationMode.NEGATIVE and not (operation.body or operation.path_parameters):
            continue  # nothing in the request that could be invalid
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=20, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate(headers=bearer(CLINICIAN_KEY))

        check()
