"""Liveness, readiness and Prometheus metrics; open to probes, no API key needed."""

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from klarjournal.service.audio import espeak_path
from klarjournal.service.deps import (
    TranslatorLike,
    get_metrics,
    get_settings,
    get_translator,
    note_limit,
)
from klarjournal.service.metrics import ServiceMetrics
from klarjournal.service.schemas import ErrorBody, Health, Ready
from klarjournal.service.settings import Settings

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, summary="The process is alive")
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Ready, summary="The pipeline is loaded",
            responses={503: {"model": ErrorBody, "description": "Still loading."}})
async def readyz(translator: Annotated[TranslatorLike, Depends(get_translator)],
                 settings: Annotated[Settings, Depends(get_settings)]) -> Ready:
    """`degraded` when the context model could not load and the lexicon-only path serves."""
    return Ready(
        status="degraded" if translator.model_status == "degraded" else "ok",
        model_status=translator.model_status,
        versions=translator.versions,
        limits={"max_chars": note_limit(translator, settings), "max_batch": settings.max_batch,
                "max_body_bytes": settings.max_body_bytes},
        auth=settings.auth_enabled,
        audio=espeak_path() is not None,
    )


@router.get("/metrics", summary="Prometheus metrics (no note text)", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
async def metrics(service_metrics: Annotated[ServiceMetrics, Depends(get_metrics)]) -> Response:
    return Response(generate_latest(service_metrics.registry), media_type=CONTENT_TYPE_LATEST)


