"""Clinical safety invariants, checked on generated text and on every shipped corpus note."""

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from klarjournal.lexicon.danish import reading_keeps_sides
from klarjournal.pipeline.quantities import find_quantities

CORPUS_DIR = Path(__file__).resolve().parents[2] / "evaluation" / "corpus"
NEGATION_CUES = ("ingen", "ikke", "uden", "afkræftet", "negativ for", "ej ")
NUMBER = re.compile(r"\d+(?:[.,/:]\d+)*")

FRAGMENTS = [
    "Pt.", "pt", "indlagt med", "dyspnø", "dyspnøen", "BT", "145/90", "Obs.", "obs", "pneumoni",
    "pneumonien", "Ingen tegn på", "DVT", "ikke", "uden", "afkræftet", "kan ikke udelukkes",
    "Pamol", "1 g x 4", "dgl.", "p.o.", "i.v.", "EKG'et", "KOL-patientens", "ødemerne", "sin.",
    "dxt.", "hø.", "ve.", "v. poplitea", "HNK", "bilat.", "7,2 mmol/l", "94%", "2 l O2", "12.03.2026", "kl. 14.30", "MS", "Ca",
    "u.a.", "Obj.:", "Anamnese:", "Plan:", "\n", "\n- ", ".", ",", " ", "\t", "\r\n", "\u00a0",
    "😀", "\x07", "st.p.", "tidl.", "Mor har", "xylofomatose", "pnevmoni", "pneumonni",
]
clinical_text = st.lists(st.sampled_from(FRAGMENTS), min_size=0, max_size=30).map(" ".join)
any_text = st.text(max_size=300)


def check_invariants(original: str, result: dict) -> None:
    assert result["original"] == original
    plain = result["plain"]
    previous_end = 0
    for span in result["spans"]:
        assert 0 <= previous_end <= span["start"] < span["end"] <= len(original)
        assert original[span["start"]:span["end"]] == span["surface"]
        assert plain[span["plain_start"]:span["plain_end"]] == span["plain"]
        # A side of the body the clinician wrote (sin., hø., bilat.) is named in the reading.
        assert reading_keeps_sides(span["surface"], span["plain"]), span["entry"]
        previous_end = span["end"]
    # Every quantity (number, dose, unit, date, time) of the original is in the patient text.
    for start, end in find_quantities(original):
        assert original[start:end] in plain
    assert NUMBER.findall(original) == NUMBER.findall(_outside_spans(original, result, "start", "end")) or \
        all(n in plain for n in NUMBER.findall(original))
    # Negation cues outside the explained spans reach the patient text unchanged (cues inside a
    # span, such as "kan ikke udelukkes", are rendered by their lexicon reading).
    original_rest = _outside_spans(original, result, "start", "end").lower()
    plain_rest = _outside_spans(plain, result, "plain_start", "plain_end").lower()
    for cue in NEGATION_CUES:
        assert plain_rest.count(cue) == original_rest.count(cue)
    for item in result["unresolved"]:
        assert item["surface"] in plain


def _outside_spans(text: str, result: dict, start_key: str, end_key: str) -> str:
    """``text`` without the spans' stretches (original offsets or patient-text offsets)."""
    pieces, position = [], 0
    # Neighbouring readings may be swapped in the patient text ("Sting i huden"): go by offset.
    for span in sorted(result["spans"], key=lambda s: s[start_key]):
        pieces.append(text[position:span[start_key]])
        position = span[end_key]
    return "".join(pieces) + text[position:]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=clinical_text)
def test_invariants_hold_on_generated_clinical_text(translator, text):
    check_invariants(text, translator.translate(text).to_dict())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=any_text)
def test_invariants_hold_on_arbitrary_text(translator, text):
    check_invariants(text, translator.translate(text).to_dict())


def _corpus_notes() -> list[dict]:
    notes = []
    for path in sorted(CORPUS_DIR.glob("*.jsonl")):
        notes += [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    return notes


@pytest.mark.skipif(not _corpus_notes(), reason="no corpus shipped yet")
def test_invariants_hold_on_every_shipped_corpus_note(translator):
    notes = _corpus_notes()
    results = translator.translate_many([n["text"] for n in notes], [n["id"] for n in notes])
    for note, result in zip(notes, results, strict=True):
        data = result.to_dict()
        check_invariants(note["text"], data)
        for keep in note.get("keep", []):
            assert keep in data["plain"], f"{note['id']}: a keep string is missing"
