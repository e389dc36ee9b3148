"""Micro-batching, fast result conversion and the serving process set-up.

Concurrency is arranged with a gate in the stub's pipeline call and by watching the queue, never
by timing.
"""

import asyncio
import os
import subprocess
import sys
import threading
from typing import Any

import httpx

from klarjournal.service.batching import translation_dict
from klarjournal.service.cli import needs_fresh_process
from klarjournal.service.settings import Settings
from tests.service.support import FAIL_TRIGGER, StubTranslator, make_app, real_translator

NOTE = "Pt. indlagt med dyspnø. BT 145/90. Ingen tegn på DVT."


class GatedStub(StubTranslator):
    """Holds its first pipeline call until ``gate`` is set; records the notes per call."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.gate = threading.Event()

    def translate_many(self, texts: list[str], note_ids: Any = None,
                       specialties: Any = None) -> list[Any]:
        self.calls.append(list(texts))
        if len(self.calls) == 1:
            assert self.gate.wait(timeout=60), "test never opened the gate"
        return super().translate_many(texts, note_ids, specialties)


async def _until(condition: Any) -> None:
    for _ in range(6000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition never became true")


def _run_concurrently(texts_after_first: list[str]) -> tuple[GatedStub, list[httpx.Response]]:
    """One request enters the pipeline; the others arrive while it is busy."""
    stub = GatedStub()
    app = make_app(translator=stub)

    async def scenario() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            first = asyncio.create_task(client.post("/v1/translate", json={"text": NOTE,
                                                                           "id": "first"}))
            await _until(lambda: stub.calls)
            others = [asyncio.create_task(client.post(
                "/v1/translate", json={"text": text, "id": f"n{i}"}))
                for i, text in enumerate(texts_after_first)]
            await _until(lambda: len(app.state.queue._waiting) == len(texts_after_first))
            stub.gate.set()
            return list(await asyncio.gather(first, *others))

    return stub, asyncio.run(scenario())


def test_requests_waiting_together_share_one_pipeline_call():
    texts = [f"BT {100 + i}/80. Pt. har dyspnø." for i in range(5)]
    stub, responses = _run_concurrently(texts)
    assert [len(call) for call in stub.calls] == [1, 5]
    assert sorted(stub.calls[1]) == sorted(texts)
    assert all(r.status_code == 200 for r in responses)
    # Each request gets its own note back, not a neighbour's.
    assert [r.json()["original"] for r in responses] == [NOTE, *texts]
    assert [r.json()["id"] for r in responses] == ["first", *(f"n{i}" for i in range(5))]


def test_a_failing_note_fails_alone_within_a_shared_call(caplog):
    secret = "hemmelig-7731"
    texts = ["BT 120/80.", f"{FAIL_TRIGGER} {secret}", "Pt. har DVT."]
    stub, responses = _run_concurrently(texts)
    assert [r.status_code for r in responses] == [200, 200, 500, 200]
    assert responses[3].json()["original"] == "Pt. har DVT."
    assert secret not in responses[2].text and secret not in caplog.text


def test_metrics_show_notes_per_pipeline_call():
    stub = GatedStub()
    stub.gate.set()
    app = make_app(translator=stub)

    async def scenario() -> str:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            await client.post("/v1/translate/batch", json={"notes": [{"text": NOTE}] * 3})
            return (await client.get("/metrics")).text

    metrics = asyncio.run(scenario())
    assert "klarjournal_pipeline_batch_notes_sum 3.0" in metrics
    assert 'klarjournal_translate_seconds_count{call="batch"} 1.0' in metrics


def test_fast_conversion_equals_to_dict_for_the_real_pipeline():
    translator = real_translator()
    notes = [NOTE, "Anamnese: Pt. med KOL i exacerbation.\nObjektivt: St.p. u.a.",
             "Start penicillin 1 mio IE x 4 p.o. i 7 dage. Obs. pneumoni?"]
    for translation in translator.translate_many(notes):
        assert translation_dict(translation) == translation.to_dict()


def test_serve_restarts_clean_only_when_it_would_help(monkeypatch):
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "262144")
    assert needs_fresh_process(Settings(use_model=True))
    monkeypatch.setenv("MALLOC_ARENA_MAX", "2")
    assert not needs_fresh_process(Settings(use_model=True))
    import torch  # noqa: F401  (as the pipeline's CLI has, before `serve` runs)

    assert needs_fresh_process(Settings(use_model=False))


def test_lexicon_only_service_process_never_loads_torch():
    code = ("import sys\n"
            "from klarjournal.service.runtime import prepare_process\n"
            "from klarjournal.service.settings import Settings\n"
            "print(prepare_process(Settings(use_model=False)))\n"
            "from klarjournal.pipeline import load_translator\n"
            "t = load_translator(use_model=False)\n"
            "print(t.translate('Pt. har dyspnø.').plain)\n"
            "print('torch loaded:', sys.modules.get('torch') is not None)\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=600, check=True).stdout
    assert "torch loaded: False" in done
    assert "Patienten har åndenød." in done
    assert "MALLOC_ARENA_MAX=2" in done and "MALLOC_MMAP_THRESHOLD_=262144" in done


def test_served_pipeline_is_frozen_out_of_the_collector():
    import gc

    from klarjournal.service.runtime import frozen_after

    loaded = []
    load = frozen_after(lambda settings: loaded.append(settings) or StubTranslator())
    try:
        translator = load(Settings())
        assert isinstance(translator, StubTranslator) and len(loaded) == 1
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
