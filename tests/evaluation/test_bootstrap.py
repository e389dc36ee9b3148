import pytest

from klarjournal.evaluation.baselines import untouched
from klarjournal.evaluation.bootstrap import bootstrap
from klarjournal.evaluation.corpus_io import GoldNote, GoldSpan
from klarjournal.evaluation.metrics import MAIN_FIGURES, score

BT = GoldSpan(0, 2, "BT", "abbreviation", "blodtryk", ("blodtryk",))


def found(note_id):
    return {"id": note_id, "original": "BT ok.", "plain": "blodtryk ok.", "unresolved": [],
            "spans": [{"start": 0, "end": 2, "surface": "BT", "kind": "abbreviation",
                       "expansion": "blodtryk", "plain": "blodtryk", "plain_start": 0,
                       "plain_end": 8, "negated": False}]}


def notes(n):
    return [GoldNote(f"n{i}", "BT ok.", (BT,)) for i in range(n)]


def scored(hits, total):
    gold = notes(total)
    predictions = [found(g.id) if i < hits else untouched(g.text, g.id)
                   for i, g in enumerate(gold)]
    return score(gold, predictions).notes


def test_identical_notes_give_a_degenerate_interval_at_the_point_estimate():
    result = bootstrap({"s": scored(5, 5)}, "s", resamples=50, seed=1)
    assert result.intervals["s"]["recall"] == (1.0, 1.0)
    assert result.intervals["s"]["precision"] == (1.0, 1.0)


def test_intervals_are_reproducible_with_a_seed_and_contain_the_estimate():
    notes_ = scored(6, 10)
    first = bootstrap({"s": notes_}, "s", resamples=300, seed=7)
    again = bootstrap({"s": notes_}, "s", resamples=300, seed=7)
    assert first.intervals == again.intervals
    low, high = first.intervals["s"]["recall"]
    assert low < 0.6 < high and 0.0 <= low and high <= 1.0


def test_differences_are_paired_over_the_same_draws():
    system, baseline = scored(6, 10), scored(0, 10)
    result = bootstrap({"s": system, "b": baseline, "same": system}, "s", resamples=200)
    assert result.differences["same"]["recall"] == (0.0, 0.0)
    low, high = result.differences["b"]["recall"]
    assert 0.0 < low <= 0.6 <= high
    assert set(result.differences) == {"b", "same"}


@pytest.mark.parametrize("resamples", [0, 10])
def test_an_empty_corpus_or_no_resamples_gives_no_intervals(resamples):
    systems = {"s": scored(0, 0)} if resamples else {"s": scored(2, 3)}
    result = bootstrap(systems, "s", resamples=resamples)
    assert all(result.intervals["s"][f] is None for f in MAIN_FIGURES)


def test_undefined_figures_have_no_interval():
    result = bootstrap({"s": scored(0, 4)}, "s", resamples=20)
    assert result.intervals["s"]["precision"] is None  # never any prediction
    assert result.intervals["s"]["recall"] == (0.0, 0.0)
