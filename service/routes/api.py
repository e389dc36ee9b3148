"""``/v1``: translation for the portal and clinicians, lexicon look-ups for clinicians."""

from typing import Annotated, Any

import anyio.to_thread
from anyio import CapacityLimiter
from fastapi import APIRouter, Depends, HTTPException, Path
from fastapi.responses import Response

from klarjournal.service.audio import AudioUnavailable, espeak_path, speak
from klarjournal.service.batching import TranslationQueue
from klarjournal.service.deps import (
    ClinicianOnly,
    PortalOrClinician,
    TranslatorLike,
    get_limiter,
    get_metrics,
    get_queue,
    get_settings,
    get_translator,
    note_limit,
)
from klarjournal.service.metrics import ServiceMetrics
from klarjournal.service.responses import JSONBytes
from klarjournal.service.schemas import (
    BatchRequest,
    BatchResponse,
    ErrorBody,
    LexiconLookup,
    TranslateRequest,
    Translation,
)
from klarjournal.service.settings import Settings
from klarjournal.service.translation import (
    describe_failure,
    logger,
    translate_batch,
    translate_note,
)

Translator = Annotated[TranslatorLike, Depends(get_translator)]
Limiter = Annotated[CapacityLimiter, Depends(get_limiter)]
Metrics = Annotated[ServiceMetrics, Depends(get_metrics)]
Queue = Annotated[TranslationQueue, Depends(get_queue)]
AppSettings = Annotated[Settings, Depends(get_settings)]

_errors: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing or invalid API key."},
    403: {"model": ErrorBody, "description": "The key's role may not call this endpoint."},
    422: {"model": ErrorBody, "description": "Malformed JSON, a wrong type or invalid unicode; "
                                             "`errors` names each field."},
}
_size_errors: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorBody, "description": "Note, batch or request body over the limit."},
}

router = APIRouter(prefix="/v1", responses=_errors)


@router.post("/translate", response_model=Translation, dependencies=[PortalOrClinician],
             responses=_size_errors, summary="Translate one note")
async def translate(body: TranslateRequest, translator: Translator, queue: Queue,
                    metrics: Metrics, settings: AppSettings) -> Response:
    """The note's patient text with every replaced term traced to its place in the original
    (the shared object of spec/translation-output.md). `options.detail = uddybet` adds
    `glossary`, "ord i dit notat"."""
    return JSONBytes(await translate_note(body, translator, queue, metrics,
                                          note_limit(translator, settings)))


@router.post("/translate/batch", response_model=BatchResponse, dependencies=[PortalOrClinician],
             responses=_size_errors, summary="Translate several notes")
async def translate_many(body: BatchRequest, translator: Translator, queue: Queue,
                         metrics: Metrics, settings: AppSettings) -> Response:
    """Up to the batch limit (default 64, see `/readyz` `limits`) notes, one result each in
    request order. A note that cannot be translated (too long, pipeline failure) gets an
    `error` entry; the other notes are still translated."""
    return JSONBytes(
        await translate_batch(body, translator, queue, metrics,
                              note_limit(translator, settings), settings.max_batch))


@router.get("/lexicon/{term}", response_model=LexiconLookup, dependencies=[ClinicianOnly],
            summary="What a term means and how it is rendered")
async def lexicon_lookup(term: Annotated[str, Path(min_length=1, max_length=100,
                                                   examples=["DVT"])],
                         translator: Translator, limiter: Limiter) -> Response:
    """The entry and its senses, the rendering the pipeline gives the term on its own, and
    why; for a term without an entry, `why` says so (and whether it is everyday Danish)."""
    found = await anyio.to_thread.run_sync(translator.lookup, term, limiter=limiter)
    return JSONBytes({**found, "term": term})


@router.post("/audio", dependencies=[PortalOrClinician], summary="Patient text read aloud",
             response_class=Response,
             responses={**_size_errors,
                        200: {"content": {"audio/wav": {}},
                              "description": "WAV, Danish voice (espeak-ng)."},
                        503: {"model": ErrorBody, "description": "espeak-ng is not installed."}})
async def audio(body: TranslateRequest, translator: Translator, queue: Queue,
                limiter: Limiter, metrics: Metrics, settings: AppSettings) -> Response:
    """Translates the note and returns its patient text as speech, for patients who cannot
    read the screen."""
    if espeak_path() is None:
        raise HTTPException(503, "audio is unavailable: espeak-ng is not installed on the "
                                 "server (Debian: apt-get install espeak-ng)")
    result = await translate_note(body, translator, queue, metrics,
                                  note_limit(translator, settings))
    try:
        wav = await anyio.to_thread.run_sync(speak, result["plain"], settings.audio_timeout,
                                             limiter=limiter)
    except (AudioUnavailable, OSError) as exc:
        logger.error("audio failed: %s", describe_failure(exc))
        raise HTTPException(503, "audio is unavailable: espeak-ng could not speak this "
                                 "note") from None
    return Response(wav, media_type="audio/wav")
