"""Readability counts: LIX and the share of rare words, for original and patient text.

Definitions (the report and an independent scorer rely on them being literal):
- a word is a maximal run of letters (``[^\\W\\d_]+``): "145/90" is no word, "p.o." is two;
- a long word has more than 6 letters;
- a sentence is a stretch of text that holds at least one word and is ended by a run of ``.``,
  ``!``, ``?`` or ``:`` followed by white space and a capital letter, by a line break, or by the
  end of the text. So "Pt. indlagt" and "ca. 5 mg" stay one sentence, while the period of an
  abbreviation before a capital ("obs. DVT") ends one, in original and patient text alike. The
  negation rule in ``metrics`` uses the same sentences;
- LIX = words / sentences + 100 * long words / words;
- a word is rare when ``klarjournal.lexicon.danish.is_common`` says a patient cannot be expected
  to know it (word frequency, lemmas and compound splitting).

Corpus figures sum the counts over notes before dividing (a long note weighs more).
"""

import re
from dataclasses import dataclass

from klarjournal.lexicon.danish import is_common

WORD = re.compile(r"[^\W\d_]+")
SENTENCE_END = re.compile(r"[.!?:]+(?=\s+[A-ZÆØÅ])|\n")
LONG_WORD = 6


@dataclass(frozen=True)
class TextCounts:
    words: int
    sentences: int
    long_words: int
    rare_words: int


def words(text: str) -> list[str]:
    return WORD.findall(text)


def sentence_bounds(text: str, position: int) -> tuple[int, int]:
    """Start and end of the sentence holding ``position`` (end excludes the break)."""
    start, end = 0, len(text)
    for match in SENTENCE_END.finditer(text):
        if match.end() <= position:
            start = match.end()
        elif match.start() >= position:
            end = match.start()
            break
    return start, end


def count_sentences(text: str) -> int:
    return sum(1 for part in SENTENCE_END.split(text) if WORD.search(part))


def text_counts(text: str) -> TextCounts:
    found = words(text)
    return TextCounts(
        words=len(found),
        sentences=count_sentences(text),
        long_words=sum(1 for w in found if len(w) > LONG_WORD),
        rare_words=sum(1 for w in found if not is_common(w)),
    )


def lix(words: int, sentences: int, long_words: int) -> float | None:
    """LIX from counts; None for a text without words."""
    if words == 0 or sentences == 0:
        return None
    return words / sentences + 100.0 * long_words / words
