"""The shortcuts the components take for speed give what the plain way gives (no timings here;
speed is shown by `klarjournal bench`)."""

import dataclasses

import pytest

from klarjournal.pipeline.extensions import DOC_EXTENSIONS, read, write
from klarjournal.pipeline.tokens import WordCache
from klarjournal.pipeline.translation import TranslatedSpan

NOTES = [
    "Anamnese: 3 dages hoste.\nObj.: febril, BT 145/90.\n- Pamol 1 g x 4 dgl. Pt. har det godt.",
    "S: ondt i brystet\nO: BT 120/80\nP: 72\n  * Plan: EKG'et i morgen. KOL's forværring.",
    "Pt. indlagt med dyspnø. Obs. pneumoni. Ingen tegn på DVT.\r\nVurdering:pneumoni",
    "Plan:\n- Røntgen af thorax\n\n\t• kontrol om 3 mdr. Cor: u.a. Hjerte-Kar: ingen",
]


def test_extensions_read_and_write_what_doc_underscore_does(nlp):
    doc = nlp.make_doc("Pt. har dyspnø.")
    for name in DOC_EXTENSIONS:
        write(doc, name, [name])
        assert getattr(doc._, name) == [name]
        setattr(doc._, name, (name,))
        assert read(doc, name) == (name,)


def test_rendered_spans_hold_exactly_the_span_fields(translator):
    doc = translator.nlp(NOTES[0] + " Obs. pneumoni, EKG'et.")
    spans = doc._.klarjournal_translation["spans"]
    assert spans
    fields = [f.name for f in dataclasses.fields(TranslatedSpan)]
    for span in spans:
        assert sorted(span) == sorted(fields)
        assert TranslatedSpan.from_fields(span) == TranslatedSpan(**span)


def test_word_cache_computes_once_and_empties_past_its_limit():
    calls = []
    cache = WordCache(lambda word: calls.append(word) or word.upper(), limit=2)
    assert [cache["a"], cache["a"], cache["b"]] == ["A", "A", "B"]
    assert calls == ["a", "b"]
    assert cache["c"] == "C" and len(cache) == 1


@pytest.mark.parametrize("text", NOTES)
def test_headings_are_found_as_the_pattern_finds_them_anywhere(nlp, text):
    splitter = nlp.get_pipe("klarjournal_sections")
    assert [m.span() for m in splitter._heading_matches(text)] == \
        [m.span() for m in splitter.pattern.finditer(text)]


@pytest.mark.parametrize("text", NOTES)
def test_sentence_starts_follow_the_rule_token_by_token(nlp, text):
    doc = nlp(text)
    headings = nlp.get_pipe("klarjournal_sections").find_headings(text)
    heading_starts = {h["heading_start"] for h in headings}
    heading_ends = {h["colon_end"] for h in headings}
    expected = [True]
    for previous, token in zip(doc, doc[1:]):
        expected.append(
            ("\n" in previous.text and previous.is_space) or token.idx in heading_starts
            or previous.idx + len(previous) in heading_ends or previous.text in {".", "!", "?"}
            or (previous.text.endswith(".") and len(previous) > 1 and token.text[:1].isupper()
                and not token.text.isupper() and not previous.like_num)
            or (token.text in ("-", "*", "•", "–", "·")
                and not text[text.rfind("\n", 0, token.idx) + 1:token.idx].strip()))
    assert doc._.klarjournal_sentence_starts == expected
    assert [t.is_sent_start for t in doc] == expected


def test_capitalised_word_is_jargon_only_where_it_starts_a_sentence(nlp):
    jargon = nlp.get_pipe("klarjournal_jargon")
    assert jargon.looks_like_jargon("Xylofagitis", sentence_start=True)
    assert not jargon.looks_like_jargon("Xylofagitis", sentence_start=False)
    assert jargon.looks_like_jargon("xylofagitis", sentence_start=False)
    assert not jargon.looks_like_jargon("hoste", sentence_start=True)


def test_units_grouped_by_first_character_match_as_the_flat_alternation():
    import random
    import re

    from klarjournal.pipeline.quantities import UNITS, _alternation_by_first_character

    grouped = re.compile(_alternation_by_first_character(UNITS))
    flat = re.compile("|".join(re.escape(u).replace(r"\ ", r"\s?") for u in UNITS))
    rng = random.Random(3)
    texts = [unit + rng.choice(["", " ", "/l", "2", "x"]) for unit in UNITS]
    texts += ["".join(rng.choice([*UNITS, " ", "7,2", "x", "ø"]) for _ in range(6))
              for _ in range(500)]
    for text in texts:
        assert [m.span() for m in grouped.finditer(text)] == \
            [m.span() for m in flat.finditer(text)]
