"""The HTTP API against a stub translator: shapes, limits, errors, roles and headers."""

import json
import logging

import pytest

from tests.service.support import (
    CLINICIAN_KEY,
    FAIL_TRIGGER,
    KEYS,
    PORTAL_KEY,
    StubTranslator,
    bearer,
    make_client,
)

NOTE = "Pt. indlagt med dyspnø. BT 145/90. Ingen tegn på DVT."
SPEC_KEYS = {"id", "original", "plain", "spans", "sections", "unresolved", "versions"}
SPAN_KEYS = {"start", "end", "surface", "kind", "expansion", "plain", "plain_start", "plain_end",
             "source", "confidence", "negated", "entry"}


@pytest.fixture
def client():
    return make_client()


@pytest.fixture
def keyed():
    return make_client(keys=KEYS)


def test_translate_returns_spec_shape(client):
    response = client.post("/v1/translate", json={"text": NOTE, "id": "kard-0007"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == SPEC_KEYS
    assert body["id"] == "kard-0007"
    assert body["original"] == NOTE
    assert "åndenød" in body["plain"] and "145/90" in body["plain"]
    for span in body["spans"]:
        assert set(span) >= SPAN_KEYS
        assert NOTE[span["start"]:span["end"]] == span["surface"]
        assert body["plain"][span["plain_start"]:span["plain_end"]] == span["plain"]


def test_kort_has_no_glossary_and_uddybet_explains_each_replaced_term(client):
    kort = client.post("/v1/translate", json={"text": NOTE, "options": {"detail": "kort"}})
    assert "glossary" not in kort.json()
    uddybet = client.post("/v1/translate", json={"text": NOTE + " Igen DVT.",
                                                 "options": {"detail": "uddybet"}}).json()
    terms = [item["term"] for item in uddybet["glossary"]]
    assert terms == ["Pt.", "dyspnø", "BT", "DVT"]  # note order, DVT once
    dvt = uddybet["glossary"][-1]
    assert dvt["plain"] == "blodprop i en dyb vene"
    assert "forkortelse for »dyb venetrombose«" in dvt["explanation"]


def test_glossary_flags_low_confidence_readings(client):
    body = client.post("/v1/translate", json={"text": "Tbl. gives p.o.",
                                              "options": {"detail": "uddybet"}}).json()
    assert "usikker" in body["glossary"][0]["explanation"]


def test_specialty_option_reaches_the_pipeline():
    seen = {}

    class Recording(StubTranslator):
        def translate(self, text, note_id=None, specialty=None):
            seen["specialty"] = specialty
            return super().translate(text, note_id)

    make_client(translator=Recording()).post(
        "/v1/translate", json={"text": NOTE, "options": {"specialty": "kardiologi"}})
    assert seen["specialty"] == "kardiologi"


def test_batch_keeps_order_and_isolates_a_bad_note(client):
    notes = [{"id": "a", "text": NOTE},
             {"id": "b", "text": "x" * (StubTranslator.max_chars + 1)},
             {"id": "c", "text": f"Pt. {FAIL_TRIGGER}"},
             {"id": "d", "text": "BT 120/80."}]
    response = client.post("/v1/translate/batch", json={"notes": notes})
    assert response.status_code == 200
    body = response.json()
    assert [r["id"] for r in body["results"]] == ["a", "b", "c", "d"]
    assert body["errors"] == 2
    assert body["results"][0]["translation"]["original"] == NOTE
    assert body["results"][1]["error"]["status"] == 413
    assert body["results"][2]["error"]["status"] == 500
    assert body["results"][3]["translation"]["plain"] == "blodtryk 120/80."


@pytest.mark.parametrize("path,payload", [
    ("/v1/translate", {"text": "x" * (StubTranslator.max_chars + 1)}),
    ("/v1/translate/batch", {"notes": [{"text": "BT"}] * 3}),
])
def test_over_limit_requests_get_413_with_a_reason(path, payload):
    response = make_client(max_batch=2).post(path, json=payload)
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]


def test_body_over_byte_limit_gets_413_before_parsing():
    client = make_client(max_body_bytes=1024)
    response = client.post("/v1/translate", content=b'{"text": "' + b"a" * 2000 + b'"}',
                           headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert "1024 bytes" in response.json()["detail"]


@pytest.mark.parametrize("body,field", [
    (b'{"text": "Pt. har', "body"),
    (b'{"text": 5}', "body.text"),
    (b'{"text": ""}', "body.text"),
    (b'{"text": "ok", "options": {"detail": "lang"}}', "body.options.detail"),
    (b'{"text": "ok", "options": {"colour": 1}}', "body.options.colour"),
    (b'{"text": "bad \\ud800 surrogate"}', "body.text"),
    (b'{"text": "\xff\xfe not utf-8"}', "body"),
    (b"[]", "body"),
    (b"null", "body"),
])
def test_bad_input_gets_422_naming_the_field(client, body, field):
    response = client.post("/v1/translate", content=body,
                           headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    payload = response.json()
    assert field in [error["field"] for error in payload["errors"]]
    assert field in payload["detail"]


def test_pipeline_failure_is_500_without_note_text(client, caplog):
    marker = f"{FAIL_TRIGGER} hemmelig-markør-7731"
    with caplog.at_level(logging.DEBUG):
        response = client.post("/v1/translate", json={"text": marker})
    assert response.status_code == 500
    assert "hemmelig" not in response.text
    assert "ValueError" in caplog.text
    assert "hemmelig" not in caplog.text


def test_note_text_never_reaches_logs_errors_or_metrics(client, caplog):
    marker = "Zq9markørXv"
    requests = [
        ("/v1/translate", {"text": f"Pt. {marker} BT", "id": "m1"}),
        ("/v1/translate", {"text": f"{marker} " * 1500}),                     # 413
        ("/v1/translate", {"text": f"{marker}", "options": {"detail": 7}}),    # 422
        ("/v1/translate", {"text": f"{FAIL_TRIGGER} {marker}"}),               # 500
        ("/v1/translate/batch", {"notes": [{"text": marker},
                                           {"text": f"{FAIL_TRIGGER} {marker}"}]}),
    ]
    with caplog.at_level(logging.DEBUG):
        bodies = []
        for path, payload in requests:
            response = client.post(path, json=payload)
            if response.status_code != 200:
                bodies.append(response.text)
            elif path.endswith("batch"):
                bodies.extend(json.dumps(r["error"]) for r in response.json()["results"]
                              if r["error"])
        metrics = client.get("/metrics").text
    assert len(bodies) == 4
    for text in (*bodies, metrics, caplog.text):
        assert marker not in text


@pytest.mark.parametrize("method,path,key,status", [
    ("POST", "/v1/translate", None, 401),
    ("POST", "/v1/translate", "wrong-key", 401),
    ("POST", "/v1/translate", PORTAL_KEY, 200),
    ("POST", "/v1/translate", CLINICIAN_KEY, 200),
    ("POST", "/v1/translate/batch", None, 401),
    ("POST", "/v1/translate/batch", PORTAL_KEY, 200),
    ("POST", "/v1/translate/batch", CLINICIAN_KEY, 200),
    ("GET", "/v1/lexicon/DVT", None, 401),
    ("GET", "/v1/lexicon/DVT", PORTAL_KEY, 403),
    ("GET", "/v1/lexicon/DVT", CLINICIAN_KEY, 200),
    ("POST", "/v1/audio", None, 401),
    ("POST", "/v1/audio", CLINICIAN_KEY[:-1], 401),
    ("GET", "/healthz", None, 200),
    ("GET", "/readyz", None, 200),
    ("GET", "/preview", None, 200),
])
def test_roles_decide_access(keyed, method, path, key, status):
    payload = {"notes": [{"text": NOTE}]} if path.endswith("batch") else {"text": NOTE}
    response = keyed.request(method, path, headers=bearer(key) if key else {},
                             json=payload if method == "POST" else None)
    assert response.status_code == status
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"


def test_non_bearer_scheme_is_401(keyed):
    response = keyed.post("/v1/translate", json={"text": NOTE},
                          headers={"Authorization": f"Basic {PORTAL_KEY}"})
    assert response.status_code == 401


def test_lexicon_lookup_explains_known_and_unknown_terms(client):
    found = client.get("/v1/lexicon/DVT").json()
    assert found["term"] == "DVT" and found["rendered"] == "blodprop i en dyb vene"
    assert found["entry"]["senses"][0]["expansion"] == "dyb venetrombose"
    unknown = client.get("/v1/lexicon/ukendtord")
    assert unknown.status_code == 200
    assert "no lexicon entry" in unknown.json()["why"] and unknown.json().get("entry") is None


def test_readyz_reports_versions_limits_and_degraded_model():
    class Degraded(StubTranslator):
        model_status = "degraded"

    ok = make_client().get("/readyz").json()
    assert ok["status"] == "ok" and ok["versions"]["lexicon"] == "stub"
    assert ok["limits"]["max_chars"] == StubTranslator.max_chars
    degraded = make_client(translator=Degraded()).get("/readyz").json()
    assert degraded["status"] == "degraded"


def test_metrics_count_requests_spans_and_unresolved(client):
    client.post("/v1/translate", json={"text": "Pt. har DVT og XQZW."})
    metrics = client.get("/metrics").text
    assert 'klarjournal_http_requests_total{method="POST",route="/v1/translate",status="200"} 1.0' \
        in metrics
    assert 'klarjournal_spans_total{kind="abbreviation",source="lexicon"} 2.0' in metrics
    assert "klarjournal_unresolved_total 1.0" in metrics
    assert "klarjournal_http_request_duration_seconds_bucket" in metrics


def test_metrics_label_lexicon_lookups_by_template_not_term(client):
    client.get("/v1/lexicon/DVT")
    assert 'route="/v1/lexicon/{term}"' in client.get("/metrics").text


@pytest.mark.parametrize("path", ["/preview", "/healthz", "/v1/translate"])
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    headers = response.headers
    assert headers["content-security-policy"].startswith("default-src 'self'")
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"


def test_patient_texts_are_not_cached(client):
    response = client.post("/v1/translate", json={"text": NOTE})
    assert response.headers["cache-control"] == "no-store"


def test_cors_is_closed_by_default_and_opens_only_for_named_origins(client):
    preflight = {"Origin": "https://portal.example", "Access-Control-Request-Method": "POST"}
    assert "access-control-allow-origin" not in client.options(
        "/v1/translate", headers=preflight).headers
    assert "access-control-allow-origin" not in client.post(
        "/v1/translate", json={"text": NOTE}, headers={"Origin": "https://evil.example"}).headers
    opened = make_client(cors_origins="https://portal.example")
    allowed = opened.options("/v1/translate", headers=preflight)
    assert allowed.headers["access-control-allow-origin"] == "https://portal.example"


def test_openapi_documents_endpoints_with_examples(client):
    schema = client.get("/openapi.json").json()
    for path in ("/v1/translate", "/v1/translate/batch", "/v1/lexicon/{term}", "/v1/audio",
                 "/healthz", "/readyz", "/metrics", "/preview"):
        assert path in schema["paths"]
    request = schema["components"]["schemas"]["TranslateRequest"]
    assert request["examples"][0]["text"]
    assert "HTTPBearer" in schema["components"]["securitySchemes"]


def test_preview_page_and_assets_are_served_locally(client):
    page = client.get("/preview")
    assert page.headers["content-type"].startswith("text/html")
    assert 'lang="da"' in page.text
    assert "http://" not in page.text and "https://" not in page.text
    for asset in ("/static/preview.js", "/static/preview.css", "/static/samples.json"):
        assert client.get(asset).status_code == 200
    script = client.get("/static/preview.js").text
    assert "innerHTML" not in script and "outerHTML" not in script
