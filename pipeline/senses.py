"""Choose the sense of an ambiguous abbreviation (``MS``: multipel sklerose or mitralstenose).

With the context model loaded, the transformer ranks the lexicon's senses for each ambiguous
span, batched per note. Without it (not installed, failed to load, or switched off), the
lexicon's cues decide: words near the span, the section it stands in and the note's specialty.
Either way a close call is not presented as fact: the confidence is low, and the renderer marks
the reading as uncertain.
"""

import logging
from collections.abc import Iterable, Iterator
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from klarjournal.lexicon import Entry, load_lexicon
from klarjournal.pipeline.extensions import register_extensions
from klarjournal.pipeline.tokens import token_table

logger = logging.getLogger(__name__)

CUE_WINDOW_TOKENS = 40
SECTION_WEIGHT = 1.0
SPECIALTY_WEIGHT = 2.0


class SenseChooser:
    def __init__(self, use_model: bool, batch_size: int):
        self.use_model = use_model
        self.batch_size = batch_size
        self.entries: dict[str, Entry] = {}
        self.ranker: Any = None
        self.model_status = "disabled"
        self.model_version = "none"

    def initialize(self, get_examples: Any = None, *, nlp: Language | None = None,
                   lexicon_dir: str | None = None, overlays: list[str] | None = None,
                   model_path: str | None = None) -> None:
        lexicon = load_lexicon(lexicon_dir, overlays or [])
        self.entries = {e.id: e for e in lexicon.entries if e.is_ambiguous}
        if not self.use_model:
            return
        try:
            from klarjournal.models.ranker import SenseRanker

            self.ranker = SenseRanker.load(model_path)
        except Exception as exc:  # the lexicon-only path must keep serving
            self.ranker, self.model_status = None, "degraded"
            logger.warning("context model not loaded (%s); choosing senses by lexicon cues",
                           type(exc).__name__)
            return
        self.model_status, self.model_version = "loaded", self.ranker.version

    def __call__(self, doc: Doc) -> Doc:
        self._choose([doc])
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int | None = None) -> Iterator[Doc]:
        batch: list[Doc] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= (batch_size or self.batch_size):
                self._choose(batch)
                yield from batch
                batch = []
        if batch:
            self._choose(batch)
            yield from batch

    def _choose(self, docs: list[Doc]) -> None:
        pending = [(doc, m) for doc in docs for m in doc._.klarjournal_matches or []
                   if m.get("ambiguous") and m["entry"] in self.entries]
        if not pending:
            return
        if self.ranker is not None:
            self._choose_by_model(pending)
        else:
            for doc, match in pending:
                self._choose_by_cues(doc, match)

    def _choose_by_cues(self, doc: Doc, match: dict[str, Any]) -> None:
        senses = self.entries[match["entry"]].all_senses()
        lo = max(0, match["token_start"] - CUE_WINDOW_TOKENS)
        hi = min(len(doc), match["token_end"] + CUE_WINDOW_TOKENS)
        # token.lower_ and token.is_alpha are str.lower() and str.isalpha() of the text.
        nearby = [word.lower() for word in token_table(doc).texts[lo:hi] if word.isalpha()]
        section = section_at(doc, match["start"])
        specialty = (doc._.klarjournal_specialty or "").lower()
        scores = []
        for sense in senses:
            cues = tuple(sense.cues)
            # Most nearby words start with no cue: one startswith(tuple) call rules them out.
            score = sum(1.0 for word in nearby if word.startswith(cues)
                        for cue in cues if word.startswith(cue))
            score += SECTION_WEIGHT if section and section in sense.sections else 0.0
            score += SPECIALTY_WEIGHT if specialty and specialty in sense.specialties else 0.0
            scores.append(score)
        best = max(range(len(senses)), key=lambda k: (scores[k], -k))
        ranked = sorted(scores, reverse=True)
        total = sum(scores)
        if total == 0:
            # Nothing in the note points anywhere: the default sense, clearly marked as a guess.
            confidence = round(1 / len(senses), 3)
        else:
            margin = (ranked[0] - ranked[1]) / total
            confidence = round(min(0.95, 0.5 + margin / 2), 3)
        match.update(sense=senses[best].id, confidence=confidence, source="lexicon")

    def _choose_by_model(self, pending: list[tuple[Doc, dict[str, Any]]]) -> None:
        from klarjournal.models.ranker import RankItem, candidate_text

        items = []
        texts: dict[int, str] = {}
        for doc, match in pending:
            senses = self.entries[match["entry"]].all_senses()
            items.append(RankItem(
                text=texts.setdefault(id(doc), doc.text), start=match["start"], end=match["end"],
                # With the sense's cues, specialties and sections the ranker sees the lexicon's
                # evidence; with expansion and lay alone it is barely above the default sense.
                candidates=[candidate_text(sense) for sense in senses],
                section=section_at(doc, match["start"]),
                specialty=doc._.klarjournal_specialty,
            ))
        for (_, match), probs in zip(pending, self.ranker.rank(items), strict=True):
            senses = self.entries[match["entry"]].all_senses()
            decision = self.ranker.decide(probs)
            confidence = round(float(decision.probability), 3)
            if decision.abstain:
                # Too close to call (the model card documents the margin): keep the default
                # reading, with a confidence that makes the renderer mark it as uncertain.
                match.update(sense=senses[0].id, confidence=min(confidence, 0.5), source="model")
            else:
                match.update(sense=senses[decision.best].id, confidence=confidence,
                             source="model")


def section_at(doc: Doc, char: int) -> str | None:
    for section in doc._.klarjournal_sections or []:
        if section["start"] <= char < section["end"]:
            return section["id"]
    return None


@Language.factory(
    "klarjournal_senses",
    default_config={"use_model": True, "batch_size": 64},
    requires=["doc._.klarjournal_matches"],
    assigns=["doc._.klarjournal_matches"],
)
def make_senses(nlp: Language, name: str, use_model: bool, batch_size: int) -> SenseChooser:
    register_extensions()
    return SenseChooser(use_model, batch_size)
