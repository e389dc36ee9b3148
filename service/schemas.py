"""Request and response models; the response models mirror spec/translation-output.md."""

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

SAMPLE_NOTE = "Pt. indlagt med dyspnø. BT 145/90. Ingen tegn på DVT."


def _valid_unicode(value: str) -> str:
    # JSON may carry lone surrogates ("\ud800"); they cannot be encoded back, so refuse them here
    # rather than fail while answering. The message never repeats the text.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"invalid unicode: lone surrogate at position {exc.start}") from None
    return value


UnicodeText = Annotated[str, AfterValidator(_valid_unicode)]


class TranslateOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    detail: Literal["kort", "uddybet"] = Field(
        default="kort",
        description="`kort`: the translation object only. `uddybet`: also `glossary` "
                    "(\"ord i dit notat\"), one explanation per replaced term.")
    specialty: UnicodeText | None = Field(
        default=None, max_length=64,
        description="Note specialty (e.g. `kardiologi`); helps choose among a term's senses.")


class TranslateRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [
            {"text": SAMPLE_NOTE, "id": "kard-0007", "options": {"detail": "uddybet"}}]})

    text: UnicodeText = Field(
        min_length=1, description="The note exactly as written; longer than the service's "
                                  "note limit (see `/readyz` `limits`) gives 413.")
    id: UnicodeText | None = Field(default=None, max_length=200,
                                   description="Your id for the note, echoed back.")
    options: TranslateOptions = Field(default_factory=TranslateOptions)


class BatchNote(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: UnicodeText = Field(min_length=1)
    id: UnicodeText | None = Field(default=None, max_length=200)
    specialty: UnicodeText | None = Field(default=None, max_length=64,
                                          description="Overrides `options.specialty`.")


class BatchRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{
            "notes": [{"id": "a", "text": SAMPLE_NOTE},
                      {"id": "b", "text": "Obs. pneumoni. Beh. med penicillin p.o."}],
            "options": {"detail": "kort"}}]})

    # Per-note problems (too long, pipeline failure) become error entries; only a malformed
    # request or too many notes fails the whole batch.
    notes: list[BatchNote] = Field(
        min_length=1, description="The notes; more than the service's batch limit "
                                  "(see `/readyz` `limits`) gives 413.")
    options: TranslateOptions = Field(default_factory=TranslateOptions)


class Span(BaseModel):
    model_config = ConfigDict(extra="allow")

    start: int
    end: int
    surface: str
    kind: str
    expansion: str | None
    plain: str
    plain_start: int
    plain_end: int
    source: str
    confidence: float
    negated: bool
    entry: str | None


class Section(BaseModel):
    model_config = ConfigDict(extra="allow")

    start: int
    end: int
    heading: str | None
    plain_heading: str | None


class GlossaryItem(BaseModel):
    term: str = Field(description="The word as the note writes it.")
    plain: str = Field(description="What the patient text says instead.")
    expansion: str | None = Field(description="The full professional form.")
    explanation: str = Field(description="One Danish sentence for the patient.")


class Translation(BaseModel):
    """The shared translation object; fields may be added, these keep their meaning."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={"examples": [{
            "id": "kard-0007",
            "original": "Pt. har DVT.",
            "plain": "Patienten har blodprop i en dyb vene.",
            "spans": [
                {"start": 0, "end": 3, "surface": "Pt.", "kind": "abbreviation",
                 "expansion": "patienten", "plain": "Patienten", "plain_start": 0,
                 "plain_end": 9, "source": "lexicon", "confidence": 1.0, "negated": False,
                 "entry": "pt"},
                {"start": 8, "end": 11, "surface": "DVT", "kind": "abbreviation",
                 "expansion": "dyb venetrombose", "plain": "blodprop i en dyb vene",
                 "plain_start": 14, "plain_end": 36, "source": "lexicon", "confidence": 1.0,
                 "negated": False, "entry": "dvt"}],
            "sections": [{"start": 0, "end": 12, "heading": None, "plain_heading": None}],
            "unresolved": [],
            "versions": {"klarjournal": "0.1.0", "lexicon": "2026.11.22", "model": "none"}}]})

    id: str | None
    original: str
    plain: str
    spans: list[Span]
    sections: list[Section]
    unresolved: list[Any]
    versions: dict[str, Any]
    glossary: list[GlossaryItem] | None = Field(
        default=None, description="Only with `options.detail = uddybet`.")


class BatchItemError(BaseModel):
    status: int = Field(description="The HTTP status this note alone would have had.")
    message: str


class BatchItem(BaseModel):
    index: int
    id: str | None
    translation: Translation | None = None
    error: BatchItemError | None = None


class BatchResponse(BaseModel):
    results: list[BatchItem] = Field(description="One per note, in request order.")
    errors: int = Field(description="How many notes have an error entry instead of a translation.")


class LexiconLookup(BaseModel):
    """The pipeline's explanation; `entry` is absent when no lexicon entry matches."""

    model_config = ConfigDict(extra="allow")

    term: str
    rendered: str = Field(description="What the patient reads for the term on its own.")
    why: str = Field(description="Why the pipeline reads the term as it does.")
    entry: dict[str, Any] | None = None


class FieldError(BaseModel):
    field: str = Field(description="Where in the request, e.g. `body.options.detail`.")
    message: str
    type: str


class ErrorBody(BaseModel):
    detail: str
    errors: list[FieldError] | None = None


class Health(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ok", "degraded"]
    model_status: str
    versions: dict[str, Any]
    limits: dict[str, int]
    auth: bool = Field(description="Whether API keys are required.")
    audio: bool = Field(description="Whether `/v1/audio` can speak (espeak-ng installed).")
