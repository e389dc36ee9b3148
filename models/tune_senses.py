"""Tune how the pipeline weighs the context model against the lexicon's cues.

Reads the hand-written development contexts (``evaluation/senses/dev.jsonl``; never the test
set), computes for each the cue scores the pipeline computes and the ranker's probabilities,
and searches the three settings of ``klarjournal.pipeline.senses.SenseSettings``: the weight of
the cues, a prior for the default sense, the cue lead from which the model is not asked, and the
abstention margin. A reading counts as shown uncertain when the decision abstains or its
confidence is below the renderer's ``LOW_CONFIDENCE`` (as the evaluation counts it). The rule:
the highest accuracy with at most ``MAX_ABSTAIN`` uncertain readings (ties: fewer model calls,
then fewer uncertain readings). The result is written into the model's ``ranker.json`` as
``sense_settings``, so a hospital checkpoint carries settings tuned for it.
"""

import itertools
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from klarjournal.evaluation.corpus_io import SenseItem
from klarjournal.evaluation.senses_eval import entry_for
from klarjournal.lexicon import Lexicon
from klarjournal.models.ranker import RANKER_META, RankItem, SenseRanker, candidate_text
from klarjournal.pipeline.renderer import LOW_CONFIDENCE
from klarjournal.pipeline.senses import (CUE_WINDOW_TOKENS, VALUE_LOOKAHEAD_CHARS,
                                         SenseDecision, SenseSettings,
                                         cue_scores, cues_decide, decide_by_cues,
                                         decide_with_model, shown_confidence)

MAX_ABSTAIN = 0.05
CUE_WEIGHTS = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0)
DEFAULT_PRIORS = (0.0, 0.5, 1.0, 2.0)
CUES_DECIDE_FROM = (1.0, 2.0, 3.0, 4.0, 5.0, 1e9)
ABSTAIN_MARGINS = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3)
# The clinical tokenizer's tokens, closely enough for the cue window: words and single marks.
TOKEN = re.compile(r"\w+|[^\w\s]")


@dataclass(frozen=True)
class TuneRow:
    gold: int
    scores: list[float]
    probabilities: list[float]


@dataclass(frozen=True)
class Outcome:
    accuracy: float
    abstention: float
    model_share: float


def nearby_words(item: SenseItem) -> list[str]:
    before = TOKEN.findall(item.text[:item.start])[-CUE_WINDOW_TOKENS:]
    after = TOKEN.findall(item.text[item.end:])[:CUE_WINDOW_TOKENS]
    return [w.lower() for w in before + after if w.isalpha()]


def collect(items: Sequence[SenseItem], lexicon: Lexicon, ranker: SenseRanker
            ) -> list[TuneRow | None]:
    """Per item (aligned), its cue scores and the ranker's probabilities; None when no
    ambiguous entry of the lexicon covers the item."""
    rows: list[TuneRow | None] = []
    rank_items, positions = [], []
    for item in items:
        entry = entry_for(item, lexicon.entries)
        senses = entry.all_senses() if entry else []
        ids = [s.id for s in senses]
        if item.sense not in ids:
            rows.append(None)
            continue
        positions.append(len(rows))
        # The pipeline knows a section only from a heading in the text; a context's section
        # label is metadata it never sees, so tuning must not see it either.
        rows.append(TuneRow(ids.index(item.sense),
                            cue_scores(senses, nearby_words(item), None, item.specialty,
                                       item.text[item.end:item.end + VALUE_LOOKAHEAD_CHARS]),
                            []))
        rank_items.append(RankItem(item.text, item.start, item.end,
                                   [candidate_text(s) for s in senses], None, item.specialty))
    for position, probabilities in zip(positions, ranker.rank(rank_items), strict=True):
        row = rows[position]
        assert row is not None
        rows[position] = TuneRow(row.gold, row.scores, probabilities)
    return rows


def decision_for(row: TuneRow, settings: SenseSettings) -> SenseDecision:
    """What the pipeline decides for this row (the same functions it calls)."""
    if cues_decide(row.scores, settings):
        return decide_by_cues(row.scores, settings)
    return decide_with_model(row.probabilities, row.scores, settings)


def outcome(rows: Sequence[TuneRow | None], settings: SenseSettings,
            calibration: dict[str, list[list[float]]] | None = None) -> Outcome:
    """Accuracy, share shown uncertain (abstained or shown below ``LOW_CONFIDENCE``, with the
    confidence ``calibration`` gives) and share asked of the model."""
    kept = [row for row in rows if row is not None]
    correct = uncertain = asked = 0
    for row in kept:
        decision = decision_for(row, settings)
        asked += decision.source == "model"
        correct += decision.index == row.gold
        uncertain += decision.abstained or \
            shown_confidence(decision, calibration or {}) < LOW_CONFIDENCE
    n = max(1, len(kept))
    return Outcome(correct / n, uncertain / n, asked / n)


def tune(rows: Sequence[TuneRow | None]) -> tuple[SenseSettings, Outcome, list[dict[str, Any]]]:
    """The best settings on ``rows`` and the ten best of the grid, best first."""
    rows = [row for row in rows if row is not None]
    grid = []
    for weight, prior, decide_from, margin in itertools.product(
            CUE_WEIGHTS, DEFAULT_PRIORS, CUES_DECIDE_FROM, ABSTAIN_MARGINS):
        settings = SenseSettings(weight, prior, decide_from, margin)
        grid.append((settings, outcome(rows, settings)))
    allowed = [g for g in grid if g[1].abstention <= MAX_ABSTAIN] or grid
    allowed.sort(key=lambda g: (-g[1].accuracy, g[1].model_share, g[1].abstention))
    best_settings, best_outcome = allowed[0]
    table = [{**asdict(s), **asdict(o)} for s, o in allowed[:10]]
    return best_settings, best_outcome, table


CALIBRATION_EDGES = (0.5, 0.6, 0.7, 0.8, 0.9)


def calibrate(rows: Sequence[TuneRow | None], settings: SenseSettings
              ) -> dict[str, list[list[float]]]:
    """Per source ("lexicon", "model"), how often a reading of a given confidence was right on
    the development contexts: ``[[lower edge, share right], ...]``, smoothed ((right + 1) /
    (n + 2)) and made non-decreasing from the top down, so a higher confidence never maps
    lower and every value is the most cautious of its band and the bands above."""
    edges = (0.0, *CALIBRATION_EDGES)
    tallies: dict[str, list[list[int]]] = {"lexicon": [[0, 0] for _ in edges],
                                           "model": [[0, 0] for _ in edges]}
    for row in rows:
        if row is None:
            continue
        decision = decision_for(row, settings)
        if decision.abstained:
            continue
        band = sum(1 for edge in CALIBRATION_EDGES if decision.confidence >= edge)
        tally = tallies[decision.source][band]
        tally[0] += decision.index == row.gold
        tally[1] += 1
    table: dict[str, list[list[float]]] = {}
    for source, bands in tallies.items():
        values = [(right + 1) / (n + 2) for right, n in bands]
        for i in range(len(values) - 2, -1, -1):
            values[i] = min(values[i], values[i + 1])
        table[source] = [[edge, round(value, 3)] for edge, value in zip(edges, values,
                                                                          strict=True)]
    return table


def write_settings(model_dir: Path, settings: SenseSettings, result: Outcome, rows: int,
                   source: str, calibration: dict[str, list[list[float]]] | None = None,
                   calibrated_result: Outcome | None = None) -> None:
    path = model_dir / RANKER_META
    meta = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    meta["sense_settings"] = asdict(settings)
    meta["sense_tuning"] = {"contexts": rows, "source": source, **asdict(result)}
    if calibration is not None and calibrated_result is not None:
        meta["confidence_calibration"] = calibration
        meta["sense_tuning"]["calibrated_abstention"] = calibrated_result.abstention
    path.write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
