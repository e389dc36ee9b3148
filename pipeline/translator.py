"""The public Python API: build the pipeline once, translate many notes with it."""

import gc
import logging
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from spacy.language import Language

from klarjournal.lexicon import Lexicon, load_lexicon
from klarjournal.pipeline.build import build_nlp
from klarjournal.pipeline.extensions import read, write
from klarjournal.pipeline.translation import Section, TranslatedSpan, Translation

logger = logging.getLogger(__name__)

# A note longer than this is refused with NoteTooLongError (about 150 pages of text).
MAX_NOTE_CHARS = 1_000_000


class NoteTooLongError(ValueError):
    def __init__(self, length: int, limit: int):
        self.length, self.limit = length, limit
        super().__init__(f"note has {length} characters; the limit is {limit}")


def package_version() -> str:
    try:
        return version("klarjournal")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "0+unknown"


class Translator:
    """A built pipeline and what produced it. Thread-safe for concurrent ``translate`` calls."""

    def __init__(self, nlp: Language, lexicon: Lexicon, max_chars: int = MAX_NOTE_CHARS):
        self.nlp = nlp
        self.lexicon = lexicon
        self.max_chars = max_chars
        nlp.max_length = max_chars + 1
        senses = nlp.get_pipe("klarjournal_senses")
        self.model_status: str = senses.model_status
        self.versions = {"klarjournal": package_version(), "lexicon": lexicon.version,
                         "model": senses.model_version}

    def translate(self, text: str, note_id: str | None = None,
                  specialty: str | None = None) -> Translation:
        return self.translate_many([text], [note_id], [specialty])[0]

    def translate_many(self, texts: Sequence[str], note_ids: Sequence[str | None] | None = None,
                       specialties: Sequence[str | None] | None = None,
                       batch_size: int = 64) -> list[Translation]:
        note_ids = note_ids or [None] * len(texts)
        specialties = specialties or [None] * len(texts)
        for text in texts:
            if not isinstance(text, str):
                raise TypeError(f"note text must be str, not {type(text).__name__}")
            if len(text) > self.max_chars:
                raise NoteTooLongError(len(text), self.max_chars)
        translations: list[Translation] = []
        # batch_size notes at a time through the whole pipeline: the docs of one batch are
        # dropped before the next is made, so memory (and the garbage collector's work) stays
        # the same for ten notes or ten thousand.
        step = max(batch_size, 1)
        for first in range(0, len(texts), step):
            batch = slice(first, first + step)
            translations += self._translate_batch(texts[batch], note_ids[batch],
                                                  specialties[batch], batch_size)
        return translations

    def _translate_batch(self, texts: Sequence[str], note_ids: Sequence[str | None],
                         specialties: Sequence[str | None], batch_size: int) -> list[Translation]:
        docs = []
        for text, specialty in zip(texts, specialties, strict=True):
            doc = self.nlp.make_doc(text)
            write(doc, "klarjournal_specialty", specialty)
            docs.append(doc)
        # What nlp.pipe does (components in order, those with .pipe fed batch_size docs at a
        # time), without its chain of generators: that cost a sixth of a short note's time.
        for _, component in self.nlp.pipeline:
            if hasattr(component, "pipe"):
                docs = list(component.pipe(docs, batch_size=batch_size))
            else:
                docs = [component(doc) for doc in docs]
        return [self._translation(doc, text, note_id)
                for doc, text, note_id in zip(docs, texts, note_ids, strict=True)]

    def _translation(self, doc: Any, text: str, note_id: str | None) -> Translation:
        result = read(doc, "klarjournal_translation")
        return Translation(
            id=note_id,
            original=text,
            plain=result["plain"],
            spans=list(map(TranslatedSpan.from_fields, result["spans"])),
            sections=[Section(**section) for section in result["sections"]],
            unresolved=result["unresolved"],
            versions=dict(self.versions),
        )

    def lookup(self, term: str) -> dict[str, Any]:
        """What the pipeline does with ``term`` on its own, and why."""
        from klarjournal.pipeline.lookup import explain_term

        return explain_term(self, term)


def freeze_loaded_heap() -> None:
    """In a process that keeps one translator for its lifetime (CLI run, service worker), move
    everything loaded so far out of the garbage collector's sight.

    The pipeline holds a few hundred thousand long-lived objects (lexicon, lemma table, caches)
    that every full collection walks again (~0.2 ms per note in a batch run); reference
    counting still frees what the notes create. Not for code that builds translators and drops
    them (tests): frozen objects are never collected.
    """
    gc.collect()
    gc.freeze()


def load_translator(
    lexicon_dir: str | Path | None = None,
    lexicon_overlays: Sequence[str | Path] = (),
    model_path: str | Path | None = None,
    use_model: bool = True,
    overrides: dict[str, Any] | None = None,
) -> Translator:
    """Build the pipeline (seconds); keep the result and reuse it for every note."""
    nlp = build_nlp(lexicon_dir, tuple(lexicon_overlays), model_path, use_model, overrides)
    lexicon = load_lexicon(lexicon_dir, list(lexicon_overlays))
    return Translator(nlp, lexicon)
