"""Service settings, read from the environment (prefix ``KLARJOURNAL_``).

Never instantiated at import time: ``create_app`` and the CLI build one, so tests and workers read
the environment they actually run in.
"""

import ipaddress
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Role = Literal["portal", "clinician"]
ROLES: tuple[Role, ...] = ("portal", "clinician")


class ApiKey(BaseModel):
    role: Role
    key: str = Field(repr=False)  # never shown in reprs, logs or tracebacks


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KLARJOURNAL_", extra="ignore")

    # "portal:KEY,clinician:KEY2"; empty means open access, allowed on loopback only.
    api_keys: Annotated[list[ApiKey], NoDecode] = Field(default_factory=list, repr=False)
    # Hospital overlay entry files (comma-separated paths); later files win.
    lexicon_overlays: Annotated[list[Path], NoDecode] = Field(default_factory=list)
    # A local model folder instead of the shipped one; None uses the built-in model.
    model_path: Path | None = None
    use_model: bool = True
    # Longest note accepted over HTTP (the pipeline's own limit applies too, whichever is lower):
    # a note is a few thousand characters; far longer ones tie up a worker for seconds.
    max_note_chars: int = Field(default=100_000, ge=1)
    # Batch requests hold at most this many notes.
    max_batch: int = Field(default=64, ge=1, le=1000)
    # Whole request bodies above this are refused (413) before they are read into memory.
    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    # Pipeline calls running at once per worker (each may carry the notes of several requests;
    # the rest wait in the queue, off the event loop). Under the GIL one is fastest: a second
    # thread only contends for it. Also the threads for look-ups and audio.
    threads: int = Field(default=1, ge=1)
    # Origins allowed to call the API from a browser; empty keeps CORS closed.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Seconds espeak-ng may take for one note before the audio request fails.
    audio_timeout: float = Field(default=20.0, gt=0)

    @field_validator("api_keys", mode="before")
    @classmethod
    def _parse_keys(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        keys = []
        for number, pair in enumerate((p.strip() for p in value.split(",")), start=1):
            if not pair:
                continue
            role, sep, key = pair.partition(":")
            # The message names the pair's position, never its key.
            if not sep or not key.strip():
                raise ValueError(f"pair {number} is not 'role:key'")
            if role.strip() not in ROLES:
                raise ValueError(
                    f"pair {number} has role {role.strip()!r}; use portal or clinician")
            keys.append({"role": role.strip(), "key": key.strip()})
        return keys

    @field_validator("lexicon_overlays", "cors_origins", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def auth_enabled(self) -> bool:
        return bool(self.api_keys)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, settings: Settings) -> None:
    """Refuse to expose an unauthenticated service beyond this machine."""
    if not settings.auth_enabled and not is_loopback(host):
        raise ValueError(
            f"refusing to listen on {host!r} without API keys: anyone on the network could "
            "translate notes. Set KLARJOURNAL_API_KEYS='portal:KEY,clinician:KEY2' or bind to "
            "127.0.0.1."
        )


def load_settings() -> Settings:
    """Settings from the environment, with errors that name variables but never echo values."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"KLARJOURNAL_{str(error['loc'][0]).upper() if error['loc'] else '?'}: {error['msg']}"
            for error in exc.errors(include_input=False, include_url=False))
        raise ValueError(f"invalid settings: {problems}") from None
