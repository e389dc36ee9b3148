"""Settings from the environment, the bind rule, start-up warnings and `klarjournal serve`."""

import logging

import pytest
from fastapi.testclient import TestClient

from klarjournal.pipeline.cli import main
from klarjournal.service.app import create_app
from klarjournal.service.deps import match_key
from klarjournal.service.settings import Settings, check_bind, load_settings
from tests.service.support import StubTranslator


def test_api_keys_parse_from_environment(monkeypatch):
    monkeypatch.setenv("KLARJOURNAL_API_KEYS", " portal:abc , clinician:d:e,")
    monkeypatch.setenv("KLARJOURNAL_LEXICON_OVERLAYS", "a.jsonl,b.jsonl")
    settings = load_settings()
    assert [(k.role, k.key) for k in settings.api_keys] == [("portal", "abc"),
                                                             ("clinician", "d:e")]
    assert [p.name for p in settings.lexicon_overlays] == ["a.jsonl", "b.jsonl"]
    assert "abc" not in repr(settings)


@pytest.mark.parametrize("value", ["admin:secret-value", "portal", "portal:", "clinician:  "])
def test_bad_api_keys_are_refused_without_echoing_them(monkeypatch, value):
    monkeypatch.setenv("KLARJOURNAL_API_KEYS", value)
    with pytest.raises(ValueError, match="KLARJOURNAL_API_KEYS") as caught:
        load_settings()
    assert "secret-value" not in str(caught.value)


@pytest.mark.parametrize("presented,role", [("abc", "portal"), ("xyz", "clinician"),
                                            ("ab", None), ("abcd", None), ("", None),
                                            ("æøå", None)])
def test_keys_match_exactly(presented, role):
    settings = Settings(api_keys="portal:abc,clinician:xyz")
    assert match_key(settings.api_keys, presented) == role


@pytest.mark.parametrize("host,keys,ok", [
    ("127.0.0.1", "", True), ("localhost", "", True), ("::1", "", True),
    ("0.0.0.0", "", False), ("192.168.1.10", "", False), ("example.org", "", False),
    ("0.0.0.0", "portal:k", True),
])
def test_without_keys_only_loopback_may_be_bound(host, keys, ok):
    settings = Settings(api_keys=keys)
    if ok:
        check_bind(host, settings)
    else:
        with pytest.raises(ValueError, match="without API keys"):
            check_bind(host, settings)


def test_serve_refuses_public_host_without_keys(monkeypatch, capsys):
    monkeypatch.delenv("KLARJOURNAL_API_KEYS", raising=False)
    assert main(["serve", "--host", "0.0.0.0"]) == 2
    assert "refusing to listen on '0.0.0.0'" in capsys.readouterr().err


@pytest.mark.parametrize("workers,keys", [(1, ""), (3, "clinician:k1")])
def test_serve_prints_how_to_open_and_authenticate(monkeypatch, capsys, workers, keys):
    import uvicorn

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    monkeypatch.setenv("KLARJOURNAL_API_KEYS", keys)
    # Already set, as after serve's restart in a clean process (which would replace pytest).
    monkeypatch.setenv("MALLOC_ARENA_MAX", "2")
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "262144")
    monkeypatch.setattr("klarjournal.service.runtime.prepare_process", lambda settings: [])
    assert main(["serve", "--port", "8123", "--workers", str(workers)]) == 0
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8123/preview" in out
    assert "Authorization: Bearer KEY" in out
    app, kwargs = calls[0]
    assert kwargs["port"] == 8123 and kwargs["host"] == "127.0.0.1"
    if workers > 1:
        assert app == "klarjournal.service.cli:served_app" and kwargs["factory"] is True
        assert kwargs["workers"] == workers


@pytest.mark.parametrize("keys,status", [("", "loaded"), ("portal:k", "degraded")])
def test_startup_warns_loudly_without_keys_and_when_degraded(caplog, keys, status):
    class Stub(StubTranslator):
        model_status = status

    app = create_app(Settings(api_keys=keys), load=lambda _: Stub())
    with caplog.at_level(logging.INFO, logger="klarjournal"), TestClient(app) as client:
        ready = client.get("/readyz").json()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("NO API KEYS" in w for w in warnings) == (keys == "")
    assert any("lexicon-only" in w for w in warnings) == (status == "degraded")
    assert ready["status"] == ("degraded" if status == "degraded" else "ok")
