"""Test helpers for the service: a tiny stub translator and app/client builders.

The stub follows the pipeline's API and the shape of spec/translation-output.md, so route tests
run in milliseconds without loading spaCy or a model.
"""

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from klarjournal.service.app import create_app
from klarjournal.service.deps import get_translator
from klarjournal.service.settings import Settings

PORTAL_KEY = "portal-test-key-0001"
CLINICIAN_KEY = "clinician-test-key-0002"
KEYS = f"portal:{PORTAL_KEY},clinician:{CLINICIAN_KEY}"
# A stub note containing this word makes the stub fail, with the note in the exception message.
FAIL_TRIGGER = "STUBFEJL"

_LEXICON = {
    "Pt.": ("pt", "abbreviation", "patienten", "patienten", 1.0),
    "BT": ("bt", "abbreviation", "blodtryk", "blodtryk", 1.0),
    "DVT": ("dvt", "abbreviation", "dyb venetrombose", "blodprop i en dyb vene", 1.0),
    "dyspnø": ("dyspnoe", "term", "dyspnø", "åndenød", 1.0),
    "p.o.": ("po", "abbreviation", "per os", "gennem munden", 0.6),
}
_PATTERN = re.compile("|".join(rf"(?<!\w){re.escape(s)}(?!\w)" for s in _LEXICON))
_UNKNOWN = re.compile(r"\b[A-ZÆØÅ]{4,6}\b")


@dataclass
class StubTranslation:
    data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return self.data


class StubTranslator:
    max_chars = 2000
    model_status = "loaded"
    versions = {"klarjournal": "0.1.0", "lexicon": "stub", "model": "stub"}

    def translate(self, text: str, note_id: str | None = None,
                  specialty: str | None = None) -> StubTranslation:
        if FAIL_TRIGGER in text:
            raise ValueError(f"stub cannot translate {text!r}")
        spans, plain, cursor = [], "", 0
        for match in _PATTERN.finditer(text):
            entry, kind, expansion, lay, confidence = _LEXICON[match.group()]
            plain += text[cursor:match.start()]
            spans.append({"start": match.start(), "end": match.end(), "surface": match.group(),
                          "kind": kind, "expansion": expansion, "plain": lay,
                          "plain_start": len(plain), "plain_end": len(plain) + len(lay),
                          "source": "lexicon" if confidence == 1.0 else "model",
                          "confidence": confidence, "negated": False, "entry": entry})
            plain += lay
            cursor = match.end()
        plain += text[cursor:]
        unresolved = [{"start": m.start(), "end": m.end(), "surface": m.group(),
                       "reason": "no lexicon entry"}
                      for m in _UNKNOWN.finditer(text) if m.group() != FAIL_TRIGGER]
        return StubTranslation({
            "id": note_id, "original": text, "plain": plain, "spans": spans,
            "sections": [{"start": 0, "end": len(text), "heading": None, "plain_heading": None}],
            "unresolved": unresolved, "versions": dict(self.versions)})

    def translate_many(self, texts: list[str], note_ids: list[str | None] | None = None,
                       specialties: list[str | None] | None = None) -> list[StubTranslation]:
        ids = note_ids or [None] * len(texts)
        specs = specialties or [None] * len(texts)
        return [self.translate(text, note_id, specialty)
                for text, note_id, specialty in zip(texts, ids, specs, strict=True)]

    def lookup(self, term: str) -> dict[str, Any]:
        for surface, (entry, kind, expansion, lay, _) in _LEXICON.items():
            if surface.casefold() == term.casefold():
                return {"term": term, "rendered": lay, "why": f"matched entry {entry!r}",
                        "entry": {"id": entry, "kind": kind,
                                  "senses": [{"id": entry, "expansion": expansion}]}}
        return {"term": term, "rendered": term, "why": "no lexicon entry matches this form"}


def make_app(keys: str = "", translator: Any = None, **settings: Any) -> FastAPI:
    app = create_app(Settings(api_keys=keys, **settings))
    stub = translator if translator is not None else StubTranslator()
    app.dependency_overrides[get_translator] = lambda: stub
    return app


@cache
def real_translator() -> Any:
    """The real pipeline, built once per test process and shared by every test that needs it."""
    from klarjournal.pipeline import load_translator

    return load_translator()


def make_client(keys: str = "", translator: Any = None, **settings: Any) -> TestClient:
    # Not entered as a context manager, so the lifespan (the real pipeline) does not start.
    return TestClient(make_app(keys, translator, **settings), raise_server_exceptions=False)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
