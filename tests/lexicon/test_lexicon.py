"""The shipped lexicon passes its own check, and bad data fails loudly with file, line and id."""

import dataclasses
import json

import pytest

from klarjournal.lexicon import LexiconError, load_lexicon, shipped_data_dir
from klarjournal.lexicon.check import check_lexicon
from klarjournal.lexicon.stats import lexicon_stats


def test_shipped_lexicon_passes_the_check():
    assert [str(f) for f in check_lexicon(load_lexicon()) if f.severity == "error"] == []


def test_shipped_lexicon_is_large_and_broad():
    stats = lexicon_stats(load_lexicon())
    assert stats["entries"] >= 3000
    assert stats["ambiguous"] >= 150
    assert stats["morphemes"] >= 300
    assert stats["by_kind"]["phrase"] >= 150
    assert len(stats["by_specialty"]) >= 20


@pytest.fixture()
def data_dir(tmp_path):
    """A copy of the shipped data that a test may break."""
    folder = tmp_path / "data"
    for path in shipped_data_dir().rglob("*"):
        if path.is_file():
            target = folder / path.relative_to(shipped_data_dir())
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    return folder


GOOD = {"id": "test.x", "kind": "term", "surfaces": ["xyzitis"], "expansion": "xyzitis",
        "lay": [{"text": "betændelse"}], "specialty": "almen", "source": "laegehaandbogen"}


@pytest.mark.parametrize(("line", "problem"), [
    ("{not json", "invalid JSON"),
    (json.dumps({**GOOD, "colour": "red"}), "colour"),
    (json.dumps({k: v for k, v in GOOD.items() if k != "source"}), "source"),
    (json.dumps({**GOOD, "kind": "word"}), "kind"),
])
def test_loader_error_names_file_line_and_id(data_dir, line, problem):
    path = data_dir / "entries" / "zz-test.jsonl"
    path.write_text(json.dumps({**GOOD, "id": "test.ok"}) + "\n" + line + "\n", "utf-8")
    with pytest.raises(LexiconError) as error:
        load_lexicon(data_dir)
    message = str(error.value)
    assert f"{path}:2" in message and problem in message


def test_loader_refuses_duplicate_ids_across_files(data_dir):
    (data_dir / "entries" / "zz-a.jsonl").write_text(json.dumps(GOOD) + "\n", "utf-8")
    (data_dir / "entries" / "zz-b.jsonl").write_text(json.dumps(GOOD) + "\n", "utf-8")
    with pytest.raises(LexiconError, match="duplicate id"):
        load_lexicon(data_dir)


def test_check_reports_a_surface_shared_by_two_entries(data_dir):
    (data_dir / "entries" / "zz-a.jsonl").write_text(
        json.dumps({**GOOD, "surfaces": ["pneumoni"]}) + "\n", "utf-8")
    findings = check_lexicon(load_lexicon(data_dir))
    assert any("pneumoni" in f.problem and f.severity == "error" for f in findings)


@pytest.mark.parametrize(("surface", "flagged"), [("diagnose", True), ("xyzitis", False)])
def test_check_warns_of_a_term_too_common_to_ever_match(data_dir, surface, flagged):
    (data_dir / "entries" / "zz-a.jsonl").write_text(
        json.dumps({**GOOD, "surfaces": [surface]}) + "\n", "utf-8")
    findings = check_lexicon(load_lexicon(data_dir))
    assert any("never matched" in f.problem for f in findings if f.entry_id == "test.x") is flagged


@pytest.mark.parametrize(("changes", "flagged"), [
    ({"kind": "phrase", "surfaces": ["v. xyzea sin."], "lay": [{"text": "blodåren"}]}, True),
    ({"kind": "phrase", "surfaces": ["v. xyzea sin."], "lay": [{"text": "venstre blodåre"}]}, True),
    ({"kind": "phrase", "surfaces": ["v. xyzea sin."], "expansion": "vena xyzea sinistra",
      "lay": [{"text": "blodåren i venstre side"}]}, False),
    ({"kind": "abbreviation", "surfaces": ["XNK"], "expansion": "højre nedre kvadrant",
      "lay": [{"text": "en fjerdedel af maven"}]}, True),
    ({"kind": "abbreviation", "surfaces": ["XNK"], "expansion": "højre nedre kvadrant",
      "lay": [{"text": "nederste højre del af maven"}]}, False),
    ({"surfaces": ["bilateral xyzitis"], "lay": [{"text": "betændelse i begge sider"}],
      "expansion": "bilateral xyzitis"}, False),
])
def test_check_reports_a_reading_that_drops_a_side_of_the_body(data_dir, changes, flagged):
    (data_dir / "entries" / "zz-a.jsonl").write_text(
        json.dumps({**GOOD, **changes}) + "\n", "utf-8")
    findings = check_lexicon(load_lexicon(data_dir))
    assert any("side of the body" in f.problem and f.severity == "error"
               for f in findings if f.entry_id == "test.x") is flagged


def test_check_reports_a_lay_reading_that_is_still_jargon(data_dir):
    (data_dir / "entries" / "zz-a.jsonl").write_text(
        json.dumps({**GOOD, "lay": [{"text": "cholecystolithiasis"}]}) + "\n", "utf-8")
    findings = check_lexicon(load_lexicon(data_dir))
    assert any("may not know" in f.problem for f in findings if f.entry_id == "test.x")


def test_overlay_replaces_an_entry_and_changes_the_version(tmp_path):
    overlay = tmp_path / "hospital.jsonl"
    replacement = {"id": "pneumoni", "kind": "term", "surfaces": ["pneumoni"],
                   "expansion": "pneumoni", "lay": [{"text": "betændelse i lungen"}],
                   "specialty": "lungemedicin", "source": "laegehaandbogen"}
    overlay.write_text(json.dumps(replacement) + "\n", "utf-8")
    shipped, merged = load_lexicon(), load_lexicon(overlays=[overlay])
    assert merged.entry("pneumoni").lay[0].text == "betændelse i lungen"
    assert merged.version != shipped.version
    assert merged.origin["pneumoni"].startswith(str(overlay))


def test_overlay_reaches_the_patient_text(tmp_path):
    from klarjournal.pipeline import load_translator

    overlay = tmp_path / "hospital.jsonl"
    overlay.write_text(json.dumps({**GOOD, "id": "hosp.xyz", "surfaces": ["XYZ-test"],
                                   "kind": "abbreviation", "expansion": "xyz-test",
                                   "lay": [{"text": "en særlig blodprøve"}]}) + "\n", "utf-8")
    translator = load_translator(lexicon_overlays=[overlay], use_model=False)
    assert translator.translate("Pt. fik taget XYZ-test.").plain == \
        "Patienten fik taget en særlig blodprøve."


def test_a_surface_that_swallows_a_negation_cue_is_flagged_for_review():
    from klarjournal.lexicon.check import check_negation_kept_outside
    from klarjournal.lexicon.schema import ContextRule, Entry

    lexicon = load_lexicon()
    entry = Entry.model_validate({
        "id": "t.ingen-x", "kind": "phrase", "surfaces": ["ingen sygdomsindsigt", "sygdomsindsigt"],
        "expansion": "sygdomsindsigt", "lay": [{"text": "forståelse af at være syg"}],
        "specialty": "psykiatri", "source": "klinisk-ordbog"})
    rule = ContextRule.model_validate({"id": "neg.t", "literal": "ingen", "category": "negated",
                                       "direction": "forward", "max_scope": 6,
                                       "source": "klarjournal-context"})
    probe = dataclasses.replace(lexicon, entries=(entry,), context_rules=(rule,))
    findings = check_negation_kept_outside(probe)
    assert [(f.severity, f.entry_id) for f in findings] == [("warning", "t.ingen-x")]
    assert "ingen sygdomsindsigt" in findings[0].problem
