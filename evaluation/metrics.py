"""Score translation dicts (shared/spec/translation-output.md) against gold notes.

Pure functions, no I/O. The rules, stated literally so that an independent scorer can match them:

Detection
- Spans are half-open code-point ranges; a predicted span and a gold span overlap when
  ``p.start < g.end and g.start < p.end``.
- A gold span is *found* when at least one predicted span (any kind) overlaps it.
- recall = found gold spans / gold spans; precision = predicted spans that overlap at least one
  gold span / predicted spans. One wide prediction over two gold spans finds both and counts once
  in precision; two predictions inside one gold span both count as matched.
- F1 = 2PR / (P + R) (0 when P = R = 0). Undefined (None) without gold spans; 0 when there are
  gold spans but no predictions (precision is then undefined, None).

Expansion accuracy
- Of the found gold spans, the share for which at least one overlapping predicted span has its
  ``plain`` matching one of the gold ``lay`` readings or its ``expansion`` matching the gold
  ``expansion``. Two strings match when, after lower-casing (``casefold``), collapsing white space
  to single spaces, trimming, and dropping one trailing period, they are equal or have a
  ``rapidfuzz.fuzz.ratio`` of 90 or more.
- end-to-end accuracy = recall x expansion accuracy = correctly read gold spans / gold spans.

Fidelity
- keep: the share of ``keep`` strings that occur verbatim (case-sensitive substring) in ``plain``.
- negation: the share of ``negated`` surfaces still under negation in ``plain`` (see
  ``still_negated`` for the rule).

Readability: see ``klarjournal.evaluation.readability``. ``jargon_left`` is the share of gold
annotations whose surface still occurs in ``plain`` verbatim (case-sensitive, and not inside a
longer word unless it was inside one in the original; see ``surface_left``).

Corpus figures pool counts over notes (micro averages); so do the break-downs.
"""

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from rapidfuzz import fuzz

from klarjournal.evaluation.corpus_io import KINDS, GoldNote, GoldSpan
from klarjournal.evaluation.readability import TextCounts, sentence_bounds, text_counts

FUZZY_MIN = 90.0
CONTEXT_CHARS = 40

# Negation cues a patient text may carry. A cue in NEGATION_BEFORE negates what follows it in the
# same sentence ("Ingen tegn på blodprop", "negativ for bakterier"); one in NEGATION_AFTER what
# precedes it ("blodprop afkræftet", "bakterier ikke påvist"). "kan ikke udelukkes" is
# uncertainty, not negation, so "udelukkes" is no cue. Spaces in a cue match any white space.
NEGATION_BEFORE = ("ikke", "ingen", "intet", "ingenting", "uden", "ej", "aldrig", "hverken",
                   "nej", "negativ for", "negative for", "fri for")
NEGATION_AFTER = ("afkræftet", "udelukket", "ikke påvist", "ikke påvises")


def _cue_pattern(cues: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(r"\s+".join(map(re.escape, cue.split())) for cue in cues)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


_CUE_BEFORE = _cue_pattern(NEGATION_BEFORE)
_CUE_AFTER = _cue_pattern(NEGATION_AFTER)

ERROR_TYPES = ("missed", "wrong_reading", "false_positive", "keep_lost", "negation_lost")

# Per-note counts; every corpus figure is a function of their sums (bootstrap relies on it).
COUNT_KEYS: tuple[str, ...] = (
    "gold", "found", "correct", "predicted", "predicted_matched",
    "keep_total", "keep_ok", "negated_total", "negated_ok",
    "words_original", "sentences_original", "long_original", "rare_original",
    "words_plain", "sentences_plain", "long_plain", "rare_plain",
    "jargon_total", "jargon_left", "unresolved", "contract_violations",
    *(f"{name}:{kind}" for kind in KINDS
      for name in ("gold", "found", "correct", "predicted", "predicted_matched")),
)

MAIN_FIGURES = (
    "precision", "recall", "f1", "expansion_accuracy", "end_to_end_accuracy",
    "keep", "negation", "lix_original", "lix_plain", "rare_original", "rare_plain",
    "jargon_left",
)


@dataclass(frozen=True)
class ErrorCase:
    """One miss, wrong reading, false alarm or fidelity loss, with where it is in the note."""

    type: str
    note_id: str
    specialty: str | None
    kind: str | None
    surface: str
    start: int
    end: int
    expected: tuple[str, ...]
    got: str | None
    context: str


@dataclass(frozen=True)
class NoteScore:
    note_id: str
    specialty: str | None
    note_type: str | None
    counts: dict[str, int]
    unresolved: tuple[str, ...]
    errors: tuple[ErrorCase, ...]


@dataclass(frozen=True)
class Results:
    notes: tuple[NoteScore, ...]
    counts: dict[str, int]
    figures: dict[str, float | None]
    by_specialty: dict[str, dict[str, Any]]
    by_note_type: dict[str, dict[str, Any]]
    by_kind: dict[str, dict[str, Any]]
    unresolved: dict[str, Any]
    errors: tuple[ErrorCase, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` shape: the spec's keys at top level, break-downs beside them."""
        return {"notes": len(self.notes), **summary_dict(self.counts, self.figures),
                "unresolved": self.unresolved,
                "errors": dict(Counter(e.type for e in self.errors)),
                "by_specialty": self.by_specialty, "by_note_type": self.by_note_type,
                "by_kind": self.by_kind}


def normalise(text: str) -> str:
    text = " ".join(text.casefold().split())
    if text.endswith("."):
        text = text[:-1].rstrip()
    return text


def same_reading(predicted: Any, gold: str) -> bool:
    if not isinstance(predicted, str):
        return False
    a, b = normalise(predicted), normalise(gold)
    return a == b or fuzz.ratio(a, b) >= FUZZY_MIN


def reading_correct(span: Mapping[str, Any], gold: GoldSpan) -> bool:
    return (any(same_reading(span.get("plain"), lay) for lay in gold.lay)
            or same_reading(span.get("expansion"), gold.expansion))


def overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


def negated_at(plain: str, start: int, end: int) -> bool:
    """Whether ``plain[start:end]`` stands under a negation cue in its own sentence."""
    first, last = sentence_bounds(plain, start)
    return bool(_CUE_BEFORE.search(plain, first, start)
                or _CUE_AFTER.search(plain, end, max(end, last)))


def _occurrences(text: str, needle: str, *, ignore_case: bool = False) -> list[int]:
    haystack, target = (text.casefold(), needle.casefold()) if ignore_case else (text, needle)
    if ignore_case and len(haystack) != len(text):
        haystack, target = text.lower(), needle.lower()
    found, at = [], haystack.find(target)
    while at >= 0:
        found.append(at)
        at = haystack.find(target, at + 1)
    return found


def still_negated(surface: str, original: str, plain: str,
                  spans: Sequence[Mapping[str, Any]]) -> bool:
    """The negation rule. A negated gold surface is still negated when either

    (a) a predicted span overlapping an occurrence of the surface in the original has
        ``negated: true`` and its rendering ``plain[plain_start:plain_end]`` stands under a
        negation cue in its sentence of the patient text, or
    (b) the surface itself occurs in the patient text (case-insensitively) under a negation cue
        in its sentence.

    "Under a negation cue": a word of NEGATION_BEFORE earlier in the same sentence, or a word of
    NEGATION_AFTER later in it (whole words, any case). Sentences are those of
    ``readability.sentence_bounds``.
    """
    places = [(at, at + len(surface)) for at in _occurrences(original, surface)]
    for span in spans:
        if span.get("negated") is not True:
            continue
        p_start, p_end = span.get("plain_start"), span.get("plain_end")
        if not (_is_offset(p_start) and _is_offset(p_end) and p_start <= p_end <= len(plain)):
            continue
        if any(overlaps(span["start"], span["end"], s, e) for s, e in places) \
                and negated_at(plain, p_start, p_end):
            return True
    return any(negated_at(plain, at, at + len(surface))
               for at in _occurrences(plain, surface, ignore_case=True))


def _word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def surface_left(plain: str, original: str, gold: GoldSpan) -> bool:
    """Whether the gold surface still stands in ``plain`` verbatim, bounded as in the original.

    Case-sensitive. Where the original has a word boundary at an edge of the span, the match in
    ``plain`` must have one too ("BT" is not found in "BTX"); where the span is part of a longer
    word ("lymfom" in "lymfomafsnit"), that edge may touch letters.
    """
    surface = gold.surface
    before = gold.start > 0 and _word_char(original[gold.start - 1]) and _word_char(surface[0])
    after = gold.end < len(original) and _word_char(original[gold.end]) \
        and _word_char(surface[-1])
    pattern = ("" if before else r"(?<!\w)" if _word_char(surface[0]) else "") \
        + re.escape(surface) + ("" if after else r"(?!\w)" if _word_char(surface[-1]) else "")
    return re.search(pattern, plain) is not None


def _is_offset(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _context(text: str, start: int, end: int) -> str:
    left = max(0, start - CONTEXT_CHARS)
    right = min(len(text), end + CONTEXT_CHARS)
    return ("…" if left else "") + text[left:start] + "[[" + text[start:end] + "]]" \
        + text[end:right] + ("…" if right < len(text) else "")


def _valid_spans(original: str, spans: Any) -> tuple[list[dict[str, Any]], int]:
    """Spans with usable offsets, and how many spans broke the contract."""
    usable, violations = [], 0
    for span in spans if isinstance(spans, list) else []:
        if not isinstance(span, Mapping):
            violations += 1
            continue
        start, end = span.get("start"), span.get("end")
        if not (_is_offset(start) and _is_offset(end) and 0 <= start <= end <= len(original)):
            violations += 1
            continue
        if original[start:end] != span.get("surface"):
            violations += 1
        usable.append(dict(span))
    return usable, violations


def _unresolved_surfaces(items: Any) -> tuple[str, ...]:
    surfaces = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, str):
            surfaces.append(item)
        elif isinstance(item, Mapping) and isinstance(item.get("surface"), str):
            surfaces.append(item["surface"])
    return tuple(surfaces)


def score_note(gold: GoldNote, prediction: Mapping[str, Any]) -> NoteScore:
    """Counts and error cases of one note. Raises ValueError if the prediction is for other text."""
    original = prediction.get("original")
    if original != gold.text:
        raise ValueError(f"note {gold.id!r}: the prediction's original is not the corpus text")
    plain = prediction.get("plain")
    if not isinstance(plain, str):
        raise ValueError(f"note {gold.id!r}: the prediction has no plain text")
    spans, violations = _valid_spans(gold.text, prediction.get("spans"))
    counts = dict.fromkeys(COUNT_KEYS, 0)
    counts["contract_violations"] = violations
    errors: list[ErrorCase] = []

    def error(type_: str, kind: str | None, surface: str, start: int, end: int,
              expected: Iterable[str] = (), got: str | None = None) -> None:
        errors.append(ErrorCase(type_, gold.id, gold.specialty, kind, surface, start, end,
                                tuple(expected), got, _context(gold.text, start, end)))

    for g in gold.annotations:
        counts["gold"] += 1
        counts[f"gold:{g.kind}"] += 1
        hits = [s for s in spans if overlaps(s["start"], s["end"], g.start, g.end)]
        if not hits:
            error("missed", g.kind, g.surface, g.start, g.end, (g.expansion, *g.lay))
            continue
        counts["found"] += 1
        counts[f"found:{g.kind}"] += 1
        if any(reading_correct(s, g) for s in hits):
            counts["correct"] += 1
            counts[f"correct:{g.kind}"] += 1
        else:
            got = " | ".join(str(s.get("plain")) for s in hits)
            error("wrong_reading", g.kind, g.surface, g.start, g.end, (g.expansion, *g.lay), got)

    for s in spans:
        kind = s.get("kind") if s.get("kind") in KINDS else None
        counts["predicted"] += 1
        if kind:
            counts[f"predicted:{kind}"] += 1
        if any(overlaps(s["start"], s["end"], g.start, g.end) for g in gold.annotations):
            counts["predicted_matched"] += 1
            if kind:
                counts[f"predicted_matched:{kind}"] += 1
        else:
            error("false_positive", kind, gold.text[s["start"]:s["end"]], s["start"], s["end"],
                  got=str(s.get("plain")))

    for value in gold.keep:
        counts["keep_total"] += 1
        if value in plain:
            counts["keep_ok"] += 1
        else:
            at = gold.text.find(value)
            error("keep_lost", None, value, at, at + len(value), (value,))
    for value in gold.negated:
        counts["negated_total"] += 1
        if still_negated(value, gold.text, plain, spans):
            counts["negated_ok"] += 1
        else:
            at = gold.text.find(value)
            error("negation_lost", None, value, at, at + len(value), (value,))

    for prefix, text in (("original", gold.text), ("plain", plain)):
        tc: TextCounts = text_counts(text)
        counts[f"words_{prefix}"] = tc.words
        counts[f"sentences_{prefix}"] = tc.sentences
        counts[f"long_{prefix}"] = tc.long_words
        counts[f"rare_{prefix}"] = tc.rare_words
    counts["jargon_total"] = len(gold.annotations)
    counts["jargon_left"] = sum(1 for g in gold.annotations if surface_left(plain, gold.text, g))
    unresolved = _unresolved_surfaces(prediction.get("unresolved"))
    counts["unresolved"] = len(unresolved)
    return NoteScore(gold.id, gold.specialty, gold.note_type, counts, unresolved, tuple(errors))


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return np.divide(a, b, out=np.full(np.broadcast(a, b).shape, np.nan), where=b > 0)


def figures_from_sums(sums: Mapping[str, np.ndarray | float]) -> dict[str, np.ndarray]:
    """Every main figure from summed counts; works element-wise on bootstrap arrays (NaN = None)."""
    c = {k: np.asarray(v, dtype=float) for k, v in sums.items()}
    precision = _div(c["predicted_matched"], c["predicted"])
    recall = _div(c["found"], c["gold"])
    with np.errstate(invalid="ignore", divide="ignore"):
        harmonic = np.where(precision + recall > 0,
                            2 * precision * recall / np.where(precision + recall > 0,
                                                              precision + recall, 1), 0.0)
    # No predictions but gold spans: nothing found, F1 is 0 although precision is undefined.
    f1 = np.where(np.isnan(precision) & (c["gold"] > 0), 0.0, harmonic)
    f1 = np.where(c["gold"] > 0, f1, np.nan)
    out = {
        "precision": precision, "recall": recall, "f1": f1,
        "expansion_accuracy": _div(c["correct"], c["found"]),
        "end_to_end_accuracy": _div(c["correct"], c["gold"]),
        "keep": _div(c["keep_ok"], c["keep_total"]),
        "negation": _div(c["negated_ok"], c["negated_total"]),
        "rare_original": _div(c["rare_original"], c["words_original"]),
        "rare_plain": _div(c["rare_plain"], c["words_plain"]),
        "jargon_left": _div(c["jargon_left"], c["jargon_total"]),
    }
    for side in ("original", "plain"):
        out[f"lix_{side}"] = _div(c[f"words_{side}"], c[f"sentences_{side}"]) \
            + 100.0 * _div(c[f"long_{side}"], c[f"words_{side}"])
    return out


def _scalar(value: np.ndarray) -> float | None:
    number = float(value)
    return None if math.isnan(number) else number


def figures(counts: Mapping[str, int]) -> dict[str, float | None]:
    arrays = figures_from_sums({k: float(v) for k, v in counts.items()})
    return {name: _scalar(arrays[name]) for name in MAIN_FIGURES}


def sum_counts(notes: Iterable[NoteScore]) -> dict[str, int]:
    total = dict.fromkeys(COUNT_KEYS, 0)
    for note in notes:
        for key, value in note.counts.items():
            total[key] += value
    return total


def summary_dict(counts: Mapping[str, int], figs: Mapping[str, float | None]) -> dict[str, Any]:
    return {
        "detection": {"precision": figs["precision"], "recall": figs["recall"],
                      "f1": figs["f1"], "gold_spans": counts["gold"],
                      "predicted_spans": counts["predicted"], "found": counts["found"],
                      "predicted_matched": counts["predicted_matched"]},
        "expansion_accuracy": figs["expansion_accuracy"],
        "end_to_end_accuracy": figs["end_to_end_accuracy"],
        "fidelity": {"keep": figs["keep"], "negation": figs["negation"],
                     "keep_total": counts["keep_total"],
                     "negated_total": counts["negated_total"]},
        "readability": {name: figs[name] for name in (
            "lix_original", "lix_plain", "rare_original", "rare_plain", "jargon_left")},
        "contract_violations": counts["contract_violations"],
    }


def _group(notes: Sequence[NoteScore], key: str) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[NoteScore]] = {}
    for note in notes:
        groups.setdefault(getattr(note, key) or "(none)", []).append(note)
    return {name: {"notes": len(members), **figures(sum_counts(members))}
            for name, members in sorted(groups.items())}


def _by_kind(counts: Mapping[str, int]) -> dict[str, dict[str, Any]]:
    out = {}
    for kind in KINDS:
        gold, found, correct = (counts[f"{n}:{kind}"] for n in ("gold", "found", "correct"))
        predicted, matched = counts[f"predicted:{kind}"], counts[f"predicted_matched:{kind}"]
        out[kind] = {
            "gold_spans": gold, "predicted_spans": predicted,
            "precision": matched / predicted if predicted else None,
            "recall": found / gold if gold else None,
            "expansion_accuracy": correct / found if found else None,
            "end_to_end_accuracy": correct / gold if gold else None,
        }
    return out


def score(gold: Sequence[GoldNote], predictions: Sequence[Mapping[str, Any]]) -> Results:
    """Score predictions (translation dicts, in corpus order) against gold notes."""
    if len(gold) != len(predictions):
        raise ValueError(f"{len(gold)} gold notes but {len(predictions)} predictions")
    for note, prediction in zip(gold, predictions, strict=True):
        pred_id = prediction.get("id")
        if pred_id is not None and pred_id != note.id:
            raise ValueError(f"prediction id {pred_id!r} is not gold id {note.id!r}")
    notes = tuple(score_note(g, p) for g, p in zip(gold, predictions, strict=True))
    counts = sum_counts(notes)
    unresolved = Counter(s for note in notes for s in note.unresolved)
    return Results(
        notes=notes, counts=counts, figures=figures(counts),
        by_specialty=_group(notes, "specialty"), by_note_type=_group(notes, "note_type"),
        by_kind=_by_kind(counts),
        unresolved={"total": counts["unresolved"],
                    "notes": sum(1 for n in notes if n.unresolved),
                    "most_common": unresolved.most_common(20)},
        errors=tuple(e for n in notes for e in n.errors),
    )
