import pytest

from klarjournal.evaluation.corpus_io import GoldNote, GoldSpan
from klarjournal.evaluation.metrics import (
    MAIN_FIGURES,
    figures,
    negated_at,
    same_reading,
    score,
    still_negated,
    surface_left,
)

TEXT = "Pt. indlagt med dyspnø. BT 145/90. Ingen tegn på DVT."
PT = GoldSpan(0, 3, "Pt.", "abbreviation", "patienten", ("patienten", "du"))
DYSPNOE = GoldSpan(16, 22, "dyspnø", "term", "dyspnø", ("åndenød",))
BT = GoldSpan(24, 26, "BT", "abbreviation", "blodtryk", ("blodtryk",))
DVT = GoldSpan(49, 52, "DVT", "abbreviation", "dyb venetrombose",
               ("blodprop i en dyb vene", "blodprop i benet"))


def gold(text=TEXT, spans=(PT, DYSPNOE, BT, DVT), keep=("145/90",), negated=("DVT",),
         note_id="kard-0007", specialty="kardiologi", note_type="indlæggelsesnotat"):
    return GoldNote(note_id, text, tuple(spans), tuple(keep), tuple(negated), specialty,
                    note_type)


def translate(text, replacements, note_id="kard-0007", unresolved=()):
    """A translation dict replacing (start, end, plain, expansion, kind, negated) stretches."""
    plain, spans, cursor = "", [], 0
    for start, end, reading, expansion, kind, negated in sorted(replacements):
        plain += text[cursor:start]
        spans.append({"start": start, "end": end, "surface": text[start:end], "kind": kind,
                      "expansion": expansion, "plain": reading, "plain_start": len(plain),
                      "plain_end": len(plain) + len(reading), "source": "lexicon",
                      "confidence": 1.0, "negated": negated, "entry": None})
        plain += reading
        cursor = end
    plain += text[cursor:]
    return {"id": note_id, "original": text, "plain": plain, "spans": spans, "sections": [],
            "unresolved": list(unresolved), "versions": {}}


PERFECT = [(0, 3, "Patienten", "patienten", "abbreviation", False),
           (16, 22, "åndenød", "dyspnø", "term", False),
           (24, 26, "Blodtryk", "blodtryk", "abbreviation", False),
           (49, 52, "blodprop i en dyb vene", "dyb venetrombose", "abbreviation", True)]


def test_a_perfect_translation_scores_one_everywhere():
    results = score([gold()], [translate(TEXT, PERFECT)])
    f = results.figures
    assert (f["precision"], f["recall"], f["f1"]) == (1.0, 1.0, 1.0)
    assert f["expansion_accuracy"] == f["end_to_end_accuracy"] == 1.0
    assert f["keep"] == f["negation"] == 1.0
    assert f["jargon_left"] == 0.0
    assert results.errors == ()


def test_partial_translation_hand_computed():
    prediction = translate(TEXT, [
        (0, 3, "patienten", "patienten", "abbreviation", False),   # right
        (4, 11, "lagt ind", "indlagt", "term", False),               # false positive
        (16, 22, "åndedræt", "hoste", "term", False),                # found, wrong reading
    ])
    results = score([gold()], [prediction])
    f = results.figures
    assert f["precision"] == pytest.approx(2 / 3)
    assert f["recall"] == pytest.approx(1 / 2)
    assert f["f1"] == pytest.approx(4 / 7)
    assert f["expansion_accuracy"] == pytest.approx(1 / 2)
    assert f["end_to_end_accuracy"] == pytest.approx(1 / 4)
    assert f["jargon_left"] == pytest.approx(2 / 4)  # BT and DVT untouched
    assert f["negation"] == 1.0  # "Ingen tegn på DVT" is unchanged
    kinds = sorted((e.type, e.surface) for e in results.errors)
    assert kinds == [("false_positive", "indlagt"), ("missed", "BT"), ("missed", "DVT"),
                     ("wrong_reading", "dyspnø")]
    wrong = next(e for e in results.errors if e.type == "wrong_reading")
    assert wrong.got == "åndedræt" and "[[dyspnø]]" in wrong.context


def test_a_matching_expansion_counts_even_when_the_plain_reading_differs():
    prediction = translate(TEXT, [(16, 22, "besværet vejrtrækning", "Dyspnø.", "term", False)])
    assert score([gold()], [prediction]).figures["expansion_accuracy"] == 1.0


def test_two_predictions_inside_one_gold_span_both_count_as_matched():
    text = "Status quo ante."
    note = gold(text, [GoldSpan(0, 15, "Status quo ante", "phrase", "status quo ante",
                                ("som før",))], keep=(), negated=())
    prediction = translate(text, [(0, 10, "uændret", "status quo", "phrase", False),
                                  (11, 15, "før", "ante", "term", False)])
    results = score([note], [prediction])
    c = results.counts
    assert (c["gold"], c["found"], c["predicted"], c["predicted_matched"]) == (1, 1, 2, 2)
    assert results.figures["precision"] == results.figures["recall"] == 1.0
    assert results.figures["expansion_accuracy"] == 0.0


def test_one_prediction_covering_two_gold_spans_finds_both_and_counts_once():
    text = "Obs. DVT sin."
    note = gold(text, [GoldSpan(5, 8, "DVT", "abbreviation", "dyb venetrombose", ("blodprop",)),
                       GoldSpan(9, 13, "sin.", "abbreviation", "sinister", ("venstre",))],
                keep=(), negated=())
    prediction = translate(text, [(5, 13, "blodprop i venstre ben", "dvt sin.", "phrase", False)])
    results = score([note], [prediction])
    c = results.counts
    assert (c["gold"], c["found"], c["predicted"], c["predicted_matched"]) == (2, 2, 1, 1)
    assert results.figures["precision"] == 1.0 and results.figures["recall"] == 1.0


def test_a_note_without_annotations():
    text = "Godt."
    note = gold(text, [], keep=(), negated=())
    clean = score([note], [translate(text, [])]).figures
    assert clean["recall"] is None and clean["precision"] is None and clean["f1"] is None
    assert clean["keep"] is None and clean["negation"] is None and clean["jargon_left"] is None
    alarm = score([note], [translate(text, [(0, 4, "fint", "godt", "term", False)])]).figures
    assert alarm["precision"] == 0.0 and alarm["recall"] is None and alarm["f1"] is None


def test_no_predictions_with_gold_gives_f1_zero_and_undefined_precision():
    f = score([gold()], [translate(TEXT, [])]).figures
    assert f["precision"] is None and f["recall"] == 0.0 and f["f1"] == 0.0
    assert f["expansion_accuracy"] is None and f["end_to_end_accuracy"] == 0.0
    assert f["jargon_left"] == 1.0


def test_an_empty_corpus_scores_to_undefined_figures():
    results = score([], [])
    assert all(results.figures[name] is None for name in MAIN_FIGURES)
    assert results.to_dict()["notes"] == 0


def test_counts_pool_over_notes():
    first = gold()
    second = gold("BT ok.", [GoldSpan(0, 2, "BT", "abbreviation", "blodtryk", ("blodtryk",))],
                  keep=(), negated=(), note_id="b", specialty="almen")
    results = score([first, second], [translate(TEXT, PERFECT, "kard-0007"),
                                      translate("BT ok.", [], "b")])
    assert results.figures["recall"] == pytest.approx(4 / 5)
    assert results.by_specialty["kardiologi"]["recall"] == 1.0
    assert results.by_specialty["almen"]["recall"] == 0.0
    assert results.by_kind["abbreviation"]["gold_spans"] == 4
    assert results.by_kind["abbreviation"]["recall"] == pytest.approx(3 / 4)
    assert results.by_kind["term"]["recall"] == 1.0
    assert results.by_kind["phrase"]["recall"] is None


def test_keep_strings_must_survive_verbatim():
    prediction = translate(TEXT, [(27, 33, "145 / 90", "145/90", "term", False)])
    results = score([gold()], [prediction])
    assert results.figures["keep"] == 0.0
    assert sorted(e.type for e in results.errors if e.surface == "145/90") == [
        "false_positive", "keep_lost"]


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("Patienten.", "patienten", True),
    ("  blodprop   i benet ", "blodprop i benet", True),
    ("lungebetændelsen", "lungebetændelse", True),   # ratio 96.8
    ("åndedræt", "åndenød", False),
    ("", "åndenød", False),
    (None, "åndenød", False),
])
def test_readings_match_after_normalising_or_with_fuzzy_ratio_90(a, b, expected):
    assert same_reading(a, b) is expected


def negated_span(start, end, plain_start, plain_end, negated=True):
    return {"start": start, "end": end, "surface": "DVT", "kind": "abbreviation",
            "plain_start": plain_start, "plain_end": plain_end, "negated": negated}


@pytest.mark.parametrize(("plain", "spans", "expected"), [
    # (a) rendered span flagged negated, cue before it in its sentence
    ("Ingen tegn på blodprop.", [negated_span(14, 17, 14, 22)], True),
    # rendered but flagged as not negated
    ("Ingen tegn på blodprop.", [negated_span(14, 17, 14, 22, negated=False)], False),
    # flagged, but the cue is gone from the patient text
    ("Tegn på blodprop.", [negated_span(14, 17, 8, 16)], False),
    # (b) surface left as written under the cue
    ("Ingen tegn på DVT.", [], True),
    ("ingen tegn på dvt.", [], True),
    # the cue belongs to the previous sentence
    ("Ingen feber. Tegn på DVT.", [], False),
    # an abbreviation period before a lower-case word does not end the sentence
    ("Ingen pt. med DVT.", [], True),
    # a negating word after the finding
    ("DVT afkræftet.", [], True),
    ("Afføring negativ for DVT.", [], True),
    ("DVT ikke\npåvist.", [], False),              # the line break ends the sentence
    ("DVT ikke påvist.", [], True),
    # uncertainty is not negation
    ("DVT kan ikke udelukkes.", [], False),
    # "ikke" inside a longer word is no cue
    ("Ikkevoldelig DVT.", [], False),
])
def test_negation_rule(plain, spans, expected):
    assert still_negated("DVT", "Ingen tegn på DVT.", plain, spans) is expected


def test_negation_cue_must_stand_in_the_same_line():
    assert not negated_at("Ingen feber\nDVT", 12, 15)


def test_negation_fidelity_in_score():
    lost = translate(TEXT, [(35, 52, "Tegn på blodprop i en dyb vene", "x", "phrase", True)])
    assert score([gold(spans=())], [lost]).figures["negation"] == 0.0
    kept = translate(TEXT, PERFECT)
    assert score([gold()], [kept]).figures["negation"] == 1.0


@pytest.mark.parametrize(("plain", "original", "surface", "expected"), [
    ("BT 145/90", "BT 145/90", "BT", True),
    ("BTX 145/90", "BT 145/90", "BT", False),
    ("Blodtryk", "BT 145/90", "BT", False),
    ("bt 145/90", "BT 145/90", "BT", False),
    ("obs. for", "obs. DVT", "obs.", True),
    ("tobs. for", "obs. DVT", "obs.", False),
    # part of a longer word in the original: it may stay part of one
    ("Kontrol i tromboseambulatoriet", "Kontrol i tromboseambulatoriet", "trombose", True),
    ("Kontrol i ambulatoriet for blodpropper", "Kontrol i tromboseambulatoriet", "trombose",
     False),
])
def test_jargon_left_matches_verbatim_with_the_original_word_boundaries(plain, original,
                                                                         surface, expected):
    start = original.index(surface)
    span = GoldSpan(start, start + len(surface), surface, "term", "x", ("y",))
    assert surface_left(plain, original, span) is expected


def test_unresolved_are_counted_from_strings_or_objects():
    prediction = translate(TEXT, PERFECT, unresolved=["BT", {"surface": "hæmatemese"}])
    results = score([gold()], [prediction])
    assert results.unresolved == {"total": 2, "notes": 1,
                                  "most_common": [("BT", 1), ("hæmatemese", 1)]}


def test_spans_breaking_the_contract_are_counted():
    prediction = translate(TEXT, PERFECT)
    prediction["spans"][0]["surface"] = "XX"
    prediction["spans"].append({"start": 90, "end": 95})
    assert score([gold()], [prediction]).counts["contract_violations"] == 2


@pytest.mark.parametrize("change", [{"original": "Andet."}, {"id": "other"}, {"plain": None}])
def test_a_prediction_for_another_note_is_refused(change):
    prediction = {**translate(TEXT, PERFECT), **change}
    with pytest.raises(ValueError, match="kard-0007"):
        score([gold()], [prediction])


def test_json_shape_has_the_spec_keys():
    data = score([gold()], [translate(TEXT, PERFECT)]).to_dict()
    assert set(data["detection"]) >= {"precision", "recall", "f1"}
    assert set(data["fidelity"]) >= {"keep", "negation"}
    assert set(data["readability"]) >= {"lix_original", "lix_plain", "rare_original",
                                        "rare_plain", "jargon_left"}
    assert {"expansion_accuracy", "end_to_end_accuracy", "unresolved"} <= set(data)


def test_figures_from_counts_alone():
    counts = {"gold": 4, "found": 2, "correct": 1, "predicted": 3, "predicted_matched": 2,
              "keep_ok": 1, "keep_total": 2, "negated_ok": 0, "negated_total": 1,
              "words_original": 9, "sentences_original": 4, "long_original": 1,
              "rare_original": 3, "words_plain": 10, "sentences_plain": 5, "long_plain": 0,
              "rare_plain": 0, "jargon_left": 1, "jargon_total": 4}
    f = figures(counts)
    assert f["lix_original"] == pytest.approx(9 / 4 + 100 / 9)
    assert f["lix_plain"] == pytest.approx(2.0)
    assert f["rare_original"] == pytest.approx(1 / 3) and f["rare_plain"] == 0.0
    assert f["keep"] == 0.5 and f["negation"] == 0.0 and f["jargon_left"] == 0.25
