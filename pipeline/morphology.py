"""Explain a Latin/Greek word from its parts: ``kolecystitis`` -> "betændelse i galdeblæren".

The word is split into prefixes, one or more roots and at most one suffix from
``morphemes.jsonl`` (a linking ``o``/``i`` may stand between parts, as in hepat-o-megali).
A suffix's template places the roots (``-itis``: "betændelse i {root_def}"); a prefix goes
before the roots' meaning. Readings from parts are guesses by construction: the pipeline marks
them ``source: morphology`` with a low confidence.
"""

from dataclasses import dataclass
from functools import lru_cache

from klarjournal.lexicon.schema import Morpheme

LINKING_VOWELS = ("o", "i", "")


@dataclass(frozen=True)
class Parse:
    prefixes: tuple[Morpheme, ...]
    roots: tuple[Morpheme, ...]
    suffix: Morpheme | None


class MorphologyExplainer:
    def __init__(self, morphemes: tuple[Morpheme, ...]):
        self.by_kind: dict[str, list[tuple[str, Morpheme]]] = {"prefix": [], "root": [], "suffix": []}
        for morpheme in morphemes:
            for form in morpheme.forms:
                self.by_kind[morpheme.kind].append((form.lower().strip("-"), morpheme))
        for forms in self.by_kind.values():
            forms.sort(key=lambda item: len(item[0]), reverse=True)
        self._parse = lru_cache(maxsize=50_000)(self._parse_uncached)

    def explain(self, word: str) -> str | None:
        parse = self._parse(word.lower())
        if parse is None:
            return None
        root = " og ".join(r.meaning for r in parse.roots)
        root_def = " og ".join(r.meaning_def or r.meaning for r in parse.roots)
        if parse.prefixes:
            lead = " ".join(p.meaning for p in parse.prefixes)
            root, root_def = f"{lead} {root}", f"{lead} {root_def}"
        if parse.suffix is None:
            return root
        assert parse.suffix.template is not None
        return parse.suffix.template.format(root=root, root_def=root_def)

    def _parse_uncached(self, word: str) -> Parse | None:
        """The parse with the fewest parts that covers the whole word, or None."""
        best: Parse | None = None
        for suffix_form, suffix in [*self.by_kind["suffix"], ("", None)]:
            if suffix_form and not word.endswith(suffix_form):
                continue
            stem = word[: len(word) - len(suffix_form)] if suffix_form else word
            split = self._split_stem(stem)
            if split is None:
                continue
            prefixes, roots = split
            if not roots or (suffix is None and not prefixes):
                continue  # a bare root or a root without anything around it explains nothing new
            parse = Parse(prefixes, roots, suffix)
            if best is None or _size(parse) < _size(best):
                best = parse
        return best

    def _split_stem(self, stem: str) -> tuple[tuple[Morpheme, ...], tuple[Morpheme, ...]] | None:
        prefixes: list[Morpheme] = []
        rest = stem
        while True:
            for form, prefix in self.by_kind["prefix"]:
                if rest.startswith(form) and len(rest) > len(form) + 2:
                    prefixes.append(prefix)
                    rest = rest[len(form):]
                    break
            else:
                break
        roots = self._roots(rest)
        return (tuple(prefixes), roots) if roots is not None else None

    def _roots(self, text: str) -> tuple[Morpheme, ...] | None:
        if not text:
            return ()
        for form, root in self.by_kind["root"]:
            if not text.startswith(form):
                continue
            after = text[len(form):]
            for link in LINKING_VOWELS:
                if after.startswith(link):
                    rest = self._roots(after[len(link):])
                    if rest is not None and (link == "" or rest):
                        return (root, *rest)
        return None


def _size(parse: Parse) -> int:
    return len(parse.prefixes) + len(parse.roots) + (1 if parse.suffix else 0)
