"""Choose the sense of an ambiguous abbreviation (``MS``: multipel sklerose or mitralstenose).

Two kinds of evidence, combined:

- the lexicon's cues: words near the span, the section it stands in and the note's specialty
  (cheap, always available);
- the context model, when loaded: a transformer that ranks the senses from the context, batched
  over all pending spans of the batch of notes.

When the cues alone are decisive the model is not asked (most spans; it saves its cost). Else
the model's probabilities are combined with the cue scores, ``p_k ~ p_model_k * exp(w * cue_k)``.
A close call is not presented as fact: when the best reading beats the runner-up by less than
``abstain_margin`` (or nothing points anywhere), the default (first) sense is shown with a
confidence that makes the renderer mark it as uncertain. The thresholds are tuned on the
hand-written development contexts (``evaluation/senses/dev.jsonl``), never on the test set.
"""

import logging
import math
from bisect import bisect_left
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from klarjournal.lexicon import Entry, Sense, load_lexicon
from klarjournal.lexicon.schema import cue_matches
from klarjournal.pipeline.extensions import read, register_extensions
from klarjournal.pipeline.tokens import WordCache, token_table

logger = logging.getLogger(__name__)

CUE_WINDOW_TOKENS = 40
SECTION_WEIGHT = 1.0
SPECIALTY_WEIGHT = 2.0
# A value right after the span, as a measurement sense is written ("RR 145/92", "HR 54").
VALUE_WEIGHT = 3.0
VALUE_LOOKAHEAD_CHARS = 24
TIME_UNITS = ("sekunder", "sek", "minutter", "min", "timer", "time", "t", "døgn", "dage",
              "dag", "uger", "uge", "måneder", "mdr", "md", "år")
_VALUE_START = r"^[ \t]*[:=]?[ \t]*(?:ca\.?[ \t]*)?[<>≤≥~]?[ \t]*"
VALUE_PATTERNS = (
    ("ratio", re.compile(_VALUE_START + r"\d+[ \t]*/[ \t]*\d")),
    ("gestation", re.compile(_VALUE_START + r"\d{1,2}[ \t]*\+[ \t]*\d\b")),
    # A count of time ("Ca. 3 uger", "HR 2 dage") is never the measurement a lab sense is.
    ("number", re.compile(_VALUE_START + r"-?\d+(?:[.,]\d+)*(?![\d.,]*\d)"
                          r"(?![ \t]*(?:" + "|".join(TIME_UNITS) + r")(?!\w))")),
)
# Confidence of an abstention: below the renderer's threshold, so the reading is marked.
ABSTAIN_CONFIDENCE = 0.5


@dataclass(frozen=True)
class SenseSettings:
    """How the evidence is weighed; defaults tuned on the sense development contexts."""

    cue_weight: float = 1.0
    # Log-odds bonus of the default (first, commonest) sense when the model is asked.
    default_prior: float = 0.0
    # Cue-score lead over the runner-up from which the cues decide without the model.
    cues_decide_from: float = 3.0
    abstain_margin: float = 0.15


@dataclass(frozen=True)
class SenseDecision:
    index: int
    confidence: float
    source: str  # "lexicon" (cues) or "model"
    abstained: bool


def value_after(following: str) -> str | None:
    """The kind of value the text right after a span starts with, if any (first match wins:
    a ratio is also a number)."""
    for kind, pattern in VALUE_PATTERNS:
        if pattern.match(following):
            return kind
    return None


def cue_scores(senses: Sequence[Sense], nearby: Sequence[str], section: str | None,
               specialty: str | None, following: str = "") -> list[float]:
    """Evidence per sense: cue words near the span (lower-case, any inflection), section fit,
    specialty fit, and a value of the sense's kind right after the span (``following``)."""
    specialty = (specialty or "").lower()
    value = value_after(following[:VALUE_LOOKAHEAD_CHARS]) if following else None
    scores = []
    for sense in senses:
        cues = tuple(sense.cues)
        # Most nearby words start with no cue: one startswith(tuple) call rules them out.
        score = sum(1.0 for word in nearby if cues and word.startswith(cues)
                    for cue in cues if cue_matches(cue, word))
        score += SECTION_WEIGHT if section and section in sense.sections else 0.0
        score += SPECIALTY_WEIGHT if specialty and specialty in sense.specialties else 0.0
        score += VALUE_WEIGHT if value and sense.value == value else 0.0
        scores.append(score)
    return scores


def cues_decide(scores: Sequence[float], settings: SenseSettings) -> bool:
    ranked = sorted(scores, reverse=True)
    return ranked[0] - ranked[1] >= settings.cues_decide_from


def decide_by_cues(scores: Sequence[float], settings: SenseSettings) -> SenseDecision:
    best = max(range(len(scores)), key=lambda k: (scores[k], -k))
    ranked = sorted(scores, reverse=True)
    total = sum(scores)
    if total == 0 or ranked[0] == ranked[1]:
        # Nothing in the note points anywhere, or a tie: the default sense, marked as a guess.
        return SenseDecision(0, round(min(ABSTAIN_CONFIDENCE, 1 / len(scores)), 3), "lexicon",
                             True)
    margin = (ranked[0] - ranked[1]) / total
    return SenseDecision(best, round(min(0.95, 0.5 + margin / 2), 3), "lexicon", False)


def decide_with_model(probabilities: Sequence[float], scores: Sequence[float],
                      settings: SenseSettings) -> SenseDecision:
    """Combine the model's probabilities with the cue scores; abstain on a close call."""
    logits = [math.log(max(p, 1e-9)) + settings.cue_weight * s
              + (settings.default_prior if k == 0 else 0.0)
              for k, (p, s) in enumerate(zip(probabilities, scores, strict=True))]
    top = max(logits)
    weights = [math.exp(v - top) for v in logits]
    total = sum(weights)
    combined = [w / total for w in weights]
    order = sorted(range(len(combined)), key=lambda k: (-combined[k], k))
    best, runner_up = order[0], order[1]
    if combined[best] - combined[runner_up] < settings.abstain_margin:
        return SenseDecision(0, round(min(ABSTAIN_CONFIDENCE, combined[0]), 3), "model", True)
    return SenseDecision(best, round(combined[best], 3), "model", False)


def calibrated(table: dict[str, list[list[float]]], source: str, confidence: float) -> float:
    """The share of readings of this source and confidence that were right on the development
    contexts (``confidence_calibration`` in ``ranker.json``); the raw value without a table."""
    bands = table.get(source)
    if not bands:
        return confidence
    value = bands[0][1]
    for lower, share in bands:
        if confidence >= lower:
            value = share
    return round(float(value), 3)


def shown_confidence(decision: SenseDecision, calibration: dict[str, list[list[float]]]) -> float:
    """The confidence a reading is shown with: calibrated when answered, as decided when the
    decision abstained (it is marked uncertain either way)."""
    if decision.abstained or not calibration:
        return decision.confidence
    return calibrated(calibration, decision.source, decision.confidence)


class SenseChooser:
    def __init__(self, use_model: bool, batch_size: int, overrides: dict[str, float]):
        self.use_model = use_model
        self.batch_size = batch_size
        self.overrides = overrides
        self.settings = SenseSettings(**overrides)
        self.entries: dict[str, Entry] = {}
        # Senses of each ambiguous entry, built once (Entry.all_senses builds a new list).
        self.senses: dict[str, list[Sense]] = {}
        self.ranker: Any = None
        # Confidence as measured on the development contexts, per source (with the model only).
        self.calibration: dict[str, list[list[float]]] = {}
        self.model_status = "disabled"
        self.model_version = "none"

    def initialize(self, get_examples: Any = None, *, nlp: Language | None = None,
                   lexicon_dir: str | None = None, overlays: list[str] | None = None,
                   model_path: str | None = None) -> None:
        lexicon = load_lexicon(lexicon_dir, overlays or [])
        self.entries = {e.id: e for e in lexicon.entries if e.is_ambiguous}
        self.senses = {entry_id: e.all_senses() for entry_id, e in self.entries.items()}
        self.ranker, self.settings = None, SenseSettings(**self.overrides)
        self.calibration = {}
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
        tuned = self.ranker.meta.get("sense_settings") or {}
        known = {k: float(v) for k, v in tuned.items() if k in SenseSettings.__dataclass_fields__}
        self.settings = SenseSettings(**{**known, **self.overrides})
        if not self.overrides:  # tuned together: a changed setting voids the calibration
            self.calibration = self.ranker.meta.get("confidence_calibration") or {}

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
        for_model: list[tuple[Doc, dict[str, Any], list[float]]] = []
        for doc in docs:
            # The token table keeps the text: doc.text is rebuilt from every token.
            text = token_table(doc).text
            for match in read(doc, "klarjournal_matches") or []:
                if not match.get("ambiguous") or match["entry"] not in self.entries:
                    continue
                senses = self.senses[match["entry"]]
                following = text[match["end"]:match["end"] + VALUE_LOOKAHEAD_CHARS]
                scores = cue_scores(senses, self._nearby_words(doc, match),
                                    section_at(doc, match["start"]), read(doc, "klarjournal_specialty"),
                                    following)
                if self.ranker is None or cues_decide(scores, self.settings):
                    self._apply(match, senses, decide_by_cues(scores, self.settings))
                else:
                    for_model.append((doc, match, scores))
        if for_model:
            self._choose_by_model(for_model)

    @staticmethod
    def _nearby_words(doc: Doc, match: dict[str, Any]) -> list[str]:
        table = token_table(doc)
        lo = max(0, match["token_start"] - CUE_WINDOW_TOKENS)
        hi = min(len(doc), match["token_end"] + CUE_WINDOW_TOKENS)
        # Only the span's own section: "MR: PI-RADS 4" under the urology findings is not read
        # with the heart words of the history above it.
        for section in read(doc, "klarjournal_sections") or []:
            if section["start"] <= match["start"] < section["end"]:
                lo = max(lo, bisect_left(table.starts, section["start"]))
                hi = min(hi, bisect_left(table.starts, section["end"]))
                break
        # Words in lower case, abbreviations without their periods ("u.a." is the cue "ua"),
        # hyphen compounds in their parts ("anti-CCP", "Efudix-creme").
        return [part for word in table.texts[lo:hi] for part in _cue_words(word)]

    def _apply(self, match: dict[str, Any], senses: list[Sense], decision: SenseDecision) -> None:
        match.update(sense=senses[decision.index].id,
                     confidence=shown_confidence(decision, self.calibration),
                     source=decision.source)

    def _choose_by_model(self, pending: list[tuple[Doc, dict[str, Any], list[float]]]) -> None:
        from klarjournal.models.ranker import RankItem, candidate_text

        items = []
        for doc, match, _ in pending:
            senses = self.senses[match["entry"]]
            items.append(RankItem(
                text=token_table(doc).text, start=match["start"], end=match["end"],
                # With the sense's cues, specialties and sections the ranker sees the lexicon's
                # evidence; with expansion and lay alone it is barely above the default sense.
                candidates=[candidate_text(sense) for sense in senses],
                section=section_at(doc, match["start"]),
                specialty=read(doc, "klarjournal_specialty"),
            ))
        for (_, match, scores), probs in zip(pending, self.ranker.rank(items), strict=True):
            senses = self.senses[match["entry"]]
            self._apply(match, senses, decide_with_model(probs, scores, self.settings))


# A nearby word as cues are written: lower case, abbreviations without their periods, the
# lettered parts of a hyphen compound.
_cue_words = WordCache(lambda word: tuple(
    part for part in word.lower().replace(".", "").split("-") if part.isalpha())).__getitem__


def section_at(doc: Doc, char: int) -> str | None:
    for section in read(doc, "klarjournal_sections") or []:
        if section["start"] <= char < section["end"]:
            return section["id"]
    return None


@Language.factory(
    "klarjournal_senses",
    # null settings: the values tuned for the loaded model (its ranker.json), else the defaults.
    default_config={"use_model": True, "batch_size": 64, "cue_weight": None,
                    "default_prior": None, "cues_decide_from": None, "abstain_margin": None},
    requires=["doc._.klarjournal_matches"],
    assigns=["doc._.klarjournal_matches"],
)
def make_senses(nlp: Language, name: str, use_model: bool, batch_size: int,
                cue_weight: float | None, default_prior: float | None,
                cues_decide_from: float | None, abstain_margin: float | None) -> SenseChooser:
    register_extensions()
    overrides = {"cue_weight": cue_weight, "default_prior": default_prior,
                 "cues_decide_from": cues_decide_from, "abstain_margin": abstain_margin}
    return SenseChooser(use_model, batch_size,
                        {k: float(v) for k, v in overrides.items() if v is not None})
