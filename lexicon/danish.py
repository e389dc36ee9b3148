"""How common a Danish word is, with inflections lemmatised and compounds split.

Used wherever the project asks "would a patient know this word?": the jargon detector, the
lexicon check of lay readings, and the readability metrics. Word frequencies come from
``wordfreq`` (Zipf scale); lemmas from ``spacy-lookups-data``'s Danish lookup table, cut to the
pairs that can raise a word's frequency (``data/lemmas-da.json.gz``, see ``build_lemmas``).
wordfreq scores most Danish compounds 0, so a word also counts as common when it splits into
common parts (with the linking -s- or -e- allowed between them).
"""

import gzip
import json
from functools import lru_cache
from pathlib import Path

from wordfreq import zipf_frequency

# Zipf 2.5 is about three occurrences per ten million words: below that a word is rare enough
# that a patient may not know it.
COMMON_ZIPF = 2.5
# A term that is also everyday Danish (``akut``, ``diagnose``) needs no explanation: the term
# matcher leaves a ``kind: term`` form this frequent alone.
EVERYDAY_ZIPF = 3.5
MIN_PART = 3

# Written forms that name a side of the body (lower case, as a whole word of a surface), by the
# word a patient reading must then contain. Safety rule: a reading never drops or changes a side.
LATERALITY: dict[str, frozenset[str]] = {
    "venstre": frozenset({"sin", "sin.", "sinister", "sinistra", "sinistrum", "ve.", "venstre",
                          "venstresidig", "venstresidigt", "venstresidige"}),
    "højre": frozenset({"dxt", "dxt.", "dx.", "dexter", "dextra", "dextrum", "hø.", "højre",
                        "højresidig", "højresidigt", "højresidige"}),
    "begge": frozenset({"bilat", "bilat.", "bilateral", "bilateralt", "bilaterale", "begge",
                        "dobbeltsidig", "dobbeltsidigt", "dobbeltsidige"}),
}
# What a reading may say for each side.
LATERALITY_READINGS: dict[str, tuple[str, ...]] = {
    "venstre": ("venstre",), "højre": ("højre",),
    "begge": ("begge", "dobbeltsidig", "bilateral"),
}


def sides_named(text: str) -> set[str]:
    """The sides of the body that ``text`` names by one of the ``LATERALITY`` forms."""
    words = {word.strip(",;:()").lower() for word in text.replace("-", " ").split()}
    return {side for side, forms in LATERALITY.items() if words & forms}


def reading_keeps_sides(surface: str, reading: str) -> bool:
    """Does ``reading`` say every side ``surface`` names?"""
    lowered = reading.lower()
    return all(any(word in lowered for word in LATERALITY_READINGS[side])
               for side in sides_named(surface))

LEMMAS = Path(__file__).parent / "data" / "lemmas-da.json.gz"


@lru_cache(maxsize=1)
def _lemmas() -> dict[str, str]:
    """Inflected forms whose lemma is the more frequent word (built by ``build_lemmas``)."""
    with gzip.open(LEMMAS, "rt", encoding="utf-8") as handle:
        return json.load(handle)["lemmas"]


def lemma(word: str) -> str:
    """The lemma where it is more frequent than ``word`` (all that ``zipf`` needs), else word."""
    return _lemmas().get(word, word)


@lru_cache(maxsize=200_000)
def zipf(word: str) -> float:
    """Zipf frequency of a lower-cased word or of its lemma, whichever is higher."""
    word = word.lower()
    direct = zipf_frequency(word, "da")
    base = lemma(word)
    return max(direct, zipf_frequency(base, "da")) if base != word else direct


@lru_cache(maxsize=200_000)
def split_compound(word: str, max_parts: int = 3) -> tuple[str, ...] | None:
    """Split ``word`` into common Danish parts, preferring the fewest parts; None if it cannot."""
    word = word.lower()
    if zipf(word) >= COMMON_ZIPF:
        return (word,)
    if max_parts < 2:
        return None
    for cut in range(len(word) - MIN_PART, MIN_PART - 1, -1):
        head, tail = word[:cut], word[cut:]
        if len(tail) < MIN_PART:
            continue
        heads = [head]
        if head.endswith(("s", "e")) and len(head) > MIN_PART:
            heads.append(head[:-1])  # linking morpheme: "kræft-s-svulst", "hjert-e-slag"
        for candidate in heads:
            if zipf(candidate) < COMMON_ZIPF:
                continue
            rest = split_compound(tail, max_parts - 1)
            if rest is not None:
                return (candidate, *rest)
    return None


def is_everyday_form(form: str) -> bool:
    """Whether a term form (as written) is as frequent as everyday Danish. A hyphenated form is
    only when every part is and none is an acronym: wordfreq scores "HD-afsnit" by its
    lower-cased parts together, as if it were common."""
    parts = [part for part in form.replace(".", "").split("-") if part]
    if len(parts) > 1:
        return all(not (len(part) > 1 and part.isupper()) and zipf(part) >= EVERYDAY_ZIPF
                   for part in parts)
    return zipf(" ".join(form.casefold().replace(".", "").split())) >= EVERYDAY_ZIPF


def is_common(word: str) -> bool:
    """True when a patient with no health training can be expected to know ``word``."""
    cleaned = word.strip(".,;:!?()[]\"'").lower()
    if not cleaned or not any(ch.isalpha() for ch in cleaned):
        return True
    if "-" in cleaned:
        return all(is_common(part) for part in cleaned.split("-") if part)
    return split_compound(cleaned) is not None
