"""Counts that describe the lexicon, for `klarjournal lexicon stats`."""

from collections import Counter
from typing import Any

from klarjournal.lexicon.loader import Lexicon


def lexicon_stats(lexicon: Lexicon) -> dict[str, Any]:
    by_specialty: Counter[str] = Counter()
    for entry in lexicon.entries:
        by_specialty[entry.specialty] += 1
    return {
        "version": lexicon.version,
        "entries": len(lexicon.entries),
        "by_kind": dict(sorted(Counter(e.kind for e in lexicon.entries).items())),
        "ambiguous": sum(1 for e in lexicon.entries if e.is_ambiguous),
        "senses": sum(len(e.all_senses()) for e in lexicon.entries),
        "morphemes": len(lexicon.morphemes),
        "morphemes_by_kind": dict(sorted(Counter(m.kind for m in lexicon.morphemes).items())),
        "context_rules": len(lexicon.context_rules),
        "sections": len(lexicon.sections),
        "sources": len(lexicon.sources),
        "reviewed": sum(1 for e in lexicon.entries if e.review == "reviewed"),
        "by_specialty": dict(sorted(by_specialty.items())),
    }
