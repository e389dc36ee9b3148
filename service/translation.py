"""Running the pipeline for requests: off the event loop, within limits, never leaking text.

Pipeline failures are logged by exception type and code location only: an exception message may
quote the note, and logs must never hold note text.
"""

import logging
import traceback
from typing import Any

from fastapi import HTTPException

from klarjournal.service.batching import TranslationQueue
from klarjournal.service.deps import TranslatorLike
from klarjournal.service.metrics import ServiceMetrics, is_low_confidence
from klarjournal.service.schemas import BatchRequest, TranslateOptions, TranslateRequest

logger = logging.getLogger("klarjournal.service")


def describe_failure(exc: BaseException) -> str:
    """Exception type and innermost code location, without the (possibly note-quoting) message."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {frames[-1].filename}:{frames[-1].lineno} in {frames[-1].name}" if frames else ""
    return f"{type(exc).__name__}{where}"


def too_long(length: int, limit: int) -> str:
    return (f"note has {length} characters; the limit is {limit}. Split the note, e.g. by "
            "section, and send the parts separately.")


async def translate_note(request: TranslateRequest, translator: TranslatorLike,
                         queue: TranslationQueue, metrics: ServiceMetrics,
                         max_chars: int) -> dict[str, Any]:
    if len(request.text) > max_chars:
        metrics.note_errors.labels(reason="too_long").inc()
        raise HTTPException(413, too_long(len(request.text), max_chars))
    [outcome] = await queue.translate(translator, [request.text], [request.id],
                                      [request.options.specialty])
    if isinstance(outcome, BaseException):
        metrics.note_errors.labels(reason="pipeline").inc()
        logger.error("translation failed: %s", describe_failure(outcome))
        raise HTTPException(500, "the pipeline failed on this note; the failure is logged "
                                 "without the note text")
    metrics.observe_translations([outcome])
    return with_detail(outcome, request.options)


async def translate_batch(request: BatchRequest, translator: TranslatorLike,
                          queue: TranslationQueue, metrics: ServiceMetrics,
                          max_chars: int, max_batch: int) -> dict[str, Any]:
    if len(request.notes) > max_batch:
        raise HTTPException(413, f"batch has {len(request.notes)} notes; the limit is "
                                 f"{max_batch}. Send several batches.")
    results: list[dict[str, Any]] = [
        {"index": i, "id": note.id, "translation": None, "error": None}
        for i, note in enumerate(request.notes)]
    runnable = []
    for i, note in enumerate(request.notes):
        if len(note.text) > max_chars:
            metrics.note_errors.labels(reason="too_long").inc()
            results[i]["error"] = {"status": 413, "message": too_long(len(note.text), max_chars)}
        else:
            runnable.append(i)
    outcomes = await queue.translate(
        translator, [request.notes[i].text for i in runnable],
        [request.notes[i].id for i in runnable],
        [request.notes[i].specialty or request.options.specialty for i in runnable])
    for i, outcome in zip(runnable, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            metrics.note_errors.labels(reason="pipeline").inc()
            logger.error("translation failed (batch note %d): %s", i, describe_failure(outcome))
            results[i]["error"] = {"status": 500, "message": "the pipeline failed on this note; "
                                   "the failure is logged without the note text"}
        else:
            metrics.observe_translations([outcome])
            results[i]["translation"] = with_detail(outcome, request.options)
    return {"results": results, "errors": sum(1 for r in results if r["error"])}


def with_detail(result: dict[str, Any], options: TranslateOptions) -> dict[str, Any]:
    if options.detail == "uddybet":
        return {**result, "glossary": glossary(result)}
    return result


_KIND_PHRASES = {
    "abbreviation": "en forkortelse for »{expansion}«",
    "term": "et fagord",
    "phrase": "et fagligt udtryk",
}


def glossary(result: dict[str, Any]) -> list[dict[str, Any]]:
    """"Ord i dit notat": one Danish explanation per distinct replaced term, in note order."""
    items = []
    seen = set()
    for span in result["spans"]:
        plain = span["plain"]
        key = (span.get("entry") or span["surface"].casefold(), plain.casefold())
        if key in seen:
            continue
        seen.add(key)
        expansion = span.get("expansion")
        kind = _KIND_PHRASES.get(span.get("kind", ""), "et fagord")
        if "{expansion}" in kind and not expansion:
            kind = "en forkortelse"
        sentence = f"»{span['surface']}« er {kind.format(expansion=expansion)}"
        if not expansion or expansion.casefold() != plain.casefold():
            sentence += f", som betyder »{plain}«"
        sentence += "."
        if span.get("source") == "morphology":
            sentence += " Forklaringen er udledt af ordets latinske eller græske dele."
        elif span.get("source") == "fuzzy":
            sentence += " Ordet er genkendt, selv om det er stavet eller bøjet lidt anderledes."
        if is_low_confidence(span):
            sentence += " Forklaringen er usikker; spørg gerne den, der har skrevet notatet."
        items.append({"term": span["surface"], "plain": plain, "expansion": expansion,
                      "explanation": sentence})
    return items
