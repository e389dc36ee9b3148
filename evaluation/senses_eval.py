"""Sense evaluation: which meaning of an ambiguous abbreviation each system chooses.

Every system gives, per labelled occurrence, a sense id and whether it abstained. Abstaining
means "shown to the patient as uncertain": the pipeline marks the span ``low_confidence`` (or
finds no span, or leaves the surface unresolved), the cue baseline finds none of its cue words.
A system that abstains still shows the default (first) sense, as the pipeline does.

- accuracy = items whose chosen sense is the gold sense / items;
- abstention = abstained items / items; answered accuracy = correct among the non-abstained.

Systems: the pipeline (with and, when the model is loaded, without the context model); the
lexicon's default sense (the first); and a bag-of-words logistic regression per entry, trained
only on the cue words the lexicon lists for each sense, never on labelled text.
"""

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from klarjournal.evaluation.corpus_io import SenseItem
from klarjournal.lexicon import Entry, Lexicon, Sense

WINDOW_WORDS = 10
WORD = re.compile(r"\w+")
DEFAULT = "lexicon_default"
CUE_LR = "cue_logistic_regression"


@dataclass(frozen=True)
class SenseChoice:
    sense: str | None
    abstained: bool


@dataclass(frozen=True)
class SenseScores:
    items: int
    correct: int
    abstained: int
    correct_answered: int

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.items if self.items else None

    @property
    def abstention(self) -> float | None:
        return self.abstained / self.items if self.items else None

    @property
    def answered_accuracy(self) -> float | None:
        answered = self.items - self.abstained
        return self.correct_answered / answered if answered else None

    def to_dict(self) -> dict[str, Any]:
        return {"items": self.items, "accuracy": self.accuracy, "abstention": self.abstention,
                "answered_accuracy": self.answered_accuracy}


@dataclass(frozen=True)
class SenseEvaluation:
    systems: dict[str, SenseScores]
    by_surface: dict[str, dict[str, SenseScores]]
    no_entry: tuple[str, ...] = field(default=())  # ids of items no ambiguous entry covers

    def to_dict(self) -> dict[str, Any]:
        return {
            "items": next(iter(self.systems.values())).items if self.systems else 0,
            "systems": {name: s.to_dict() for name, s in self.systems.items()},
            "by_surface": {surface: {name: s.to_dict() for name, s in systems.items()}
                           for surface, systems in self.by_surface.items()},
            "items_without_entry": list(self.no_entry),
        }


def _forms(entry: Entry) -> set[str]:
    forms = set(entry.surfaces) | {f for values in entry.inflections.values() for f in values}
    return forms if entry.case_sensitive else {f.casefold() for f in forms}


def entry_for(item: SenseItem, entries: Sequence[Entry]) -> Entry | None:
    """The ambiguous entry the item's surface belongs to; failing that, the one with its sense."""
    for entry in entries:
        if not entry.is_ambiguous:
            continue
        surface = item.surface if entry.case_sensitive else item.surface.casefold()
        if surface in _forms(entry):
            return entry
    for entry in entries:
        if any(sense.id == item.sense for sense in entry.all_senses()):
            return entry
    return None


def context_words(item: SenseItem, window: int = WINDOW_WORDS) -> list[str]:
    """Lower-cased words within ``window`` words either side of the surface (not the surface)."""
    before = WORD.findall(item.text[:item.start].lower())[-window:]
    after = WORD.findall(item.text[item.end:].lower())[:window]
    return before + after


class CueLogisticRegression:
    """Multinomial logistic regression over cue-word features, for one ambiguous entry.

    Feature j is 1 when some context word starts with cue j (cues are inflection prefixes, as in
    the lexicon). Training rows: each cue of each sense alone, and all of a sense's cues together,
    labelled with that sense. L2-regularised, full-batch gradient descent, deterministic.
    """

    def __init__(self, entry: Entry, *, l2: float = 0.01, steps: int = 300, rate: float = 1.0):
        self.senses = [s.id for s in entry.all_senses()]
        self.cues = sorted({c.lower() for s in entry.all_senses() for c in s.cues})
        index = {c: j for j, c in enumerate(self.cues)}
        rows, labels = [], []
        for k, sense in enumerate(entry.all_senses()):
            cue_ids = sorted({index[c.lower()] for c in sense.cues})
            for j in cue_ids:
                rows.append([j])
                labels.append(k)
            if cue_ids:
                rows.append(cue_ids)
                labels.append(k)
        x = np.zeros((len(rows), len(self.cues)))
        for i, cue_ids in enumerate(rows):
            x[i, cue_ids] = 1.0
        self.weights, self.bias = self._fit(x, np.array(labels, dtype=int), l2, steps, rate)

    def _fit(self, x: np.ndarray, y: np.ndarray, l2: float, steps: int,
             rate: float) -> tuple[np.ndarray, np.ndarray]:
        classes = len(self.senses)
        weights = np.zeros((x.shape[1], classes))
        bias = np.zeros(classes)
        if len(y) == 0:
            return weights, bias
        target = np.eye(classes)[y]
        for _ in range(steps):
            probs = softmax(x @ weights + bias)
            error = (probs - target) / len(y)
            weights -= rate * (x.T @ error + l2 * weights)
            bias -= rate * error.sum(axis=0)
        return weights, bias

    def features(self, words: Sequence[str]) -> np.ndarray:
        return np.array([1.0 if any(w.startswith(cue) for w in words) else 0.0
                         for cue in self.cues])

    def choose(self, words: Sequence[str]) -> SenseChoice:
        x = self.features(words)
        if not x.any():
            return SenseChoice(self.senses[0], abstained=True)
        probs = softmax(x @ self.weights + self.bias)
        return SenseChoice(self.senses[int(np.argmax(probs))], abstained=False)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def default_choices(items: Sequence[SenseItem], lexicon: Lexicon) -> list[SenseChoice]:
    choices = []
    for item in items:
        entry = entry_for(item, lexicon.entries)
        choices.append(SenseChoice(entry.all_senses()[0].id if entry else None, False))
    return choices


def cue_lr_choices(items: Sequence[SenseItem], lexicon: Lexicon) -> list[SenseChoice]:
    models: dict[str, CueLogisticRegression] = {}
    choices = []
    for item in items:
        entry = entry_for(item, lexicon.entries)
        if entry is None:
            choices.append(SenseChoice(None, True))
            continue
        if entry.id not in models:
            models[entry.id] = CueLogisticRegression(entry)
        choices.append(models[entry.id].choose(context_words(item)))
    return choices


def choice_from_translation(item: SenseItem, translation: Mapping[str, Any]) -> SenseChoice:
    """The pipeline's choice: the span over the item (exact offsets preferred)."""
    spans = [s for s in translation.get("spans", [])
             if s.get("start", 0) < item.end and item.start < s.get("end", 0)]
    if not spans:
        return SenseChoice(None, True)
    span = next((s for s in spans if (s["start"], s["end"]) == (item.start, item.end)), spans[0])
    unresolved = {u.get("surface") if isinstance(u, Mapping) else u
                  for u in translation.get("unresolved", [])}
    sense = span.get("sense")
    abstained = sense is None or bool(span.get("low_confidence")) or item.surface in unresolved
    return SenseChoice(sense, abstained)


def pipeline_choices(items: Sequence[SenseItem],
                     translate_many: Callable[..., Sequence[Any]]) -> list[SenseChoice]:
    outputs = translate_many([i.text for i in items], note_ids=[i.id for i in items],
                             specialties=[i.specialty for i in items])
    return [choice_from_translation(item, out.to_dict() if hasattr(out, "to_dict") else out)
            for item, out in zip(items, outputs, strict=True)]


class SenseJudge:
    """Is a chosen sense the item's gold sense, or does it carry the gold meaning?

    A sense of the item's own entry is right only when it is the gold sense. Any other sense
    belongs to a longer entry that took the span (``CT cerebrum`` -> ``rad.ct-cerebrum``,
    ``PS 1`` -> ``onko.ps-1``) or to a spelling variant with its own entry (``d.d.``); it keeps
    the meaning of its part and is right when

    - its expansion contains the gold sense's expansion ("CT-scanning af thorax"), or
    - the gold sense, and no rival sense of the item's entry, shares the most words with it
      (expansion and lay readings, words of three or more letters compared on their first six:
      "computertomografi af cerebrum / CT-scanning af hjernen" shares "scanni" with CT-scanning,
      nothing with Chlamydia trachomatis). A tie is not right.
    """

    STEM = 6

    def __init__(self, lexicon: Lexicon):
        self._entries = lexicon.entries
        self._senses = {sense.id: sense for entry in lexicon.entries
                        for sense in entry.all_senses()}
        self._rivals: dict[tuple[str, str], tuple[str, ...]] = {}

    def right(self, item: SenseItem, chosen: str | None) -> bool:
        if chosen is None:
            return False
        if chosen == item.sense:
            return True
        rivals = self._rivals_of(item)
        chosen_sense, gold = self._senses.get(chosen), self._senses.get(item.sense)
        if chosen in rivals or chosen_sense is None or gold is None:
            return False
        if gold.expansion.casefold() in chosen_sense.expansion.casefold():
            return True
        words = self._words(chosen_sense)
        shared = {sense_id: len(words & self._words(self._senses[sense_id]))
                  for sense_id in rivals if sense_id in self._senses}
        best = max(shared.values(), default=0)
        return best > 0 and [s for s, n in shared.items() if n == best] == [item.sense]

    def _rivals_of(self, item: SenseItem) -> tuple[str, ...]:
        key = (item.surface, item.sense)
        if key not in self._rivals:
            entry = entry_for(item, self._entries)
            self._rivals[key] = (tuple(s.id for s in entry.all_senses()) if entry
                                 else (item.sense,))
        return self._rivals[key]

    def _words(self, sense: Sense) -> set[str]:
        text = " ".join([sense.expansion, *(reading.text for reading in sense.lay)])
        return {word[:self.STEM] for word in WORD.findall(text.casefold()) if len(word) >= 3}


def tally(items: Sequence[SenseItem], choices: Sequence[SenseChoice],
          judge: SenseJudge | None = None) -> SenseScores:
    """Counts; without a judge only the gold sense id itself is right."""
    def right(item: SenseItem, choice: SenseChoice) -> bool:
        if judge is not None:
            return judge.right(item, choice.sense)
        return choice.sense is not None and choice.sense == item.sense

    hits = [right(i, c) for i, c in zip(items, choices, strict=True)]
    abstained = sum(1 for c in choices if c.abstained)
    correct_answered = sum(1 for hit, c in zip(hits, choices, strict=True)
                           if hit and not c.abstained)
    return SenseScores(len(items), sum(hits), abstained, correct_answered)


def evaluate_senses(items: Sequence[SenseItem], choices: Mapping[str, Sequence[SenseChoice]],
                    lexicon: Lexicon) -> SenseEvaluation:
    """Score each system's choices, overall and per surface (case-folded)."""
    judge = SenseJudge(lexicon)
    systems = {name: tally(items, c, judge) for name, c in choices.items()}
    groups: dict[str, list[int]] = {}
    for i, item in enumerate(items):
        groups.setdefault(item.surface.casefold(), []).append(i)
    by_surface = {
        surface: {name: tally([items[i] for i in members], [c[i] for i in members], judge)
                  for name, c in choices.items()}
        for surface, members in sorted(groups.items())
    }
    no_entry = tuple(i.id for i in items if entry_for(i, lexicon.entries) is None)
    return SenseEvaluation(systems, by_surface, no_entry)


def baseline_choices(items: Sequence[SenseItem],
                     lexicon: Lexicon) -> dict[str, list[SenseChoice]]:
    return {DEFAULT: default_choices(items, lexicon), CUE_LR: cue_lr_choices(items, lexicon)}
