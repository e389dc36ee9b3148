"""Pydantic models for the lexicon's data files.

Every file under ``lexicon/data`` is JSON Lines, one record a line. The models refuse unknown
keys so a typo in a field name is an error at load time, not a silently ignored reading.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Kind = Literal["abbreviation", "term", "phrase"]
ReviewStatus = Literal["draft", "reviewed"]
# Grammatical slots a surface (or its lay reading) can stand in. "base" is the indefinite
# singular of a noun or the common-gender form of an adjective; "t" and "e" are the adjective's
# neuter and definite/plural forms. Genitive is handled as a trailing -s on any slot.
Slot = Literal["base", "def", "pl", "pl_def", "t", "e"]
INFLECTED_SLOTS: tuple[Slot, ...] = ("def", "pl", "pl_def", "t", "e")

ID_PATTERN = r"^[a-z0-9æøå][a-z0-9æøå_.:-]*$"
# A sense's cue this short matches whole words only: as a prefix "mor" would match "morgen".
WHOLE_WORD_CUE_MAX_CHARS = 3


def cue_matches(cue: str, word: str) -> bool:
    """Does the lower-case ``word`` carry ``cue``: start with it, or be it if the cue is short."""
    if len(cue) <= WHOLE_WORD_CUE_MAX_CHARS:
        return word == cue
    return word.startswith(cue)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LayReading(Strict):
    """What a patient reads instead of the surface, in each grammatical form it may need."""

    text: str = Field(min_length=1)
    def_: str | None = Field(default=None, alias="def")
    pl: str | None = None
    pl_def: str | None = None
    t: str | None = None
    e: str | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def form(self, slot: Slot) -> str | None:
        """The reading in ``slot``, or None when the data does not give that form."""
        if slot == "base":
            return self.text
        if slot == "def":
            return self.def_
        return getattr(self, slot)


class Sense(Strict):
    """One meaning of a surface. Plain entries have one; ambiguous entries several."""

    id: str = Field(pattern=ID_PATTERN)
    expansion: str = Field(min_length=1)
    lay: list[LayReading] = Field(min_length=1)
    specialty: str | None = None
    # Words near the surface that point to this sense (lower-case; a stem of 4 or more letters
    # matches any word it starts, a shorter cue only the whole word; see ``cue_matches``).
    cues: list[str] = []
    # Section ids (see sections.jsonl) in which this sense is the likely one.
    sections: list[str] = []
    # Specialties (note metadata) in which this sense is the likely one.
    specialties: list[str] = []
    # A measurement sense is written with its value right after it: "RR 145/92" is blood
    # pressure (ratio), "RF 18" a rate (number), "GA 36+5" a gestational age (weeks+days).
    value: Literal["ratio", "number", "gestation"] | None = None


class Entry(Strict):
    """A lexicon entry: one or more surfaces with one meaning, or several for ambiguous ones."""

    id: str = Field(pattern=ID_PATTERN)
    kind: Kind
    surfaces: list[str] = Field(min_length=1)
    inflections: dict[Slot, list[str]] = {}
    case_sensitive: bool = False
    # Everyday Danish shorthand a patient reads without help (tlf., pga., vedr.): recognised so
    # that nothing else claims it, but never rewritten.
    everyday: bool = False
    # A term whose written form is as frequent as everyday Danish but which a patient misreads
    # in a note ("depot" = slow-release, "interaktion", "CAVE"): matched all the same. Without
    # it such a form is taken for the everyday word and never matched.
    jargon: bool = False
    expansion: str | None = None
    lay: list[LayReading] | None = None
    senses: list[Sense] | None = None
    specialty: str
    source: str = Field(min_length=1)
    review: ReviewStatus = "draft"
    note: str | None = None

    @field_validator("surfaces")
    @classmethod
    def _surfaces_are_trimmed(cls, surfaces: list[str]) -> list[str]:
        for surface in surfaces:
            if not surface or surface != surface.strip():
                raise ValueError(f"surface {surface!r} is empty or has surrounding space")
        return surfaces

    @model_validator(mode="after")
    def _one_meaning_or_senses(self) -> "Entry":
        single = self.expansion is not None or self.lay is not None
        if self.senses is not None:
            if single:
                raise ValueError("give either expansion+lay or senses, not both")
            if len(self.senses) < 2:
                raise ValueError("an ambiguous entry needs at least two senses")
        elif self.expansion is None or not self.lay:
            raise ValueError("expansion and lay are required unless senses are given")
        if self.jargon and (self.everyday or self.kind != "term"):
            raise ValueError("'jargon' marks a term that is read although its form is common; "
                             "it cannot be 'everyday' and only a term needs it")
        return self

    @property
    def is_ambiguous(self) -> bool:
        return self.senses is not None

    def all_senses(self) -> list[Sense]:
        """Senses in order; the first is the default reading."""
        if self.senses is not None:
            return list(self.senses)
        assert self.expansion is not None and self.lay is not None
        return [Sense(id=self.id, expansion=self.expansion, lay=self.lay,
                      specialty=self.specialty)]


class Morpheme(Strict):
    """A Latin/Greek root, prefix or suffix with its Danish meaning.

    ``meaning`` is the Danish word used when the morpheme is a root inside a compound
    (``kolecyst`` -> ``galdeblære``). Suffixes carry a ``template`` in which ``{root}`` is the
    root meaning in indefinite form and ``{root_def}`` in definite form:
    ``-itis`` -> ``betændelse i {root_def}``.
    """

    id: str = Field(pattern=ID_PATTERN)
    kind: Literal["root", "prefix", "suffix"]
    forms: list[str] = Field(min_length=1)
    meaning: str = Field(min_length=1)
    meaning_def: str | None = None
    template: str | None = None
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _suffix_has_template(self) -> "Morpheme":
        if self.kind == "suffix" and not self.template:
            raise ValueError("a suffix needs a template with {root} or {root_def}")
        return self


ContextCategory = Literal["negated", "uncertain", "historical", "family", "pseudo", "terminate"]


class ContextRule(Strict):
    """A ConText-style cue. ``direction`` says which way its scope runs from the cue."""

    id: str = Field(pattern=ID_PATTERN)
    literal: str = Field(min_length=1)
    category: ContextCategory
    direction: Literal["forward", "backward", "bidirectional", "none"]
    max_scope: int = Field(default=8, ge=1, le=50)
    source: str = Field(min_length=1)


class SectionHeading(Strict):
    """A note heading and the heading the patient sees instead."""

    id: str = Field(pattern=ID_PATTERN)
    headings: list[str] = Field(min_length=1)
    expansion: str = Field(min_length=1)
    plain_heading: str = Field(min_length=1)
    # Whether the heading itself is jargon a patient would not understand ("Obj.", "Anamnese");
    # only then is it a span that the patient text replaces.
    jargon: bool = False
    source: str = Field(min_length=1)


class SourceRef(Strict):
    """A public reference an entry's meaning can be checked against (our wording is our own)."""

    id: str = Field(pattern=ID_PATTERN)
    title: str
    publisher: str
    kind: Literal["handbook", "glossary", "textbook", "guideline", "dictionary", "project"]
    url: str | None = None
