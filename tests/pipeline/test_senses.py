"""How the sense chooser weighs lexicon cues and the context model, and when it abstains."""

import pytest

from klarjournal.lexicon import Sense
from klarjournal.pipeline.senses import (
    ABSTAIN_CONFIDENCE,
    SenseSettings,
    cue_scores,
    cues_decide,
    decide_by_cues,
    decide_with_model,
)

SENSES = [
    Sense(id="x.first", expansion="første", lay=[{"text": "første"}],
          cues=["ekko", "mislyd"], sections=["obj"], specialties=["kardiologi"]),
    Sense(id="x.second", expansion="anden", lay=[{"text": "anden"}],
          cues=["attak", "mr"], sections=[], specialties=["neurologi"]),
]
SETTINGS = SenseSettings(cue_weight=1.0, cues_decide_from=3.0, abstain_margin=0.15)


@pytest.mark.parametrize("nearby, section, specialty, expected", [
    (["ekkoet", "viser"], None, None, [1.0, 0.0]),
    (["nyt", "attak", "på", "mr"], None, None, [0.0, 2.0]),
    ([], "obj", "Kardiologi", [3.0, 0.0]),
    ([], None, "neurologi", [0.0, 2.0]),
    (["intet", "relevant"], None, None, [0.0, 0.0]),
])
def test_cue_scores_count_cue_words_section_and_specialty(nearby, section, specialty, expected):
    assert cue_scores(SENSES, nearby, section, specialty) == expected


@pytest.mark.parametrize("scores, decides", [
    ([3.0, 0.0], True), ([0.0, 4.0], True), ([3.0, 1.0], False), ([0.0, 0.0], False),
])
def test_cues_decide_only_with_a_clear_lead(scores, decides):
    assert cues_decide(scores, SETTINGS) is decides


@pytest.mark.parametrize("scores", [[0.0, 0.0], [2.0, 2.0]])
def test_cues_without_a_winner_give_the_default_sense_marked_uncertain(scores):
    decision = decide_by_cues(scores, SETTINGS)
    assert (decision.index, decision.abstained, decision.source) == (0, True, "lexicon")
    assert decision.confidence <= ABSTAIN_CONFIDENCE


def test_cues_with_a_winner_choose_it():
    decision = decide_by_cues([0.0, 3.0], SETTINGS)
    assert (decision.index, decision.abstained) == (1, False)
    assert decision.confidence > ABSTAIN_CONFIDENCE


@pytest.mark.parametrize("probabilities, scores, index, abstained", [
    ([0.1, 0.9], [0.0, 0.0], 1, False),        # the model is sure
    ([0.45, 0.55], [0.0, 0.0], 0, True),       # close call: default sense, marked
    ([0.45, 0.55], [2.0, 0.0], 0, False),      # the cues tip a close call
    ([0.3, 0.7], [0.0, 1.0], 1, False),        # model and cues agree
])
def test_model_and_cues_combined(probabilities, scores, index, abstained):
    decision = decide_with_model(probabilities, scores, SETTINGS)
    assert (decision.index, decision.abstained, decision.source) == (index, abstained, "model")
    if abstained:
        assert decision.confidence <= ABSTAIN_CONFIDENCE


def test_zero_cue_weight_leaves_the_model_alone():
    decision = decide_with_model([0.2, 0.8], [5.0, 0.0], SenseSettings(cue_weight=0.0, cues_decide_from=1e9, abstain_margin=0.0))
    assert decision.index == 1


@pytest.mark.parametrize("following, kind", [
    (" 145/92, puls 80", "ratio"), (": 145 / 92", "ratio"), (" 54, sover", "number"),
    (" ca. 115/min", "number"), (" 36+5, Apgar", "gestation"), (" -3,1", "number"),
    (" med sten", None), ("-scanning", None), ("", None),
    (". 3 uger efter", None), (" 2 dage", None), (" 12 mdr.", None), (" 2,38 mmol/l", "number"),
    (" 14 timers", "number"), (" 1,5 t", None),
])
def test_value_after_the_span(following, kind):
    from klarjournal.pipeline.senses import value_after

    assert value_after(following) == kind


def test_a_value_of_the_right_kind_points_to_the_measurement_sense():
    pressure = Sense(id="rr.blodtryk", expansion="blodtryk", lay=[{"text": "blodtryk"}],
                     value="ratio")
    rate = Sense(id="rr.frekvens", expansion="respirationsfrekvens",
                 lay=[{"text": "vejrtrækninger pr. minut"}], value="number")
    assert cue_scores([pressure, rate], [], None, None, " 145/92") == [3.0, 0.0]
    assert cue_scores([pressure, rate], [], None, None, " 18") == [0.0, 3.0]


def test_the_default_prior_tips_an_even_model_towards_the_commonest_sense():
    settings = SenseSettings(cue_weight=1.0, default_prior=1.0, abstain_margin=0.1)
    decision = decide_with_model([0.5, 0.5], [0.0, 0.0], settings)
    assert (decision.index, decision.abstained) == (0, False)


@pytest.mark.parametrize("source, raw, shown", [
    ("model", 0.95, 0.8), ("model", 0.85, 0.5), ("model", 0.3, 0.4), ("lexicon", 0.95, 0.97),
    ("other", 0.66, 0.66),
])
def test_calibrated_confidence_is_the_share_right_on_dev(source, raw, shown):
    from klarjournal.pipeline.senses import calibrated

    table = {"model": [[0.0, 0.4], [0.8, 0.5], [0.9, 0.8]], "lexicon": [[0.0, 0.5], [0.9, 0.97]]}
    assert calibrated(table, source, raw) == shown
