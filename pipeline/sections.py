"""Sentences and sections of a telegraphic clinical note.

spaCy's sentencizer splits after every period, including the one that ends ``dgl.`` or
``p.o.``, and never at a line break. Clinical notes need the opposite: a period that belongs to
an abbreviation (the clinical tokenizer keeps it on the token) is no sentence end, while a line
break, a bullet and a heading (``Obj.:``, ``Vurdering:``) always start a new sentence.
Headings come from ``sections.jsonl`` with the patient heading for each.
"""

import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from itertools import pairwise
from typing import Any

import numpy
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.tokens import Doc
from spacy.vocab import Vocab

from klarjournal.lexicon import SectionHeading, load_lexicon
from klarjournal.pipeline.extensions import register_extensions, write
from klarjournal.pipeline.quantities import UNITS
from klarjournal.pipeline.tokens import WordCache, token_table

BULLETS = ("-", "*", "•", "–", "·")
SENTENCE_END = {".", "!", "?"}
# Bits of a word's sentence code: a sentence starts after a word with BREAKS_AFTER, and after
# one with ABBREVIATION_PERIOD when the next word is CAPITALISED, or is an ACRONYM followed by a
# NUMBER that is no YEAR (a measurement: "på rtg. CK 4500", not "tidl. AMI 2019"); at an ACRONYM
# after a finished measurement ("81 kg. DRE", "IPSS 19. DRE"); a BULLET at a line start. Never
# after a DOSAGE_FORM or route abbreviation ("Tbl. Serenase", "p.o. Amoxicillin"), unless it
# follows a count and the next word is no listed DRUG ("2 tbl. Næste dosis").
(BREAKS_AFTER, ABBREVIATION_PERIOD, CAPITALISED, BULLET, ACRONYM, NUMBER, YEAR, UNIT_PERIOD,
 DOSAGE_FORM, DRUG) = (1 << bit for bit in range(10))
# Expansions of the abbreviations that stand before a drug's name ("tbl. Pamol", "i.v. Tazocin").
DOSAGE_FORMS = frozenset({"ampul", "brusetablet", "depottablet", "injektion", "kapsel", "mikstur",
                          "suppositorium", "tablet", "per os", "intravenøst", "subkutant",
                          "intramuskulært", "rektalt", "sublingualt"})
UNITS_WITH_PERIOD = frozenset(f"{unit.casefold()}." for unit in UNITS if not unit.endswith("."))
YEAR_PATTERN = re.compile(r"(?:19|20)\d\d")
# A written form whose expansion ends in one of these Danish prepositions, conjunctions or
# adverbs that point at what follows ("kendt m." kendt med, "mhp." med henblik på, "evt."
# eventuelt, "f.eks." for eksempel) never ends a sentence: "Evt. KAG" is one sentence.
# Not "for": "obs." (observation for) ends "Indlægges til obs."
LINKING_WORDS = frozenset({"af", "angående", "efter", "eller", "fra", "gennem", "hos",
                           "i", "ifølge", "inklusive", "med", "mellem", "mod", "og", "om", "over",
                           "på", "til", "uden", "under", "ved", "vedrørende",
                           "eventuelt", "cirka", "eksempel", "sige", "jævnfør"})


def is_shorthand_heading(heading: str) -> bool:
    """A heading written as a letter or an abbreviation (``P:``, ``OU:``, ``Vurd.:``): whatever
    section it names, a patient cannot read it, so it gets the patient heading."""
    return heading.endswith(".") or len(heading) <= 2


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
    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab
        self.pattern: re.Pattern[str] = heading_pattern([])
        self.by_form: dict[str, SectionHeading] = {}
        self.never_final: frozenset[str] = frozenset()
        self._codes = WordCache(self._word_code)

    def initialize(self, get_examples: Any = None, *, nlp: Language | None = None,
                   lexicon_dir: str | None = None, overlays: list[str] | None = None) -> None:
        lexicon = load_lexicon(lexicon_dir, overlays or [])
        self.pattern = heading_pattern(lexicon.sections)
        self.by_form = {form.casefold(): h for h in lexicon.sections for form in h.headings}
        # The last word of the form: "kendt m." (kendt med) ends in "m.". And a dotted word
        # that a lexicon form writes before a capitalised word ("mb. Crohn", "a.m. Hartmann"):
        # a sentence break there would cut the form in two.
        linking = (form.split()[-1].casefold() for entry in lexicon.entries
                   if entry.expansion and entry.expansion.split()[-1] in LINKING_WORDS
                   for form in entry.surfaces if form.endswith("."))
        before_names = (word.casefold() for entry in lexicon.entries
                        for form in entry.surfaces if ". " in form
                        for word, following in pairwise(form.split())
                        if word.endswith(".") and following[:1].isupper()
                        and not following.isupper())
        self.never_final = frozenset([*linking, *before_names])
        self.dosage_forms = frozenset(
            form.casefold() for entry in lexicon.entries
            if entry.kind == "abbreviation" and entry.expansion in DOSAGE_FORMS
            for form in entry.surfaces)
        self.drug_names = frozenset(
            form.casefold() for entry in lexicon.entries
            if entry.everyday and entry.specialty == "medicin" for form in entry.surfaces)
        self._codes.clear()  # codes of the previous lexicon no longer hold

    def find_headings(self, text: str) -> list[dict[str, Any]]:
        found = []
        for match in self._heading_matches(text):
            group = "long" if "long" in self.pattern.groupindex and match.group("long") else "short"
            start, end = match.span(group)
            heading = self.by_form[text[start:end].casefold()]
            found.append({"id": heading.id, "heading_start": start, "heading_end": end,
                          "colon_end": match.end(), "heading": heading})
        return found

    def _heading_matches(self, text: str) -> Iterator[re.Match[str]]:
        """``self.pattern.finditer(text)``, tried only at the start of lines with a colon.

        A heading ends in a colon on its own line; trying the long alternation of headings at
        every line start of a note took a third of this component's time.
        """
        colon = text.find(":")
        while colon >= 0:
            match = self.pattern.match(text, text.rfind("\n", 0, colon) + 1)
            if match:
                yield match
            line_end = text.find("\n", colon)
            if line_end < 0:
                return
            colon = text.find(":", line_end)

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
            heading = text[found["heading_start"]:found["heading_end"]]
            sections.append({"start": found["heading_start"],
                             "heading": heading,
                             "plain_heading": h.plain_heading, "id": h.id,
                             "heading_start": found["heading_start"],
                             "heading_end": found["heading_end"],
                             "jargon": h.jargon or is_shorthand_heading(heading),
                             "expansion": h.expansion})
        for current, following in zip(sections, [*sections[1:], None], strict=True):
            current["end"] = following["start"] if following else len(text)
        if not text:
            sections = []
        write(doc, "klarjournal_sections", sections)
        self._set_sentence_starts(doc, text, {f["colon_end"] for f in headings},
                                  {f["heading_start"] for f in headings})
        return doc

    def _word_code(self, word: str) -> int:
        """What a word contributes to the sentence-start rule, as bits (see below)."""
        lexeme = self.vocab[word]
        code = 0
        if ("\n" in word and lexeme.is_space) or word in SENTENCE_END:
            code |= BREAKS_AFTER
        # "12." is kept as one token (the ordinal of a date); before a capitalised word it
        # ends a sentence ("Trombocyttal 12. Transfusion givet."): Danish months are lower-case.
        if word.endswith(".") and len(word) > 1 and (not lexeme.like_num or word[:-1].isdigit()) \
                and word.casefold() not in self.never_final:
            code |= ABBREVIATION_PERIOD
        # A capitalised word after "ve." starts a sentence even when it is an acronym-led compound
        # ("ve. CRP-stigning"): a false start costs a period, a missed one can carry a negation
        # ("Ingen smerter i ve.") over into the next finding.
        if word[:1].isupper() and not word.isupper():
            code |= CAPITALISED
        if word in BULLETS:
            code |= BULLET
        # "hø. UE" is a side and a limb, "hø. NIHSS 7" a new finding: an acronym after an
        # abbreviation's period starts a sentence only when a value follows it.
        if len(word) > 1 and word.isupper() and word.isalnum():
            code |= ACRONYM
        if word[:1].isdigit():
            code |= NUMBER
        if YEAR_PATTERN.fullmatch(word):
            code |= YEAR
        folded = word.casefold()
        if folded in UNITS_WITH_PERIOD:
            code |= UNIT_PERIOD
        if folded in self.dosage_forms:
            code |= DOSAGE_FORM
        if folded in self.drug_names:
            code |= DRUG
        return code

    def _set_sentence_starts(self, doc: Doc, text: str, heading_ends: set[int],
                             heading_starts: set[int]) -> None:
        """A token starts a sentence after a line break or a sentence-ending mark, after a
        period-final word (not a number, not "mhp.") when it is capitalised or an acronym with a
        value after it, at a bullet that begins its line, at a heading and after a heading's
        colon.

        The per-word part is one cached code per word, combined for the whole note at once;
        only bullets and headings are looked at one by one.
        """
        table = token_table(doc)
        texts, idxs, ends = table.texts, table.starts, table.ends
        if not texts:
            write(doc, "klarjournal_sentence_starts", [])
            return
        codes = numpy.fromiter(map(self._codes.__getitem__, texts), dtype=numpy.int16,
                               count=len(texts))
        previous, current = codes[:-1], codes[1:]
        starts = numpy.empty(len(texts), dtype=bool)
        starts[0] = True
        starts[1:] = ((previous & BREAKS_AFTER) != 0) | (
            ((previous & ABBREVIATION_PERIOD) != 0) & ((current & CAPITALISED) != 0))
        starts[1:-1] |= (((codes[:-2] & ABBREVIATION_PERIOD) != 0)
                         & ((codes[1:-1] & ACRONYM) != 0) & ((codes[2:] & NUMBER) != 0)
                         & ((codes[2:] & YEAR) == 0))
        measured = ((previous & NUMBER) != 0) & ((previous & ABBREVIATION_PERIOD) != 0)
        measured[1:] |= ((codes[:-2] & NUMBER) != 0) & ((codes[1:-1] & UNIT_PERIOD) != 0)
        starts[1:] |= measured & ((current & ACRONYM) != 0)
        # After "tbl."/"p.o." comes the drug, listed or not ("Tbl. Serenase"); only after a
        # count ("2 tbl. Næste dosis kl. 20") may a capitalised word start a sentence.
        after_count = numpy.zeros(len(previous), dtype=bool)
        after_count[1:] = (codes[:-2] & NUMBER) != 0
        starts[1:] &= ~(((previous & DOSAGE_FORM) != 0)
                        & (((current & DRUG) != 0) | ~after_count))
        for i in numpy.flatnonzero(previous & BREAKS_AFTER).tolist():
            # "dyspnø, ? LE": a question mark written before a word asks about that word.
            if texts[i] == "?" and 0 < idxs[i] and text[idxs[i] - 1] in " \t" \
                    and "\n" not in text[ends[i]:idxs[i + 1]]:
                starts[i + 1] = False
        for i in numpy.flatnonzero(current & BULLET).tolist():
            if not starts[i + 1] and _starts_line(text, idxs[i + 1]):
                starts[i + 1] = True
        for char in heading_starts:
            i = bisect_left(idxs, char)
            if 0 < i < len(idxs) and idxs[i] == char:
                starts[i] = True
        for char in heading_ends:
            # Every token right after one that ends at the colon (ends never decrease).
            i = bisect_left(ends, char)
            while i < len(ends) - 1 and ends[i] == char:
                starts[i + 1] = True
                i += 1
        # Set all at once: assigning token.is_sent_start one by one rescans the doc each time.
        doc.from_array([SENT_START], numpy.where(starts, 1, -1).astype("uint64").reshape(-1, 1))
        write(doc, "klarjournal_sentence_starts", starts.tolist())


def _starts_line(text: str, char: int) -> bool:
    line_start = text.rfind("\n", 0, char) + 1
    return not text[line_start:char].strip()


@Language.factory("klarjournal_sections",
                  assigns=["token.is_sent_start", "doc._.klarjournal_sections",
                           "doc._.klarjournal_sentence_starts"])
def make_sections(nlp: Language, name: str) -> SectionSplitter:
    register_extensions()
    return SectionSplitter(nlp.vocab)
