"""The translation of one note: the output contract shared by CLI, service and evaluation.

The shape is ``shared/spec/translation-output.md``; ``to_dict`` produces exactly that object.
"""

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class TranslatedSpan:
    start: int
    end: int
    surface: str
    kind: str
    expansion: str
    plain: str
    plain_start: int
    plain_end: int
    source: str
    confidence: float
    negated: bool
    entry: str | None
    # Fields beyond the contract's minimum (the spec allows additions).
    sense: str | None = None
    uncertain: bool = False
    historical: bool = False
    family: bool = False
    low_confidence: bool = False

    @classmethod
    def from_fields(cls, values: dict[str, Any]) -> "TranslatedSpan":
        """``TranslatedSpan(**values)`` for a dict holding every field and nothing else (the
        renderer's spans; a test checks the keys). A frozen dataclass's ``__init__`` sets each
        field through ``object.__setattr__``: for the thirty-odd spans of a note that took a
        tenth of the pipeline's time."""
        span = object.__new__(cls)
        span.__dict__.update(values)
        return span


@dataclass(frozen=True)
class Section:
    start: int
    end: int
    heading: str | None
    plain_heading: str | None
    id: str | None = None


@dataclass(frozen=True)
class Translation:
    id: str | None
    original: str
    plain: str
    spans: list[TranslatedSpan]
    sections: list[Section]
    unresolved: list[dict[str, Any]]
    versions: dict[str, str]
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
