"""Final scores of a trained ranker on the held-out sense test set, for the model card only.

Reads ``evaluation/senses/test.jsonl`` (hand-written contexts, never used for training or
tuning) with the evaluation package's reader and baselines: the lexicon default sense and the
cue-word logistic regression in ``klarjournal.evaluation.senses_eval``. As in the pipeline, an
abstaining ranker still shows the default (first) sense, marked uncertain.
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from klarjournal.lexicon import Lexicon
from klarjournal.models.ranker import RankItem, SenseRanker, candidate_text

RANKER = "sense_ranker"
RANKER_PLAIN = "sense_ranker_expansion_lay_only"
PIPELINE = "pipeline_decision"


def ranker_choices(ranker: SenseRanker, items: Sequence[Any], lexicon: Lexicon,
                   with_cues: bool = True) -> list[Any]:
    from klarjournal.evaluation.senses_eval import SenseChoice, entry_for

    rank_items: list[RankItem] = []
    senses = []
    for item in items:
        entry = entry_for(item, lexicon.entries)
        candidates = entry.all_senses() if entry else []
        senses.append(candidates)
        rank_items.append(RankItem(item.text, item.start, item.end,
                                   [candidate_text(s, with_cues) for s in candidates],
                                   item.section, item.specialty))
    choices = []
    for candidates, probs in zip(senses, ranker.rank(rank_items), strict=True):
        if not candidates:
            choices.append(SenseChoice(None, True))
            continue
        decision = ranker.decide(probs)
        sense = candidates[0 if decision.abstain else decision.best].id
        choices.append(SenseChoice(sense, decision.abstain))
    return choices


def pipeline_decision_choices(ranker: SenseRanker, items: Sequence[Any], lexicon: Lexicon
                              ) -> list[Any]:
    """What the pipeline shows: cues where they decide, else model and cues combined, with the
    settings tuned on the development contexts (``sense_settings`` in ``ranker.json``)."""
    from klarjournal.evaluation.senses_eval import SenseChoice, entry_for
    from klarjournal.models.tune_senses import collect, decision_for
    from klarjournal.pipeline.renderer import LOW_CONFIDENCE
    from klarjournal.pipeline.senses import SenseSettings, shown_confidence

    settings = SenseSettings(**ranker.meta.get("sense_settings", {}))
    calibration = ranker.meta.get("confidence_calibration") or {}
    choices = []
    for item, row in zip(items, collect(items, lexicon, ranker), strict=True):
        entry = entry_for(item, lexicon.entries)
        if row is None or entry is None:
            choices.append(SenseChoice(None, True))
            continue
        decision = decision_for(row, settings)
        # Shown as uncertain, as the evaluation counts it: abstained or below the renderer's
        # low-confidence threshold.
        uncertain = decision.abstained or \
            shown_confidence(decision, calibration) < LOW_CONFIDENCE
        choices.append(SenseChoice(entry.all_senses()[decision.index].id, uncertain))
    return choices


def heldout_report(ranker: SenseRanker, test_path: Path, lexicon: Lexicon) -> dict[str, Any]:
    """Accuracy, abstention and answered accuracy of the ranker and the two baselines."""
    from klarjournal.evaluation.corpus_io import read_corpus_file
    from klarjournal.evaluation.senses_eval import baseline_choices, evaluate_senses

    items = read_corpus_file(str(test_path)).senses
    choices = baseline_choices(items, lexicon)
    choices[RANKER] = ranker_choices(ranker, items, lexicon, with_cues=True)
    choices[RANKER_PLAIN] = ranker_choices(ranker, items, lexicon, with_cues=False)
    choices[PIPELINE] = pipeline_decision_choices(ranker, items, lexicon)
    evaluation = evaluate_senses(items, choices, lexicon).to_dict()
    return {"path": str(test_path), "items": evaluation["items"],
            "systems": evaluation["systems"],
            "items_without_entry": len(evaluation["items_without_entry"])}
