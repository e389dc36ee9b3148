"""Danish negation, uncertainty, history and family cues, in the spirit of ConText.

Cues come from ``context_rules.jsonl``. A cue's scope runs forward or backward from it, up to
``max_scope`` tokens, never past the sentence, a semicolon or a terminating cue (``men``,
``dog``); a forward one not past a repeat of the finding. The
longest cue at a position wins, so ``kan ikke udelukkes`` (uncertain) hides the ``ikke`` inside
it, and pseudo-cues (``ikke kun``) switch off the cue they contain.
"""

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from itertools import compress
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from klarjournal.lexicon import ContextRule, load_lexicon
from klarjournal.lexicon.keys import fold
from klarjournal.pipeline.extensions import read, register_extensions
from klarjournal.pipeline.tokens import token_table

CATEGORY_FLAG = {"negated": "negated", "uncertain": "uncertain", "historical": "historical",
                 "family": "family"}


@dataclass(frozen=True)
class CueHit:
    token_start: int
    token_end: int
    rule: ContextRule


class ContextMarker:
    def __init__(self) -> None:
        self.rules_by_first: dict[str, list[tuple[tuple[str, ...], ContextRule]]] = {}

    def initialize(self, get_examples: Any = None, *, nlp: Language,
                   lexicon_dir: str | None = None, overlays: list[str] | None = None) -> None:
        rules: dict[str, list[tuple[tuple[str, ...], ContextRule]]] = {}
        for rule in load_lexicon(lexicon_dir, overlays or []).context_rules:
            words = tuple(fold(t.text) for t in nlp.tokenizer(rule.literal) if fold(t.text))
            if words:
                rules.setdefault(words[0], []).append((words, rule))
        for candidates in rules.values():
            candidates.sort(key=lambda item: len(item[0]), reverse=True)
        self.rules_by_first = rules

    def find_cues(self, doc: Doc) -> list[CueHit]:
        keys = token_table(doc).keys
        hits, position = [], 0
        # Only tokens that begin some cue are tried (found for the whole note at once).
        for i in compress(range(len(keys)), map(self.rules_by_first.__contains__, keys)):
            if i < position:
                continue  # inside the cue found before
            for words, rule in self.rules_by_first[keys[i]]:
                if tuple(keys[i:i + len(words)]) == words:
                    hits.append(CueHit(i, i + len(words), rule))
                    position = i + len(words)
                    break
        return hits

    def __call__(self, doc: Doc) -> Doc:
        matches = read(doc, "klarjournal_matches") or []
        if not matches:
            return doc
        cues = self.find_cues(doc)
        if not cues:
            return doc
        keys = token_table(doc).keys
        sentence_of = _sentence_index(doc)
        cues_by_sentence: dict[int, list[CueHit]] = {}
        for cue in cues:
            cues_by_sentence.setdefault(sentence_of(cue.token_start), []).append(cue)
        for match in matches:
            sentence_cues = cues_by_sentence.get(sentence_of(match["token_start"]), [])
            for cue in sentence_cues:
                if cue.rule.category in ("pseudo", "terminate"):
                    continue
                if _in_scope(cue, match, sentence_cues, keys) and not _repeated(cue, match,
                                                                                matches):
                    match[CATEGORY_FLAG[cue.rule.category]] = True
        return doc


def _repeated(cue: CueHit, match: dict[str, Any], matches: list[dict[str, Any]]) -> bool:
    """Whether the same finding already stands between a forward cue and this match: "ingen
    dyspnø i hvile, dyspnø ved anstrengelse" negates only the first."""
    return match["token_start"] >= cue.token_end and any(
        other["entry"] == match["entry"]
        and cue.token_end <= other["token_start"] < match["token_start"] for other in matches)


def _in_scope(cue: CueHit, match: dict[str, Any], cues: list[CueHit], keys: list[str]) -> bool:
    direction, scope = cue.rule.direction, cue.rule.max_scope
    # A finding may begin inside the cue's own words: "ingen [tegn på inflammation]".
    forward = direction in ("forward", "bidirectional") and match["token_start"] > cue.token_start \
        and match["token_start"] - cue.token_end < scope
    backward = direction in ("backward", "bidirectional") and match["token_end"] <= cue.token_start \
        and cue.token_start - match["token_end"] < scope
    if not (forward or backward):
        return False
    lo, hi = ((min(cue.token_end, match["token_start"]), match["token_start"]) if forward
              else (match["token_end"], cue.token_start))
    # A semicolon ends every scope ("ingen dyspnø; takykardi"). A comma does not: "ingen feber,
    # hoste eller dyspnø" and "pneumoni, DVT og LE afkræftet" are lists.
    if ";" in keys[lo:hi]:
        return False
    # A terminating cue between the cue and the finding ends the scope ("ingen feber, men hoste").
    return not any(other.rule.category == "terminate" and lo <= other.token_start < hi
                   for other in cues)


def _sentence_index(doc: Doc) -> Callable[[int], int]:
    """The number of the sentence a token stands in (0 for tokens before the first start)."""
    starts = read(doc, "klarjournal_sentence_starts")
    if not starts:  # no sentences set: every token is one
        return lambda token: token
    first_tokens = list(compress(range(len(starts)), starts))
    # A note whose first token starts no sentence still counts it as sentence 0.
    offset = 0 if first_tokens[:1] == [0] else 1
    return lambda token: bisect_right(first_tokens, token) - 1 + offset


@Language.factory("klarjournal_context", requires=["doc._.klarjournal_matches"],
                  assigns=["doc._.klarjournal_matches"])
def make_context(nlp: Language, name: str) -> ContextMarker:
    register_extensions()
    return ContextMarker()
