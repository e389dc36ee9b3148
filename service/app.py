"""The FastAPI application: ``create_app(settings)`` builds it; its lifespan loads the pipeline.

``klarjournal serve --workers N`` calls ``create_app`` with no arguments in every worker
(uvicorn factory mode), so settings then come from the environment.
"""

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from anyio import CapacityLimiter
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware

from klarjournal.service.batching import TranslationQueue
from klarjournal.service.deps import TranslatorLike
from klarjournal.service.metrics import MetricsMiddleware, ServiceMetrics
from klarjournal.service.middleware import (
    BodyLimitMiddleware,
    SafeErrorMiddleware,
    SecurityHeadersMiddleware,
)
from klarjournal.service.routes import api, ops, preview
from klarjournal.service.settings import Settings, load_settings

logger = logging.getLogger("klarjournal.service")

DESCRIPTION = """\
Danish clinical notes as text a patient understands; the clinician's original stays exact.

**Authentication.** When the service has API keys (`KLARJOURNAL_API_KEYS`), every `/v1` call
needs `Authorization: Bearer KEY`. Role `portal` may translate (single, batch, audio); role
`clinician` may also look terms up. Without keys the service listens on loopback only.

**Text safety.** Note text never appears in logs, metrics or error bodies.
"""


def load_pipeline(settings: Settings) -> TranslatorLike:
    # Imported here: the pipeline pulls in spaCy and torch, which only the running service needs.
    from klarjournal.pipeline import load_translator

    return load_translator(
        lexicon_overlays=[str(path) for path in settings.lexicon_overlays],
        model_path=str(settings.model_path) if settings.model_path else None,
        use_model=settings.use_model,
    )


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    if not settings.auth_enabled:
        logger.warning("NO API KEYS CONFIGURED: every /v1 endpoint is open to anyone who can "
                       "reach this port. Serving on loopback only; set KLARJOURNAL_API_KEYS="
                       "'portal:KEY,clinician:KEY2' to require keys.")
    translator = await anyio.to_thread.run_sync(app.state.load_pipeline, settings)
    app.state.translator = translator
    app.state.metrics.set_model_status(translator.model_status)
    if translator.model_status == "degraded":
        logger.warning("the context model could not load; serving the lexicon-only path "
                       "(/readyz reports degraded)")
    logger.info("pipeline ready: %s, model %s", translator.versions, translator.model_status)
    yield
    app.state.translator = None


def create_app(settings: Settings | None = None,
               load: Callable[[Settings], TranslatorLike] = load_pipeline) -> FastAPI:
    """The app; ``load`` builds the translator at start-up (tests pass a stub or a shared one)."""
    settings = settings if settings is not None else load_settings()
    middleware = [
        Middleware(SecurityHeadersMiddleware),
        Middleware(SafeErrorMiddleware),
        Middleware(MetricsMiddleware, metrics=(metrics := ServiceMetrics())),
        Middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes),
    ]
    if settings.cors_origins:
        # Closed unless origins are named: no browser page elsewhere may read patient texts.
        middleware.append(Middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"]))
    app = FastAPI(
        title="klarjournal", version=_version(), description=DESCRIPTION, lifespan=lifespan,
        middleware=middleware,
        # Swagger UI and ReDoc load scripts from a CDN, which the CSP forbids; the schema itself
        # is at /openapi.json.
        docs_url=None, redoc_url=None,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    # Look-ups and audio run in threads under the limiter; translations go through the queue,
    # whose lanes (one pipeline call each at a time) are the same number of threads.
    app.state.limiter = CapacityLimiter(settings.threads)
    app.state.queue = TranslationQueue(metrics, lanes=settings.threads)
    app.state.translator = None
    app.state.load_pipeline = load
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.include_router(api.router, tags=["translation"])
    app.include_router(ops.router)
    app.include_router(preview.router)
    app.mount("/static", StaticFiles(directory=str(preview.STATIC_DIR)), name="static")
    return app


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("klarjournal")
    except PackageNotFoundError:
        return "0"


def _field_errors(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    # Only location, message and type: pydantic's "input" would echo the note back.
    result = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        if error.get("type") == "json_invalid":
            position = loc[1] if len(loc) > 1 else "?"
            reason = (error.get("ctx") or {}).get("error", "invalid JSON")
            result.append({"field": "body", "type": "json_invalid",
                           "message": f"malformed JSON: {reason} at character {position}"})
            continue
        result.append({"field": ".".join(loc) or "body", "type": str(error.get("type", "")),
                       "message": str(error.get("msg", "invalid value"))})
    return result


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _field_errors(list(exc.errors()))
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:3])
    return JSONResponse({"detail": f"invalid request: {summary}", "errors": errors},
                        status_code=422)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.detail == _FASTAPI_BODY_ERROR:
        # FastAPI reports undecodable bodies as a generic 400; they are invalid input like any.
        cause = exc.__cause__
        message = (f"not valid UTF-8 at byte {cause.start}"
                   if isinstance(cause, UnicodeDecodeError) else "could not be parsed as JSON")
        return JSONResponse({"detail": f"invalid request: body: {message}",
                             "errors": [{"field": "body", "type": "body_invalid",
                                         "message": message}]}, status_code=422)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                        headers=exc.headers)


_FASTAPI_BODY_ERROR = "There was an error parsing the body"
