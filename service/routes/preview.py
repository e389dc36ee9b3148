"""The clinician preview page, served from the package's own static files."""

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import FileResponse

router = APIRouter(tags=["preview"])

STATIC_DIR = resources.files("klarjournal.service") / "static"


@router.get("/preview", response_class=FileResponse, summary="Clinician preview page",
            responses={200: {"content": {"text/html": {}}}})
async def preview() -> FileResponse:
    return FileResponse(str(STATIC_DIR / "index.html"), media_type="text/html; charset=utf-8")
