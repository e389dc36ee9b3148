import pytest

from klarjournal.evaluation.corpus_io import SenseItem
from klarjournal.evaluation.senses_eval import (
    CUE_LR,
    DEFAULT,
    CueLogisticRegression,
    SenseChoice,
    baseline_choices,
    choice_from_translation,
    context_words,
    entry_for,
    evaluate_senses,
    tally,
)
from klarjournal.lexicon import Entry, Lexicon

MS = Entry.model_validate({
    "id": "ms", "kind": "abbreviation", "surfaces": ["MS"], "case_sensitive": True,
    "specialty": "almen", "source": "test", "senses": [
        {"id": "ms.sklerose", "expansion": "multipel sklerose", "lay": [{"text": "sklerose"}],
         "cues": ["attak", "mri", "neurolog"]},
        {"id": "ms.stenose", "expansion": "mitralstenose", "lay": [{"text": "klapfejl"}],
         "cues": ["ekko", "klap", "mislyd"]}]})
LEXICON = Lexicon(entries=(MS,), morphemes=(), context_rules=(), sections=(), sources=(),
                  allowed_lay_words=frozenset(), files=(), content_hash="0" * 64)


def item(text, sense="ms.sklerose", item_id="s1"):
    start = text.index("MS")
    return SenseItem(item_id, text, start, start + 2, "MS", sense)


@pytest.mark.parametrize(("text", "sense", "abstained"), [
    ("Kendt MS, nyt attak med synsforstyrrelse.", "ms.sklerose", False),
    ("MS set ved ekkokardiografi, svær mislyd.", "ms.stenose", False),
    ("MRI viser aktiv MS, neurologisk vurdering.", "ms.sklerose", False),
    ("Kendt MS.", "ms.sklerose", True),      # no cue: default sense, marked as abstaining
])
def test_cue_logistic_regression_follows_cue_words(text, sense, abstained):
    choice = CueLogisticRegression(MS).choose(context_words(item(text)))
    assert choice == SenseChoice(sense, abstained)


def test_context_is_a_window_of_words_around_the_surface_without_it():
    words = context_words(item("a b c MS d e"), window=2)
    assert words == ["b", "c", "d", "e"]


def test_entry_is_found_by_surface_respecting_case_or_by_sense_id():
    assert entry_for(item("Kendt MS."), LEXICON.entries) is MS
    lower = SenseItem("x", "kendt ms.", 6, 8, "ms", "ms.stenose")
    assert entry_for(lower, LEXICON.entries) is MS          # via the gold sense id
    unknown = SenseItem("y", "kendt xy.", 6, 8, "xy", "xy.a")
    assert entry_for(unknown, LEXICON.entries) is None


def span(start, end, sense, low=False):
    return {"start": start, "end": end, "surface": "MS", "sense": sense, "low_confidence": low}


@pytest.mark.parametrize(("translation", "expected"), [
    ({"spans": [span(6, 8, "ms.stenose")]}, SenseChoice("ms.stenose", False)),
    ({"spans": [span(6, 8, "ms.stenose", low=True)]}, SenseChoice("ms.stenose", True)),
    ({"spans": [span(0, 5, "x"), span(6, 8, "ms.sklerose")]}, SenseChoice("ms.sklerose", False)),
    ({"spans": []}, SenseChoice(None, True)),
    ({"spans": [span(6, 8, None)]}, SenseChoice(None, True)),
    ({"spans": [span(6, 8, "ms.sklerose")], "unresolved": [{"surface": "MS"}]},
     SenseChoice("ms.sklerose", True)),
])
def test_pipeline_choice_is_read_from_the_span_over_the_item(translation, expected):
    assert choice_from_translation(item("Kendt MS."), translation) == expected


def test_accuracy_abstention_and_answered_accuracy_hand_computed():
    items = [item("Kendt MS.", "ms.sklerose", "a"), item("Kendt MS.", "ms.stenose", "b"),
             item("Kendt MS.", "ms.stenose", "c"), item("Kendt MS.", "ms.stenose", "d")]
    choices = [SenseChoice("ms.sklerose", False), SenseChoice("ms.stenose", True),
               SenseChoice("ms.sklerose", False), SenseChoice(None, True)]
    scores = tally(items, choices)
    assert scores.accuracy == 0.5
    assert scores.abstention == 0.5
    assert scores.answered_accuracy == 0.5


def test_baselines_and_report_over_a_small_set():
    items = [item("Kendt MS, nyt attak.", "ms.sklerose", "a"),
             item("MS ved ekko.", "ms.stenose", "b"),
             item("Kendt MS.", "ms.stenose", "c")]
    report = evaluate_senses(items, baseline_choices(items, LEXICON), LEXICON).to_dict()
    assert report["items"] == 3
    assert report["systems"][DEFAULT] == {"items": 3, "accuracy": pytest.approx(1 / 3),
                                          "abstention": 0.0,
                                          "answered_accuracy": pytest.approx(1 / 3)}
    assert report["systems"][CUE_LR]["accuracy"] == pytest.approx(2 / 3)
    assert report["systems"][CUE_LR]["abstention"] == pytest.approx(1 / 3)
    assert report["systems"][CUE_LR]["answered_accuracy"] == 1.0
    assert list(report["by_surface"]) == ["ms"]


def test_an_empty_sense_set():
    report = evaluate_senses([], {DEFAULT: []}, LEXICON).to_dict()
    assert report["systems"][DEFAULT]["accuracy"] is None


CT = Entry.model_validate({
    "id": "ct", "kind": "abbreviation", "surfaces": ["CT"], "case_sensitive": True,
    "specialty": "almen", "source": "test", "senses": [
        {"id": "ct.scan", "expansion": "CT-scanning", "lay": [{"text": "scanning"}]},
        {"id": "ct.klamydia", "expansion": "Chlamydia trachomatis",
         "lay": [{"text": "klamydia"}]}]})


def plain(entry_id, surface, expansion, lay):
    return Entry.model_validate({"id": entry_id, "kind": "phrase", "surfaces": [surface],
                                 "specialty": "almen", "source": "test",
                                 "expansion": expansion, "lay": [{"text": lay}]})


JUDGED = Lexicon(entries=(
    CT,
    plain("rad.ct-thorax", "CT thorax", "CT-scanning af thorax", "scanning af brystkassen"),
    plain("rad.ct-cerebrum", "CT cerebrum", "computertomografi af cerebrum",
          "CT-scanning af hjernen"),
    plain("ct-klamydiatest", "CT-test", "test for Chlamydia trachomatis", "klamydiatest"),
    plain("ct-mixed", "CT-x", "scanning for klamydia", "scanning og klamydia"),
), morphemes=(), context_rules=(), sections=(), sources=(), allowed_lay_words=frozenset(),
    files=(), content_hash="0" * 64)


@pytest.mark.parametrize(("gold", "chosen", "right"), [
    ("ct.scan", "ct.scan", True),
    ("ct.scan", "ct.klamydia", False),              # the rival sense of the same entry
    ("ct.scan", None, False),
    ("ct.scan", "rad.ct-thorax", True),              # its expansion contains the gold one
    ("ct.scan", "rad.ct-cerebrum", True),            # shares words with the gold sense only
    ("ct.klamydia", "rad.ct-cerebrum", False),
    ("ct.klamydia", "ct-klamydiatest", True),
    ("ct.scan", "ct-klamydiatest", False),
    ("ct.scan", "ct-mixed", False),                  # as close to both senses: not right
    ("ct.scan", "no-such-sense", False),
])
def test_a_longer_entry_that_took_the_span_is_right_when_it_carries_the_gold_meaning(
        gold, chosen, right):
    from klarjournal.evaluation.senses_eval import SenseJudge

    item = SenseItem("ct-001", "CT thorax i dag.", 0, 2, "CT", gold)
    assert SenseJudge(JUDGED).right(item, chosen) is right
