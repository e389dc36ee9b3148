"""Read and validate evaluation corpora (shared/spec/corpus-format.md) line by line.

A bad line never stops the run: it is reported with its line number and a reason, and the good
lines are scored. Reasons name fields, offsets and ids only, never note text, so they can go to a
log. Two line shapes are read: annotated notes (``annotations``) and sense-labelled contexts
(``sense``, written by ``evaluation/senses``).
"""

import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from klarjournal.pipeline.translator import MAX_NOTE_CHARS

KINDS = ("abbreviation", "term", "phrase")


@dataclass(frozen=True)
class GoldSpan:
    start: int
    end: int
    surface: str
    kind: str
    expansion: str
    lay: tuple[str, ...]


@dataclass(frozen=True)
class GoldNote:
    id: str
    text: str
    annotations: tuple[GoldSpan, ...]
    keep: tuple[str, ...] = ()
    negated: tuple[str, ...] = ()
    specialty: str | None = None
    note_type: str | None = None
    date: str | None = None
    line: int = 0


@dataclass(frozen=True)
class SenseItem:
    """One occurrence of an ambiguous surface with the sense a clinician chose."""

    id: str
    text: str
    start: int
    end: int
    surface: str
    sense: str
    specialty: str | None = None
    section: str | None = None
    line: int = 0


@dataclass(frozen=True)
class LineError:
    line: int
    id: str | None
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f" (id {self.id!r})" if self.id else "")
        return f"{where}: {self.reason}"


@dataclass
class Corpus:
    notes: list[GoldNote] = field(default_factory=list)
    senses: list[SenseItem] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)
    lines: int = 0

    @property
    def shape(self) -> Literal["notes", "senses", "empty"]:
        if self.senses and not self.notes:
            return "senses"
        return "notes" if self.notes else "empty"


class BadLine(ValueError):
    """Raised inside validation; carries a reason without any note text."""


def _is_int(value: Any) -> bool:
    # bool is an int subclass in Python; an offset of `true` is a typo, not 1.
    return isinstance(value, int) and not isinstance(value, bool)


def _text_field(record: dict[str, Any], name: str, *, required: bool) -> str | None:
    if name not in record or record[name] is None:
        if required:
            raise BadLine(f"missing field {name!r}")
        return None
    value = record[name]
    if not isinstance(value, str):
        raise BadLine(f"field {name!r} must be a string, not {type(value).__name__}")
    if required and not value:
        raise BadLine(f"field {name!r} is empty")
    return value


def _string_list(record: dict[str, Any], name: str, *, required: bool = False) -> tuple[str, ...]:
    if name not in record or record[name] is None:
        if required:
            raise BadLine(f"missing field {name!r}")
        return ()
    value = record[name]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise BadLine(f"field {name!r} must be a list of non-empty strings")
    return tuple(value)


def _offsets(where: str, raw: dict[str, Any], text: str) -> tuple[int, int, str]:
    for name in ("start", "end", "surface"):
        if name not in raw:
            raise BadLine(f"{where}: missing field {name!r}")
    start, end, surface = raw["start"], raw["end"], raw["surface"]
    if not _is_int(start) or not _is_int(end):
        raise BadLine(f"{where}: start and end must be integers")
    if not isinstance(surface, str) or not surface:
        raise BadLine(f"{where}: surface must be a non-empty string")
    if not 0 <= start < end <= len(text):
        raise BadLine(f"{where}: offsets {start}..{end} outside the text (length {len(text)})")
    if text[start:end] != surface:
        raise BadLine(f"{where}: text[{start}:{end}] does not equal the surface")
    return start, end, surface


def _annotation(index: int, raw: Any, text: str) -> GoldSpan:
    where = f"annotations[{index}]"
    if not isinstance(raw, dict):
        raise BadLine(f"{where} must be an object")
    start, end, surface = _offsets(where, raw, text)
    kind = raw.get("kind")
    if kind not in KINDS:
        raise BadLine(f"{where}: kind must be one of {', '.join(KINDS)}")
    expansion = raw.get("expansion")
    if not isinstance(expansion, str) or not expansion.strip():
        raise BadLine(f"{where}: expansion must be a non-empty string")
    lay = raw.get("lay")
    if not isinstance(lay, list) or not lay or not all(isinstance(v, str) and v.strip()
                                                        for v in lay):
        raise BadLine(f"{where}: lay must be a non-empty list of non-empty strings")
    return GoldSpan(start, end, surface, kind, expansion, tuple(lay))


def parse_note(record: dict[str, Any], line: int) -> GoldNote:
    note_id = _text_field(record, "id", required=True)
    text = _text_field(record, "text", required=True)
    assert note_id is not None and text is not None
    if len(text) > MAX_NOTE_CHARS:
        # The pipeline refuses such a note; as a bad line it cannot sink the rest of the corpus.
        raise BadLine(f"field 'text' has {len(text)} characters; the limit is {MAX_NOTE_CHARS}")
    if "annotations" not in record:
        raise BadLine("missing field 'annotations'")
    if not isinstance(record["annotations"], list):
        raise BadLine("field 'annotations' must be a list")
    spans = tuple(_annotation(i, raw, text) for i, raw in enumerate(record["annotations"]))
    keep = _string_list(record, "keep")
    negated = _string_list(record, "negated")
    # A keep or negated string the original lacks can never be satisfied: an annotation error.
    for name, values in (("keep", keep), ("negated", negated)):
        for i, value in enumerate(values):
            if value not in text:
                raise BadLine(f"{name}[{i}] does not occur in the text")
    return GoldNote(
        id=note_id, text=text, annotations=tuple(sorted(spans, key=lambda s: (s.start, s.end))),
        keep=keep, negated=negated,
        specialty=_text_field(record, "specialty", required=False),
        note_type=_text_field(record, "note_type", required=False),
        date=_text_field(record, "date", required=False), line=line,
    )


def parse_sense_item(record: dict[str, Any], line: int) -> SenseItem:
    item_id = _text_field(record, "id", required=True)
    text = _text_field(record, "text", required=True)
    sense = _text_field(record, "sense", required=True)
    assert item_id is not None and text is not None and sense is not None
    start, end, surface = _offsets("record", record, text)
    return SenseItem(id=item_id, text=text, start=start, end=end, surface=surface, sense=sense,
                     specialty=_text_field(record, "specialty", required=False),
                     section=_text_field(record, "section", required=False), line=line)


def read_corpus(lines: Iterable[str]) -> Corpus:
    """Parse JSON Lines; each line is a note or, when it has a ``sense`` field, a sense item."""
    corpus = Corpus()
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        corpus.lines = number
        if not line.strip():
            continue
        record_id: str | None = None
        try:
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise BadLine(f"invalid JSON: {exc.msg} (column {exc.colno})") from None
            if not isinstance(record, dict):
                raise BadLine("a line must be a JSON object")
            raw_id = record.get("id")
            record_id = raw_id if isinstance(raw_id, str) and raw_id else None
            if record_id is not None and record_id in seen:
                raise BadLine("duplicate id")
            if "sense" in record:
                corpus.senses.append(parse_sense_item(record, number))
            else:
                corpus.notes.append(parse_note(record, number))
            if record_id is not None:
                seen.add(record_id)
        except BadLine as exc:
            corpus.errors.append(LineError(number, record_id, str(exc)))
    if corpus.notes and corpus.senses:
        # Two shapes in one file: score the majority, report the others as bad lines.
        minority: list[GoldNote] | list[SenseItem]
        if len(corpus.senses) > len(corpus.notes):
            minority, corpus.notes = corpus.notes, []
            label = "an annotated note in a sense-labelled file"
        else:
            minority, corpus.senses = corpus.senses, []
            label = "a sense-labelled line in an annotated corpus"
        corpus.errors.extend(LineError(item.line, item.id, label) for item in minority)
        corpus.errors.sort(key=lambda e: e.line)
    return corpus


def read_corpus_file(path: str) -> Corpus:
    """Read ``path`` (``-`` is stdin). Raises OSError / UnicodeDecodeError for unusable input."""
    if path == "-":
        return read_corpus(sys.stdin)
    # utf-8-sig: a byte-order mark from a Windows editor is not a bad first line. Split on "\n"
    # only: str.splitlines would also break at U+2028, which JSON allows inside strings.
    with open(path, encoding="utf-8-sig") as handle:
        return read_corpus(handle.read().split("\n"))
