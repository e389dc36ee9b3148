"""Sentences and sections of a telegraphic clinical note.

spaCy's sentencizer splits after every period, including the one that ends ``dgl.`` or
``p.o.``, and never at a line break. Clinical notes need the opposite: a period that belongs to
an abbreviation (the clinical tokenizer keeps it on the token) is no sentence end, while a line
break, a bullet and a heading (``Obj.:``, ``Vurdering:``) always start a new sentence.
Headings come from ``sections.jsonl`` with the patient heading for each.
"""

import re

import numpy
from collections.abc import Iterable
from typing import Any

from spacy.language import Language
from spacy.attrs import SENT_START
from spacy.tokens import Doc

from klarjournal.lexicon import SectionHeading, load_lexicon
from klarjournal.pipeline.extensions import register_extensions
from klarjournal.pipeline.tokens import token_table

BULLETS = ("-", "*", "•", "–", "·")
SENTENCE_END = {".", "!", "?"}


def heading_pattern(headings: Iterable[SectionHeading]) -> re.Pattern[str]:
    """One regex for every heading at the start of a line, followed by a colon.

    One-letter headings (SOAP's ``S:``/``O:``) only count when text, not a number, follows,
    so ``P: 72`` (pulse) is not read as the plan.
    """
    forms = sorted({form for h in headings for form in h.headings}, key=len, reverse=True)
    long_forms = [re.escape(f) for f in forms if len(f.rstrip(".")) > 1]
    short_forms = [re.escape(f) for f in forms if len(f.rstrip(".")) == 1]
    alternatives = []
    if long_forms:
        alternatives.append(rf"(?P<long>{'|'.join(long_forms)})[ \t]*:")
    if short_forms:
        alternatives.append(rf"(?P<short>{'|'.join(short_forms)})[ \t]*:(?=[ \t]*(?:$|[^\d\s]))")
    body = "|".join(alternatives) or r"(?!x)x"
    return re.compile(rf"^[ \t]*(?:[-*•][ \t]*)?(?:{body})", re.IGNORECASE | re.MULTILINE)


class SectionSplitter:
    def __init__(self) -> None:
        self.pattern: re.Pattern[str] = heading_pattern([])
        self.by_form: dict[str, SectionHeading] = {}

    def initialize(self, get_examples: Any = None, *, nlp: Language | None = None,
                   lexicon_dir: str | None = None, overlays: list[str] | None = None) -> None:
        lexicon = load_lexicon(lexicon_dir, overlays or [])
        self.pattern = heading_pattern(lexicon.sections)
        self.by_form = {form.casefold(): h for h in lexicon.sections for form in h.headings}

    def find_headings(self, text: str) -> list[dict[str, Any]]:
        found = []
        for match in self.pattern.finditer(text):
            group = "long" if "long" in self.pattern.groupindex and match.group("long") else "short"
            start, end = match.span(group)
            heading = self.by_form[text[start:end].casefold()]
            found.append({"id": heading.id, "heading_start": start, "heading_end": end,
                          "colon_end": match.end(), "heading": heading})
        return found

    def __call__(self, doc: Doc) -> Doc:
        text = token_table(doc).text
        headings = self.find_headings(text)
        sections: list[dict[str, Any]] = []
        if not headings or headings[0]["heading_start"] > len(text) - len(text.lstrip()):
            sections.append({"start": 0, "heading": None, "plain_heading": None, "id": None,
                             "heading_start": None, "heading_end": None, "jargon": False,
                             "expansion": None})
        for found in headings:
            h: SectionHeading = found["heading"]
            sections.append({"start": found["heading_start"],
                             "heading": text[found["heading_start"]:found["heading_end"]],
                             "plain_heading": h.plain_heading, "id": h.id,
                             "heading_start": found["heading_start"],
                             "heading_end": found["heading_end"], "jargon": h.jargon,
                             "expansion": h.expansion})
        for current, following in zip(sections, [*sections[1:], None], strict=True):
            current["end"] = following["start"] if following else len(text)
        if not text:
            sections = []
        doc._.klarjournal_sections = sections
        self._set_sentence_starts(doc, text, {f["colon_end"] for f in headings},
                                  {f["heading_start"] for f in headings})
        return doc

    @staticmethod
    def _set_sentence_starts(doc: Doc, text: str, heading_ends: set[int],
                             heading_starts: set[int]) -> None:
        table = token_table(doc)
        texts, idxs = table.texts, table.starts
        starts = [True] if texts else []
        # Each token against the one before it (zip, not indexing: this runs for every token).
        pairs = zip(texts, table.ends, table.is_space, table.like_num, texts[1:], idxs[1:],
                    strict=False)
        for previous, previous_end, previous_space, previous_num, token_text, idx in pairs:
            starts.append(
                ("\n" in previous and previous_space)
                or idx in heading_starts
                or previous_end in heading_ends
                or previous in SENTENCE_END
                or (previous.endswith(".") and len(previous) > 1
                    and token_text[:1].isupper() and not token_text.isupper()
                    and not previous_num)
                or (token_text in BULLETS and _starts_line(text, idx))
            )
        # Set all at once: assigning token.is_sent_start one by one rescans the doc each time.
        if starts:
            doc.from_array([SENT_START], numpy.array([1 if s else -1 for s in starts],
                                                     dtype="int64").astype("uint64").reshape(-1, 1))
        doc._.klarjournal_sentence_starts = starts


def _starts_line(text: str, char: int) -> bool:
    line_start = text.rfind("\n", 0, char) + 1
    return not text[line_start:char].strip()


@Language.factory("klarjournal_sections",
                  assigns=["token.is_sent_start", "doc._.klarjournal_sections",
                           "doc._.klarjournal_sentence_starts"])
def make_sections(nlp: Language, name: str) -> SectionSplitter:
    register_extensions()
    return SectionSplitter()
