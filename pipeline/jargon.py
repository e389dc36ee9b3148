"""Words that look like jargon but have no lexicon entry.

A word looks like jargon when a patient is unlikely to know it (not common Danish by
``wordfreq``, even after splitting compounds) and it has a Latin/Greek shape or is written as an
abbreviation (``XYZ``). When its Latin/Greek parts explain it, it becomes a span with
``source: morphology`` and a low confidence; otherwise it stays as written and is listed in
``unresolved``. Capitalised words mid-sentence that are not jargon-shaped (names, brand names)
are left alone.
"""

import re
from itertools import compress
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from klarjournal.lexicon import load_lexicon
from klarjournal.lexicon.keys import fold
from klarjournal.lexicon.danish import is_common
from klarjournal.pipeline.extensions import read, register_extensions, write
from klarjournal.pipeline.morphology import MorphologyExplainer
from klarjournal.pipeline.quantities import protected_tokens
from klarjournal.pipeline.tokens import WordCache, token_table

LATIN_GREEK_SHAPE = re.compile(
    r"(itis|ose|osis|oma|om|ia|ium|um|us|ae|algi|algia|ektomi|ectomi|tomi|stomi|skopi|scopi|"
    r"grafi|graphi|emi|æmi|uri|pati|plasti|megali|logi|pleg[ie]|pare[sc]e|trofi|ptose|ragi|"
    r"rrhagi|cele|ektasi|sklerose|stenose|cyt|penia|peni|ismus|isme|ose)$"
    r"|ph|th|rh|ch|y[^aeiouyæøå]|^(hyper|hypo|dys|brady|taky|tachy|peri|endo|epi|intra|supra|infra|"
    r"sub|trans|poly|oligo|an[ae]|hemi|para|post|præ|pre)",
    re.IGNORECASE,
)
# Letter sequences Danish words rarely have but Latin and Greek loans do.
UNDANISH_LETTERS = re.compile(r"^(pn|ps|pt|gn)|c(?![hk])|x|z|q", re.IGNORECASE)
VOWELS = set("aeiouyæøå")
ABBREVIATION_SHAPE = re.compile(r"^[A-ZÆØÅ][A-ZÆØÅ0-9]{1,5}$")
# A word's jargon code: it looks like jargon anywhere, or only where it starts a sentence.
ANYWHERE, AT_SENTENCE_START = 3, 2


class JargonFinder:
    def __init__(self, morphology_confidence: float, min_length: int):
        self.morphology_confidence = morphology_confidence
        self.min_length = min_length
        self.explainer = MorphologyExplainer(())
        # Forms of the lexicon's everyday entries (evt., drug names): known, so never listed
        # as unexplained, though they are not rewritten either.
        self.known: frozenset[str] = frozenset()
        # The answer depends only on the word and whether it starts a sentence: words repeat
        # from note to note, so it is kept per word for both places (see _jargon_code).
        self._codes = WordCache(self._jargon_code)

    def initialize(self, get_examples: Any = None, *, nlp: Language | None = None,
                   lexicon_dir: str | None = None, overlays: list[str] | None = None) -> None:
        lexicon = load_lexicon(lexicon_dir, overlays or [])
        self.explainer = MorphologyExplainer(lexicon.morphemes)
        self.known = frozenset(
            fold(form) for entry in lexicon.entries if entry.everyday
            for form in [*entry.surfaces, *(f for fs in entry.inflections.values() for f in fs)])
        self._codes.clear()

    def looks_like_jargon(self, text: str, sentence_start: bool) -> bool:
        code = self._codes[text]
        return code == ANYWHERE or (code == AT_SENTENCE_START and sentence_start)

    def _jargon_code(self, text: str) -> int:
        """ANYWHERE, AT_SENTENCE_START (a capitalised word: mid-sentence it is a name or a
        brand, not jargon) or 0."""
        if fold(text) in self.known:
            return 0
        if ABBREVIATION_SHAPE.match(text):
            return 0 if is_common(text) else ANYWHERE
        if not text.isalpha() or len(text) < self.min_length:
            return 0
        # Long words ending in a consonant + i (pneumoni, gastroskopi) are Greek in Danish dress.
        greek_ending = len(text) >= 7 and text[-1] == "i" and text[-2].lower() not in VOWELS
        shaped = greek_ending or bool(LATIN_GREEK_SHAPE.search(text)
                                      or UNDANISH_LETTERS.search(text))
        # The word-frequency lookup is the slow test: only for words with a jargon shape.
        if not shaped or is_common(text):
            return 0
        return AT_SENTENCE_START if text[:1].isupper() and not text.isupper() else ANYWHERE

    def __call__(self, doc: Doc) -> Doc:
        matches = read(doc, "klarjournal_matches") or []
        covered = {i for m in matches for i in range(m["token_start"], m["token_end"])}
        protected = protected_tokens(doc)
        unresolved = []
        table = token_table(doc)
        starts = read(doc, "klarjournal_sentence_starts") or [False] * len(table.texts)
        texts = table.texts
        codes = list(map(self._codes.__getitem__, texts))
        # Only the few words that can look like jargon are looked at one by one.
        for i in compress(range(len(codes)), codes):
            if i in covered or protected[i] or (codes[i] == AT_SENTENCE_START and not starts[i]):
                continue
            text = texts[i]
            start, end = table.starts[i], table.ends[i]
            explanation = self.explainer.explain(text) if text.isalpha() else None
            if explanation is None:
                unresolved.append({"start": start, "end": end, "surface": text,
                                   "reason": "no lexicon entry"})
                continue
            matches.append({
                "start": start, "end": end, "token_start": i, "token_end": i + 1, "surface": text,
                "entry": None, "kind": "term", "slot": "base", "genitive": False,
                "source": "morphology", "confidence": self.morphology_confidence,
                "senses": [], "sense": None, "ambiguous": False, "negated": False,
                "uncertain": False, "historical": False, "family": False,
                "morphology_reading": {"expansion": text, "plain": explanation},
            })
        matches.sort(key=lambda m: m["start"])
        write(doc, "klarjournal_matches", matches)
        write(doc, "klarjournal_unresolved", unresolved)
        return doc


@Language.factory(
    "klarjournal_jargon",
    default_config={"morphology_confidence": 0.5, "min_length": 5},
    requires=["doc._.klarjournal_matches"],
    assigns=["doc._.klarjournal_matches", "doc._.klarjournal_unresolved"],
)
def make_jargon(nlp: Language, name: str, morphology_confidence: float,
                min_length: int) -> JargonFinder:
    register_extensions()
    return JargonFinder(morphology_confidence, min_length)
