"""Micro-batching: notes from concurrent requests go through the pipeline together.

Every translate, batch and audio request puts its notes on one queue per app and awaits them.
A few *lanes* (``KLARJOURNAL_THREADS``, default 1) each take whatever is waiting, up to
``max_notes`` notes, and run it as one ``translate_many`` call in a worker thread: one thread
hand-off per batch instead of per request, and the context model scores the ambiguous spans of
several requests in one forward pass. Under the GIL, more lanes than cores only contend.

A failing call is redone note by note, so only the note that fails gets an error. Exceptions are
returned, not raised, and never formatted here: their messages may quote a note.
"""

import asyncio
import dataclasses
import sys
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

import anyio.to_thread
import orjson

from klarjournal.service.deps import TranslationLike, TranslatorLike
from klarjournal.service.metrics import ServiceMetrics

Outcome = dict[str, Any] | BaseException


def translation_dict(translation: TranslationLike) -> dict[str, Any]:
    """``translation.to_dict()``, computed fast for the pipeline's own Translation.

    Its ``to_dict`` is ``dataclasses.asdict``, which deep-copies every value: about 1 ms for a
    150-word note, a third of the pipeline's own time. orjson reads the dataclass directly
    (~0.07 ms there and back); tests check that both give the same object.
    """
    pipeline = sys.modules.get("klarjournal.pipeline.translation")
    if pipeline is not None and type(translation) is pipeline.Translation:
        try:
            return orjson.loads(orjson.dumps(translation, option=orjson.OPT_SERIALIZE_NUMPY))
        except (TypeError, orjson.JSONEncodeError):
            pass  # a value orjson does not know: the general path below
    return translation.to_dict()


@dataclasses.dataclass
class _Job:
    translator: TranslatorLike
    texts: Sequence[str]
    ids: Sequence[str | None]
    specialties: Sequence[str | None]
    future: asyncio.Future[list[Outcome]]


class TranslationQueue:
    """Notes waiting for the pipeline, and the lanes that run them."""

    def __init__(self, metrics: ServiceMetrics, lanes: int = 1, max_notes: int = 32) -> None:
        self.metrics = metrics
        self.lanes = lanes
        self.max_notes = max_notes
        self._waiting: deque[_Job] = deque()
        self._running = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def translate(self, translator: TranslatorLike, texts: Sequence[str],
                        ids: Sequence[str | None], specialties: Sequence[str | None]
                        ) -> list[Outcome]:
        """One outcome per note, in order: the translation as a dict, or the exception."""
        if not texts:
            return []
        future: asyncio.Future[list[Outcome]] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Job(translator, texts, ids, specialties, future))
        if self._running < self.lanes:
            self._running += 1
            task = asyncio.create_task(self._lane())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    def _take(self) -> list[_Job]:
        """Waiting jobs for one pipeline call: whole jobs, one translator, ≤ max_notes notes
        (a larger job runs alone)."""
        jobs = [self._waiting.popleft()]
        notes = len(jobs[0].texts)
        while self._waiting:
            following = self._waiting[0]
            if (following.translator is not jobs[0].translator
                    or notes + len(following.texts) > self.max_notes):
                break
            jobs.append(self._waiting.popleft())
            notes += len(following.texts)
        return jobs

    async def _lane(self) -> None:
        try:
            while self._waiting:
                jobs = [job for job in self._take() if not job.future.done()]
                if not jobs:
                    continue  # every requester gave up (client went away)
                try:
                    outcomes = await anyio.to_thread.run_sync(self._run, jobs)
                except BaseException as exc:  # cancelled at shutdown: nobody is left waiting
                    for job in jobs:
                        if job.future.done():
                            continue
                        if isinstance(exc, asyncio.CancelledError):
                            job.future.cancel()
                        else:
                            job.future.set_exception(exc)
                    raise
                first = 0
                for job in jobs:
                    if not job.future.done():
                        job.future.set_result(outcomes[first:first + len(job.texts)])
                    first += len(job.texts)
        finally:
            self._running -= 1

    def _run(self, jobs: list[_Job]) -> list[Outcome]:
        """In a worker thread: one pipeline call for all the jobs' notes."""
        translator = jobs[0].translator
        texts = [text for job in jobs for text in job.texts]
        ids = [note_id for job in jobs for note_id in job.ids]
        specialties = [specialty for job in jobs for specialty in job.specialties]
        started = time.perf_counter()
        try:
            outcomes: list[Outcome] = [translation_dict(t) for t in translator.translate_many(
                texts, note_ids=ids, specialties=specialties)]
        except Exception:
            # One bad note must not sink the others: redo one by one to find it.
            outcomes = [_translate_one(translator, text, note_id, specialty)
                        for text, note_id, specialty in zip(texts, ids, specialties, strict=True)]
        call = "single" if len(texts) == 1 else "batch"
        self.metrics.translate_seconds.labels(call=call).observe(time.perf_counter() - started)
        self.metrics.pipeline_batch_notes.observe(len(texts))
        return outcomes


def _translate_one(translator: TranslatorLike, text: str, note_id: str | None,
                   specialty: str | None) -> Outcome:
    try:
        return translation_dict(translator.translate(text, note_id=note_id, specialty=specialty))
    except Exception as exc:
        return exc
