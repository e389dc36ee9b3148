import pytest

from klarjournal.evaluation.baselines import untouched
from klarjournal.evaluation.corpus_io import GoldNote, GoldSpan, LineError
from klarjournal.evaluation.runner import evaluate, run_system, untouched_system

BT = GoldSpan(0, 2, "BT", "abbreviation", "blodtryk", ("blodtryk",))
NOTES = [GoldNote(f"n{i}", "BT ok.", (BT,), specialty="almen") for i in range(5)]


def replacing(texts, ids, _specialties):
    out = []
    for text, note_id in zip(texts, ids, strict=True):
        out.append({"id": note_id, "original": text, "plain": "blodtryk" + text[2:],
                    "spans": [{"start": 0, "end": 2, "surface": "BT", "kind": "abbreviation",
                               "expansion": "blodtryk", "plain": "blodtryk", "plain_start": 0,
                               "plain_end": 8, "negated": False}], "unresolved": []})
    return out


class AsObject:
    def __init__(self, data):
        self.data = data

    def to_dict(self):
        return self.data


def failing_on(bad_id, mode):
    def system(texts, ids, specialties):
        if bad_id in ids:
            if mode == "raise":
                raise RuntimeError("boom")
            return [{**d, "original": "changed"} if d["id"] == bad_id else d
                    for d in replacing(texts, ids, specialties)]
        return [AsObject(d) for d in replacing(texts, ids, specialties)]
    return system


@pytest.mark.parametrize("mode", ["raise", "alter"])
def test_a_note_the_system_fails_on_is_scored_untouched_and_listed(mode):
    predictions, failed = run_system(failing_on("n2", mode), NOTES)
    assert failed == ["n2"]
    assert predictions[2] == {**untouched("BT ok.", "n2"), "id": "n2"}
    assert [p["plain"] for p in predictions].count("blodtryk ok.") == 4


def test_evaluate_scores_every_system_and_compares_with_the_primary():
    evaluation = evaluate(NOTES, {"sys": replacing, "untouched": untouched_system},
                          primary="sys", resamples=50, seed=3,
                          line_errors=[LineError(7, "x", "invalid JSON")],
                          versions={"lexicon": "v"}, options={"seed": 3})
    data = evaluation.to_dict()
    assert data["system"] == "sys"
    assert data["detection"]["recall"] == 1.0
    assert data["ci"]["recall"] == (1.0, 1.0)
    base = data["baselines"]["untouched"]
    assert base["detection"]["recall"] == 0.0
    assert base["system_minus_baseline"]["recall"] == 1.0
    assert base["system_minus_baseline_ci"]["recall"] == (1.0, 1.0)
    assert data["bad_lines"] == [{"line": 7, "id": "x", "reason": "invalid JSON"}]
    assert data["bootstrap"] == {"resamples": 50, "seed": 3, "level": 0.95, "unit": "note"}
    assert data["versions"] == {"lexicon": "v"} and data["options"] == {"seed": 3}
    assert data["failed_notes"] == {}


def test_evaluate_an_empty_corpus():
    data = evaluate([], {"sys": replacing}, primary="sys", resamples=10).to_dict()
    assert data["notes"] == 0 and data["detection"]["f1"] is None
