"""Find lexicon terms in a note: abbreviations, Latin/Greek terms and multi-word phrases.

Matching goes from the most to the least certain reading of a written form:

1. the form or one of its listed inflections (``pneumonien``), any casing and with or without
   the periods (``p.o.``/``po``) — ``source: lexicon``;
2. an abbreviation with a suffix after an apostrophe (``EKG'et``) or a genitive -s
   (``KOL's``) — ``source: lexicon``;
3. a term with a regular Danish ending the data does not list (``dyspnøen``) —
   ``source: fuzzy``, slightly lower confidence;
4. a misspelling within the rapidfuzz threshold (``pneunomi``) — ``source: fuzzy``, confidence
   is the similarity; anything below the threshold is never shown to a patient.

Case-sensitive entries (``MS`` vs ``ms``) match only their exact casing. A period-less
written form that is an ordinary Danish word (``sin`` for ``sin.``) is not read as the
abbreviation. Quantities (doses, values, dates) are never looked into.
"""

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress
from os.path import commonprefix
from typing import Any

from rapidfuzz import fuzz, process
from spacy.language import Language
from spacy.tokens import Doc

from klarjournal.lexicon import Entry, load_lexicon
from klarjournal.lexicon.danish import is_common, is_everyday_form
from klarjournal.lexicon.keys import APOSTROPHES, exact, fold, has_inner_period, shapes_differ
from klarjournal.lexicon.schema import Slot
from klarjournal.pipeline.extensions import read, register_extensions, write
from klarjournal.pipeline.quantities import protected_tokens
from klarjournal.pipeline.tokens import TokenTable, WordCache, cached_fold, has_digit, token_table

# Suffixes after an apostrophe on an abbreviation (EKG'et, CT'en, EKG'erne, KOL's).
APOSTROPHE_SUFFIX_SLOT: dict[str, tuple[Slot, bool]] = {
    "en": ("def", False), "et": ("def", False), "n": ("def", False), "t": ("def", False),
    "er": ("pl", False), "e": ("pl", False), "r": ("pl", False),
    "erne": ("pl_def", False), "ene": ("pl_def", False), "rne": ("pl_def", False),
    "s": ("base", True), "ens": ("def", True), "ets": ("def", True), "ernes": ("pl_def", True),
}
# Regular Danish noun endings, longest first, for inflections the data does not list.
NOUN_ENDINGS: tuple[tuple[str, Slot], ...] = (
    ("erne", "pl_def"), ("ene", "pl_def"), ("rne", "pl_def"), ("en", "def"), ("et", "def"),
    ("er", "pl"), ("n", "def"), ("r", "pl"),
)
# Specimen prefixes of Danish laboratory names and where the value was measured.
SPECIMEN_PREFIXES = {"p": ("plasma", "i blodet"), "b": ("blod", "i blodet"),
                     "s": ("serum", "i blodet"), "u": ("urin", "i urinen"),
                     "f": ("fæces", "i afføringen"), "csv": ("cerebrospinalvæske", "i rygmarvsvæsken"),
                     "cs": ("cerebrospinalvæske", "i rygmarvsvæsken")}
MIN_FUZZY_LENGTH = 6
# A first part that turns a compound into its opposite ("non-STEMI", "ikke-småcellet").
NEGATING_PREFIXES = frozenset({"non", "ikke", "ej"})


def _base_surface(entry: Entry, form: str, slot: Slot) -> str:
    """The surface of ``entry`` that ``form`` inflects: the one sharing the longest start."""
    if slot == "base":
        return form
    key = fold(form)
    return max(entry.surfaces, key=lambda surface: len(commonprefix([fold(surface), key])))


@dataclass(frozen=True)
class Candidate:
    entry_id: str
    slot: Slot
    form: str
    exact_key: str
    case_sensitive: bool
    # The data writes this form with a period and without it the form is an ordinary word.
    needs_period: bool
    # An upper-case abbreviation whose lower-case form is an ordinary word (ILT/ilt, VE/ve.):
    # written all in lower case it is the word, not the abbreviation.
    needs_capital: bool
    # The entry surface this form is written from ("pleuradrænet" -> "pleuradræn"): a term's
    # own professional form, which may differ from the entry's expansion (a synonym).
    base: str


# Prefixes of opposite meaning: a word one letter from a term with the other prefix is no
# misspelling of it ("exoftalmus" is not "enoftalmus", a sunken eye).
OPPOSITE_PREFIXES: tuple[tuple[str, str], ...] = (
    ("hyper", "hypo"), ("exo", "endo"), ("ekso", "endo"), ("ex", "en"), ("eks", "en"),
    ("intra", "extra"), ("intra", "ekstra"), ("infra", "supra"), ("sub", "supra"),
    ("pre", "post"), ("præ", "post"), ("ante", "retro"), ("ab", "ad"), ("brady", "taky"),
    ("brady", "takhy"), ("brady", "tachy"), ("mikro", "makro"), ("micro", "macro"),
    ("oligo", "poly"), ("hypo", "normo"), ("hyper", "normo"),
)


def opposite_prefixes(word: str, term: str) -> bool:
    """Do ``word`` and ``term`` (both folded) begin with prefixes of opposite meaning?"""
    return any((word.startswith(a) and term.startswith(b)) or
               (word.startswith(b) and term.startswith(a)) for a, b in OPPOSITE_PREFIXES)


class TermMatcher:
    def __init__(self, fuzzy_threshold: float, inflection_confidence: float,
                 compound_confidence: float):
        self.fuzzy_threshold = fuzzy_threshold
        self.inflection_confidence = inflection_confidence
        self.compound_confidence = compound_confidence
        self.entries: dict[str, Entry] = {}
        # Entry.all_senses() builds a validated Sense each call: keep the ids per entry.
        self.sense_ids: dict[str, list[str]] = {}
        self.by_key: dict[str, list[Candidate]] = {}
        self.phrase_first_keys: set[str] = set()
        self.key_prefixes: set[str] = set()
        self.max_phrase_tokens = 1
        self.term_bases: dict[str, list[Candidate]] = {}
        self.fuzzy_pool: dict[str, list[str]] = {}
        # Readings depend only on the written word and the lexicon: words repeat from note to
        # note, so cache them (callers copy the dict before changing it).
        self._word_reading = WordCache(self._token_reading)
        self._may_start = WordCache(self._may_start_term)

    def initialize(self, get_examples: Any = None, *, nlp: Language,
                   lexicon_dir: str | None = None, overlays: list[str] | None = None) -> None:
        lexicon = load_lexicon(lexicon_dir, overlays or [])
        self.entries = {entry.id: entry for entry in lexicon.entries}
        self.sense_ids = {entry.id: [s.id for s in entry.all_senses()] for entry in lexicon.entries}
        by_key: dict[str, list[Candidate]] = defaultdict(list)
        for entry in lexicon.entries:
            forms: list[tuple[str, Slot]] = [(s, "base") for s in entry.surfaces]
            forms += [(f, slot) for slot, fs in entry.inflections.items() for f in fs]
            for form, slot in forms:
                key = fold(form)
                if not key or (entry.kind == "term" and not entry.jargon
                                and is_everyday_form(form)):
                    continue
                needs_period = "." in form and is_common(key)
                needs_capital = form.isupper() and is_common(key)
                by_key[key].append(Candidate(entry.id, slot, form, exact(form), entry.case_sensitive,
                                             needs_period, needs_capital,
                                             _base_surface(entry, form, slot)))
                tokens = [t.text for t in nlp.tokenizer(form)]
                if len(tokens) > 1:
                    self.phrase_first_keys.add(fold(tokens[0]))
                    self.max_phrase_tokens = max(self.max_phrase_tokens, len(tokens))
        self.by_key = dict(by_key)
        self.key_prefixes = {key[:end] for key in self.by_key for end in range(1, len(key) + 1)}
        self.term_bases = {
            key: [c for c in cands if c.slot == "base"]
            for key, cands in self.by_key.items()
            if any(self.entries[c.entry_id].kind == "term" and c.slot == "base" for c in cands)
            and len(key) >= 4
        }
        pool: dict[str, list[str]] = defaultdict(list)
        for key, cands in self.by_key.items():
            # Never towards an everyday form: a near-miss of a drug name is another drug
            # ("Dinoprost" is not "Dinoproston").
            if len(key) >= MIN_FUZZY_LENGTH and " " not in key and any(
                    self.entries[c.entry_id].kind == "term" for c in cands) and not any(
                    self.entries[c.entry_id].everyday for c in cands):
                pool[key[0]].append(key)
        self.fuzzy_pool = dict(pool)
        # Readings of the previous lexicon no longer hold.
        self._word_reading.clear()
        self._may_start.clear()

    # -- lookup of one written form -------------------------------------------------------
    def _candidates(self, text: str) -> list[Candidate]:
        """Entries ``text`` can stand for as written (case, periods and shape respected)."""
        has_period = "." in text
        # An acronym that is also a Danish word (SOM, ALT, SE) only when written in capitals:
        # "Som" starting a sentence is the word.
        all_capitals = text.isupper()
        found = [
            c for c in self.by_key.get(cached_fold(text), [])
            if (not c.case_sensitive or exact(text) == c.exact_key)
            and (has_period or not c.needs_period)
            and (all_capitals or not c.needs_capital)
            and not shapes_differ(c.form, text)
        ]
        if len(found) > 1:
            # "p.t." (på nuværende tidspunkt) is not "pt" (patienten) when the lexicon has both;
            # a form dotted as written wins. With one of them only, "iv" still finds "i.v.".
            inner = has_inner_period(text)
            found = [c for c in found if has_inner_period(c.form) == inner] or found
            # Likewise "Ca." (cirka) is not "Ca" (calcium): a final period as written wins.
            final = text.endswith(".")
            found = [c for c in found if c.form.endswith(".") == final] or found
        return found

    def _everyday(self, candidates: list[Candidate]) -> bool:
        return any(self.entries[c.entry_id].everyday for c in candidates)

    def _is_everyday_word(self, word: str) -> bool:
        """A listed everyday form (evt., a drug name), as written or in the genitive."""
        found = self._candidates(word)
        if not found and word.endswith("s"):
            found = self._candidates(word[:-1])
        return bool(found) and self._everyday(found)

    def lookup(self, text: str) -> dict[str, Any] | None:
        """How one written form (one token, or a phrase) is read, or None."""
        return self._lookup(text)

    def _lookup(self, text: str) -> dict[str, Any] | None:
        direct = self._candidates(text)
        if direct:
            if self._everyday(direct):
                return None
            return self._reading(direct, genitive=False, source="lexicon", confidence=1.0)
        for mark in APOSTROPHES:
            if mark in text:
                base, _, suffix = text.rpartition(mark)
                slot_gen = APOSTROPHE_SUFFIX_SLOT.get(suffix.lower())
                found = self._candidates(base) if slot_gen else []
                if found and slot_gen:
                    slot, genitive = slot_gen
                    return self._reading(found, genitive, "lexicon", 1.0, slot=slot)
        if text.endswith("s") and (len(text) > 3 or text[:-1].isupper()):
            found = self._candidates(text[:-1])
            # A derived form that is everyday Danish is that word ("aftes" is no genitive of
            # "afte"); listed forms and acronyms (KOL's, KOLs) are read as written.
            if found and (text[:-1].isupper() or not is_common(text)):
                return self._reading(found, True, "lexicon", 1.0)
        return self._inflected_or_misspelt(text)

    def _compound(self, word: str) -> dict[str, Any] | None:
        """A closed compound whose last part is a lexicon term (Kontrolkoloskopi).

        The first part must be everyday Danish or a lexicon form too; the reading joins the
        first part as written to the last part's lay reading, marked as a composed reading. A
        reading of several words cannot be joined ("udad-de små muskler, der drejer hoften"):
        the compound then stays as written.
        """
        if not word.isalpha() or len(word) < 9:
            return None
        for cut in range(3, len(word) - 4):
            head, tail = word[:cut], word[cut:]
            found = self._candidates(tail)
            if not found or self.entries[found[0].entry_id].kind != "term":
                continue
            bare_head = head[:-1] if head[-1:] in "se" and len(head) > 3 else head
            if is_common(head) or is_common(bare_head):
                # An everyday compound is no term (tested last: word frequencies are slow).
                if is_common(word):
                    return None
                entry = self.entries[min(found, key=lambda c: c.entry_id).entry_id]
                if " " in entry.all_senses()[0].lay[0].text:
                    return None
                reading = self._reading(found, False, "fuzzy", self.compound_confidence)
                return {**reading, "compound_head": head}
        return None

    def _inflected_or_misspelt(self, text: str) -> dict[str, Any] | None:
        if not text.isalpha() or len(text) < 5:
            return None
        key = fold(text)
        for genitive in (False, True):
            word = key[:-1] if genitive else key
            if genitive and not key.endswith("s"):
                continue
            for ending, slot in NOUN_ENDINGS:
                if word.endswith(ending) and word[: -len(ending)] in self.term_bases:
                    # "aften" is the evening, not "afte" + -n: a regular ending never turns
                    # an everyday word into a term.
                    if is_common(key):
                        return None
                    found = self.term_bases[word[: -len(ending)]]
                    return self._reading(found, genitive, "fuzzy", self.inflection_confidence,
                                         slot=slot)
        if len(key) < MIN_FUZZY_LENGTH:
            return None
        best = process.extractOne(key, self.fuzzy_pool.get(key[0], []), scorer=fuzz.ratio,
                                  score_cutoff=self.fuzzy_threshold)
        # An everyday word is never read as a misspelt term. The word-frequency test costs three
        # times the fuzzy search on a new word: only for the few words close to a term.
        if best is None or opposite_prefixes(key, best[0]) or is_common(key):
            return None
        found = self.by_key[best[0]]
        return self._reading(found, False, "fuzzy", round(best[1] / 100, 3))

    def _reading(self, candidates: list[Candidate], genitive: bool, source: str,
                 confidence: float, slot: Slot | None = None) -> dict[str, Any]:
        # One entry per written form is guaranteed by `lexicon check`; if an overlay breaks
        # that, the first entry by id wins and the collision shows in `lexicon check`.
        chosen = min(candidates, key=lambda c: c.entry_id)
        entry = self.entries[chosen.entry_id]
        senses = self.sense_ids[entry.id]
        return {
            "entry": entry.id, "kind": entry.kind, "slot": slot or chosen.slot,
            "genitive": genitive, "source": source, "confidence": confidence,
            "senses": list(senses), "sense": senses[0], "base": chosen.base,
            "ambiguous": entry.is_ambiguous,
        }

    # -- the component ----------------------------------------------------------------------
    def __call__(self, doc: Doc) -> Doc:
        table = token_table(doc)
        text = table.text
        protected = protected_tokens(doc)
        matches = _heading_matches(doc, text)
        taken = {i for m in matches for i in range(m["token_start"], m["token_end"])}
        # Most words start no term: the cached answer per word rules them out for a whole
        # note at once, and only the few tokens left are tried here.
        candidates = compress(range(len(table.texts)), map(self._may_start.__getitem__,
                                                              table.texts))
        quantities = read(doc, "klarjournal_quantities") or []
        # A phrase never runs into the next sentence ("stigende. Kreatinin 98" is no
        # "kreatininstigning"): sentence starts bound it like spans already taken.
        bounds = taken | set(compress(range(len(table.texts)),
                                      read(doc, "klarjournal_sentence_starts") or []))
        position = 0
        for i in candidates:
            if i < position or i in taken:
                continue
            found = self._match_at(table, text, i, protected, bounds)
            if found is None:
                continue
            end, reading = found
            if reading is None:
                position = end
                continue
            if i and table.keys[i - 1] == "non":
                continue  # "Non STEMI" written apart is still not STEMI
            start_char = table.starts[i] + reading.get("tail_offset", 0)
            char_end = reading.get("char_end", table.ends[end - 1])
            # A token that holds a quantity keeps it: only a reading of the part after it
            # ("type 2-DM": the DM after the hyphen) is taken, or of the whole token where the
            # lexicon writes it with its number ("5-FU"; the renderer keeps the written form).
            if protected[i] and _overlaps(quantities, start_char, char_end) and not (
                    has_digit(table.texts[i])
                    and cached_fold(text[start_char:char_end]) in self.by_key
                    and _covers_quantities(quantities, start_char, char_end)):
                continue
            match = {"start": start_char, "end": char_end, "token_start": i,
                     "token_end": end, "surface": text[start_char:char_end],
                     "negated": False, "uncertain": False, "historical": False,
                     "family": False, **reading}
            match.pop("char_end", None)
            match.pop("tail_offset", None)
            matches.append(match)
            position = end
        matches.sort(key=lambda m: m["start"])
        write(doc, "klarjournal_matches", matches)
        return doc

    def _may_start_term(self, word: str) -> bool:
        """Whether a term can start at a token written ``word`` (a phrase, or a reading)."""
        return _has_letter(word) and (cached_fold(word) in self.phrase_first_keys
                                      or self._word_reading[word] is not None)

    def _match_at(self, table: TokenTable, text: str, i: int, protected: list[bool],
                  bounds: set[int]) -> tuple[int, dict[str, Any] | None] | None:
        """The end token and reading of the term starting at token ``i``; no reading for an
        everyday phrase (its tokens are taken all the same); None when no term starts here."""
        if table.keys[i] in self.phrase_first_keys:
            last = min(len(table.texts), i + self.max_phrase_tokens)
            # A longer phrase folds to an extension of a shorter one's key: stop growing it once
            # its key begins no lexicon key, and try only the lengths up to there. A phrase
            # never runs into a span already taken or a new sentence (``bounds``; token i is
            # free); it takes in a quantity only where the lexicon writes that number ("CA 19-9",
            # "ECOG 2"), and the renderer then keeps the written form with its number beside it.
            start, longest = table.starts[i], i + 1
            while longest < last and longest not in bounds and \
                    not (protected[longest] and table.texts[longest].endswith(".")
                         and not _is_final_number(table.texts[longest])) and \
                    cached_fold(text[start:table.ends[longest]]) in self.key_prefixes:
                longest += 1
                if _is_final_number(table.texts[longest - 1]):
                    break
            for end in range(longest, i + 1, -1):
                # A phrase never ends on punctuation: that belongs to the sentence, and the
                # lexicon's own periods are inside single tokens (``pulm.``). A closing bracket
                # can end a written form ("Lp(a)").
                if table.infos[end - 1].is_space or (table.infos[end - 1].is_punct
                                                     and table.texts[end - 1] != ")"):
                    continue
                phrase = text[start:table.ends[end - 1]]
                if "\n" in phrase:
                    continue
                # "Pt. er ASA 3.": the number and the sentence's period are one token; the
                # phrase ends before the period, which stays the sentence's.
                final_period = _is_final_number(table.texts[end - 1])
                if final_period:
                    phrase = phrase[:-1]
                candidates = self._candidates(phrase)
                if candidates and self._everyday(candidates):
                    # An everyday phrase keeps its words as written, each one too.
                    return end, None
                if candidates:
                    reading = self._reading(candidates, False, "lexicon", 1.0)
                    if final_period:
                        reading["char_end"] = start + len(phrase)
                    return end, reading
        reading = self._word_reading[table.texts[i]]
        if reading is None:
            return None
        if "head_length" in reading:
            reading = {**reading, "char_end": table.starts[i] + reading["head_length"]}
            del reading["head_length"]
        return i + 1, reading

    def _token_reading(self, word: str) -> dict[str, Any] | None:
        """A single token's reading, including prefix and compound forms (cached per word)."""
        reading = self._lookup(word)
        if reading:
            return reading
        if self._is_everyday_word(word):
            return None  # "Hjertemagnyl" is a name as written, not "hjerte" + "Magnyl"
        head, _, tail = word.partition("-")
        specimen = SPECIMEN_PREFIXES.get(head.lower()) if tail else None
        if specimen:
            # Laboratory notation: P-kreatinin is creatinine measured in the blood.
            found = self._candidates(tail)
            if found and not self._everyday(found):
                return {**self._reading(found, False, "lexicon", 1.0),
                        "specimen": specimen[1], "specimen_name": specimen[0]}
        compound = self._compound(word)
        if compound:
            return compound
        if tail and len(head) >= 2:
            # Hyphen compound (KOL-patienten, CT-scanningen): explain the known first part and
            # keep the rest as written.
            direct = self._candidates(head)
            if direct and not self._everyday(direct):
                return {**self._reading(direct, False, "lexicon", 1.0), "head_length": len(head)}
        lead, _, last = word.rpartition("-")
        # "Non-STEMI" is another diagnosis than STEMI: never explained by its last part.
        if lead and len(last) >= 2 and lead.casefold() not in NEGATING_PREFIXES:
            # Known last part (Hjemme-BP, NSTE-MI, Lunge-TB, gastroskopi-biopsier): explain it
            # and keep the first part as written.
            reading = self._lookup(last)
            if reading:
                return {**reading, "tail_offset": len(lead) + 1}
        return None


def _overlaps(ranges: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether [start, end) overlaps one of the sorted, disjoint character ``ranges``."""
    k = bisect_left(ranges, (end,))
    return k > 0 and ranges[k - 1][1] > start


def _covers_quantities(ranges: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether every one of the sorted ``ranges`` that overlaps [start, end) lies inside it
    ("5-FU" holds its "5"; "O2" of "2 l O2" is part of a quantity)."""
    k = bisect_left(ranges, (end,))
    while k > 0 and ranges[k - 1][1] > start:
        if ranges[k - 1][0] < start or ranges[k - 1][1] > end:
            return False
        k -= 1
    return True


def _is_final_number(word: str) -> bool:
    """A number written with a period after it ("3."): an ordinal, or a number ending a
    sentence."""
    return len(word) > 1 and word.endswith(".") and word[:-1].isdigit()


@lru_cache(maxsize=200_000)
def _has_letter(word: str) -> bool:
    return any(ch.isalpha() for ch in word)


def _heading_matches(doc: Doc, text: str) -> list[dict[str, Any]]:
    """Headings that are jargon (``Obj.:``, ``Anamnese:``) become spans with the patient heading."""
    matches = []
    for section in read(doc, "klarjournal_sections") or []:
        if not section["jargon"]:
            continue
        span = doc.char_span(section["heading_start"], section["heading_end"],
                             alignment_mode="expand")
        if span is None:
            continue
        heading = text[section["heading_start"]:section["heading_end"]]
        matches.append({
            "start": section["heading_start"], "end": section["heading_end"],
            "token_start": span.start, "token_end": span.end, "surface": heading,
            "entry": f"section:{section['id']}",
            "kind": "abbreviation" if heading.endswith(".") or len(heading) <= 4 else "term",
            "slot": "base", "genitive": False, "source": "lexicon", "confidence": 1.0,
            "senses": [], "sense": None, "ambiguous": False, "negated": False,
            "uncertain": False, "historical": False, "family": False,
            "heading_reading": {"expansion": section["expansion"],
                                "plain": section["plain_heading"]},
        })
    return matches


@Language.factory(
    "klarjournal_terms",
    default_config={"fuzzy_threshold": 90.0, "inflection_confidence": 0.9,
                    "compound_confidence": 0.8},
    requires=["doc._.klarjournal_quantities", "doc._.klarjournal_sections"],
    assigns=["doc._.klarjournal_matches"],
)
def make_terms(nlp: Language, name: str, fuzzy_threshold: float,
               inflection_confidence: float, compound_confidence: float) -> TermMatcher:
    register_extensions()
    return TermMatcher(fuzzy_threshold, inflection_confidence, compound_confidence)
