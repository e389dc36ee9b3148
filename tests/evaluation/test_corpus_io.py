import json

import pytest

from klarjournal.evaluation.corpus_io import read_corpus, read_corpus_file

TEXT = "Pt. indlagt med dyspnø. BT 145/90. Ingen tegn på DVT."


def note(**overrides):
    record = {
        "id": "kard-0007", "specialty": "kardiologi", "text": TEXT,
        "annotations": [
            {"start": 0, "end": 3, "surface": "Pt.", "kind": "abbreviation",
             "expansion": "patienten", "lay": ["patienten", "du"]},
            {"start": 16, "end": 22, "surface": "dyspnø", "kind": "term",
             "expansion": "dyspnø", "lay": ["åndenød"]},
        ],
        "keep": ["145/90"], "negated": ["DVT"],
    }
    record.update(overrides)
    return json.dumps(record, ensure_ascii=False)


def test_a_valid_line_becomes_a_note_with_sorted_annotations():
    corpus = read_corpus([note()])
    assert corpus.errors == []
    (parsed,) = corpus.notes
    assert parsed.id == "kard-0007" and parsed.specialty == "kardiologi"
    assert [a.surface for a in parsed.annotations] == ["Pt.", "dyspnø"]
    assert parsed.annotations[0].lay == ("patienten", "du")
    assert parsed.keep == ("145/90",) and parsed.negated == ("DVT",)
    assert corpus.shape == "notes"


def test_blank_lines_are_skipped_and_line_numbers_count_them():
    corpus = read_corpus(["", note(), "   ", "{"])
    assert len(corpus.notes) == 1
    assert [e.line for e in corpus.errors] == [4]


BAD_ANNOTATION = {"start": 0, "end": 3, "surface": "Pt.", "kind": "abbreviation",
                  "expansion": "patienten", "lay": ["patienten"]}


@pytest.mark.parametrize(("line", "reason"), [
    ("{not json", "invalid JSON"),
    ("[1, 2]", "must be a JSON object"),
    (note(id=None), "missing field 'id'"),
    (note(text=5), "'text' must be a string"),
    (json.dumps({"id": "x", "text": "abc"}), "missing field 'annotations'"),
    (note(annotations={}), "'annotations' must be a list"),
    (note(annotations=[{**BAD_ANNOTATION, "end": 4}]), "does not equal the surface"),
    (note(annotations=[{**BAD_ANNOTATION, "start": "0"}]), "must be integers"),
    (note(annotations=[{**BAD_ANNOTATION, "start": True}]), "must be integers"),
    (note(annotations=[{**BAD_ANNOTATION, "end": 999}]), "outside the text"),
    (note(annotations=[{**BAD_ANNOTATION, "kind": "acronym"}]), "kind must be one of"),
    (note(annotations=[{**BAD_ANNOTATION, "lay": []}]), "lay must be"),
    (note(annotations=[{**BAD_ANNOTATION, "lay": "patienten"}]), "lay must be"),
    (note(annotations=[{k: v for k, v in BAD_ANNOTATION.items() if k != "expansion"}]),
     "expansion must be"),
    (note(annotations=[{k: v for k, v in BAD_ANNOTATION.items() if k != "surface"}]),
     "missing field 'surface'"),
    (note(keep=[145]), "'keep' must be a list"),
    (note(keep=["999/99"]), "keep[0] does not occur"),
    (note(negated=["KOL"]), "negated[0] does not occur"),
    (note(specialty=3), "'specialty' must be a string"),
])
def test_bad_lines_are_reported_with_line_number_and_reason(line, reason):
    corpus = read_corpus([note(id="good-1"), line])
    assert [n.id for n in corpus.notes] == ["good-1"]
    (error,) = corpus.errors
    assert error.line == 2
    assert reason in error.reason


def test_error_messages_name_the_id_but_never_note_text():
    secret = "Hemmelig tekst om patienten"
    line = json.dumps({"id": "n-1", "text": secret, "annotations": [
        {"start": 0, "end": 4, "surface": "Hemx", "kind": "term", "expansion": "x",
         "lay": ["y"]}]})
    (error,) = read_corpus([line]).errors
    assert "n-1" in str(error) and "line 1" in str(error)
    assert "Hem" not in str(error) and secret not in str(error)


def test_a_duplicate_id_is_a_bad_line():
    corpus = read_corpus([note(), note()])
    assert len(corpus.notes) == 1
    assert corpus.errors[0].line == 2 and "duplicate id" in corpus.errors[0].reason


def test_empty_input_is_an_empty_corpus():
    corpus = read_corpus([])
    assert corpus.notes == [] and corpus.errors == [] and corpus.shape == "empty"


def sense_line(**overrides):
    record = {"id": "s-1", "text": "Kendt MS, nyt attak.", "start": 6, "end": 8,
              "surface": "MS", "sense": "ms.multipel-sklerose", "specialty": "neurologi",
              "section": "anamnese"}
    record.update(overrides)
    return json.dumps(record, ensure_ascii=False)


def test_sense_lines_are_recognised_by_their_sense_field():
    corpus = read_corpus([sense_line(), sense_line(id="s-2", start=5)])
    assert corpus.shape == "senses"
    assert [s.id for s in corpus.senses] == ["s-1"]
    assert "does not equal the surface" in corpus.errors[0].reason


def test_a_mixed_file_scores_the_majority_shape_and_reports_the_rest():
    corpus = read_corpus([note(id="a"), note(id="b"), sense_line()])
    assert corpus.shape == "notes" and len(corpus.notes) == 2
    assert [(e.line, "sense-labelled" in e.reason) for e in corpus.errors] == [(3, True)]


def test_a_file_with_a_byte_order_mark_and_a_line_separator_inside_text(tmp_path):
    text = "Pt. har det godt.\u2028BT normalt."
    record = {"id": "n", "text": text, "annotations": [
        {"start": 18, "end": 20, "surface": "BT", "kind": "abbreviation",
         "expansion": "blodtryk", "lay": ["blodtryk"]}]}
    path = tmp_path / "c.jsonl"
    path.write_text("\ufeff" + json.dumps(record, ensure_ascii=False) + "\r\n", "utf-8")
    corpus = read_corpus_file(str(path))
    assert corpus.errors == [] and corpus.notes[0].text == text


def test_a_note_over_the_pipeline_limit_is_a_bad_line_not_a_failed_run():
    from klarjournal.pipeline import MAX_NOTE_CHARS

    long_text = TEXT + " x" * (MAX_NOTE_CHARS // 2)
    corpus = read_corpus([note(id="good-1"), note(id="long-1", text=long_text)])
    assert [n.id for n in corpus.notes] == ["good-1"]
    (error,) = corpus.errors
    assert error.line == 2 and f"the limit is {MAX_NOTE_CHARS}" in error.reason
