"""Dependencies: the pipeline, the settings, the thread limiter and role checks.

Routes take everything through these, so tests can swap the translator with
``app.dependency_overrides[get_translator]``. They are ``async def``: FastAPI runs a plain
``def`` dependency in a worker thread, and five thread hand-offs per request cost more than
these few attribute reads.
"""

import hmac
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Protocol

from anyio import CapacityLimiter
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from klarjournal.service.metrics import ServiceMetrics
from klarjournal.service.settings import ApiKey, Role, Settings

if TYPE_CHECKING:  # batching imports this module's protocols
    from klarjournal.service.batching import TranslationQueue


class TranslationLike(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


class TranslatorLike(Protocol):
    """The part of ``klarjournal.pipeline.Translator`` the service uses."""

    versions: dict[str, Any]
    model_status: str
    max_chars: int

    def translate(self, text: str, note_id: str | None = None,
                  specialty: str | None = None) -> TranslationLike: ...

    def translate_many(self, texts: Sequence[str], note_ids: Sequence[str | None] | None = None,
                       specialties: Sequence[str | None] | None = None
                       ) -> list[TranslationLike]: ...

    def lookup(self, term: str) -> dict[str, Any]: ...


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_translator(request: Request) -> TranslatorLike:
    translator = getattr(request.app.state, "translator", None)
    if translator is None:
        raise HTTPException(503, "the translation pipeline is not loaded yet")
    return translator


def note_limit(translator: TranslatorLike, settings: Settings) -> int:
    return min(settings.max_note_chars, translator.max_chars)


async def get_limiter(request: Request) -> CapacityLimiter:
    return request.app.state.limiter


async def get_metrics(request: Request) -> ServiceMetrics:
    return request.app.state.metrics


async def get_queue(request: Request) -> "TranslationQueue":
    return request.app.state.queue


_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer KEY`; a key's role "
                     "(portal or clinician) decides which endpoints it may call.")


def match_key(keys: Sequence[ApiKey], presented: str) -> Role | None:
    """The role of the presented key, comparing against every key in constant time."""
    presented_bytes = presented.encode("utf-8")
    role: Role | None = None
    # No early exit: the time taken must not reveal which key (or how much of one) matched.
    for api_key in keys:
        if hmac.compare_digest(presented_bytes, api_key.key.encode("utf-8")):
            role = api_key.role
    return role


def require_role(*allowed: Role) -> Callable[..., Awaitable[Role | None]]:
    async def check(settings: Annotated[Settings, Depends(get_settings)],
              credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
              ) -> Role | None:
        if not settings.auth_enabled:
            return None
        role = match_key(settings.api_keys, credentials.credentials) if credentials else None
        if role is None:
            raise HTTPException(401, "missing or invalid API key; send 'Authorization: Bearer KEY'",
                                headers={"WWW-Authenticate": "Bearer"})
        if role not in allowed:
            raise HTTPException(403, f"the {role} role may not call this endpoint")
        return role

    return check


PortalOrClinician = Depends(require_role("portal", "clinician"))
ClinicianOnly = Depends(require_role("clinician"))
