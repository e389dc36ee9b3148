"""Baselines every evaluation runs beside the system, producing translation dicts as well.

- ``untouched``: the note as written (plain = original, no spans). What the patient reads today.
- ``dictionary``: exact-match replacement with the same lexicon, no context, no grammar: every
  lexicon surface found in the note (case-insensitive unless the entry is case-sensitive, whole
  words only, leftmost-longest, no overlaps) is replaced by the first lay reading of its first
  sense. Aho-Corasick (``pyahocorasick``) finds all surface occurrences in one pass.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ahocorasick

from klarjournal.lexicon import Entry, Lexicon

UNTOUCHED = "untouched"
DICTIONARY = "dictionary"


def untouched(text: str, note_id: str | None = None) -> dict[str, Any]:
    return {"id": note_id, "original": text, "plain": text, "spans": [], "sections": [],
            "unresolved": [], "versions": {"baseline": UNTOUCHED}}


def _fold(text: str) -> str:
    """Lower-case character by character so offsets stay those of the original."""
    return "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in text)


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


@dataclass(frozen=True)
class _Candidate:
    surface: str
    entry: Entry
    case_sensitive: bool


class DictionaryBaseline:
    """Longest exact match over lexicon surfaces, replaced by the first lay reading."""

    def __init__(self, lexicon: Lexicon):
        self.version = lexicon.version
        self._automaton = ahocorasick.Automaton()
        by_key: dict[str, list[_Candidate]] = {}
        for entry in lexicon.entries:
            for surface in entry.surfaces:
                by_key.setdefault(_fold(surface), []).append(
                    _Candidate(surface, entry, entry.case_sensitive))
        for key, candidates in by_key.items():
            self._automaton.add_word(key, (key, tuple(candidates)))
        if by_key:
            self._automaton.make_automaton()
        self._empty = not by_key

    def _matches(self, text: str) -> list[tuple[int, int, Entry]]:
        if self._empty:
            return []
        found = []
        for last, (key, candidates) in self._automaton.iter(_fold(text)):
            start, end = last - len(key) + 1, last + 1
            if (start > 0 and _is_word_char(text[start - 1]) and _is_word_char(text[start])) or \
                    (end < len(text) and _is_word_char(text[end]) and _is_word_char(text[end - 1])):
                continue
            for candidate in candidates:
                if not candidate.case_sensitive or text[start:end] == candidate.surface:
                    found.append((start, end, candidate.entry))
                    break
        # Leftmost first, then longest; drop anything overlapping an earlier choice.
        found.sort(key=lambda m: (m[0], -(m[1] - m[0])))
        chosen: list[tuple[int, int, Entry]] = []
        for match in found:
            if not chosen or match[0] >= chosen[-1][1]:
                chosen.append(match)
        return chosen

    def translate(self, text: str, note_id: str | None = None) -> dict[str, Any]:
        parts: list[str] = []
        spans: list[dict[str, Any]] = []
        cursor = 0
        length = 0
        for start, end, entry in self._matches(text):
            parts.append(text[cursor:start])
            length += start - cursor
            sense = entry.all_senses()[0]
            reading = sense.lay[0].text
            spans.append({
                "start": start, "end": end, "surface": text[start:end], "kind": entry.kind,
                "expansion": sense.expansion, "plain": reading,
                "plain_start": length, "plain_end": length + len(reading),
                "source": "lexicon", "confidence": 1.0, "negated": False, "entry": entry.id,
                "sense": sense.id if entry.is_ambiguous else None,
            })
            parts.append(reading)
            length += len(reading)
            cursor = end
        parts.append(text[cursor:])
        return {"id": note_id, "original": text, "plain": "".join(parts), "spans": spans,
                "sections": [], "unresolved": [],
                "versions": {"baseline": DICTIONARY, "lexicon": self.version}}

    def translate_many(self, texts: Sequence[str],
                       note_ids: Sequence[str | None] | None = None) -> list[dict[str, Any]]:
        ids = list(note_ids) if note_ids is not None else [None] * len(texts)
        return [self.translate(text, note_id) for text, note_id in zip(texts, ids, strict=True)]
