"""Awkward input is translated with correct offsets, or refused with a clear error."""

import pytest

from klarjournal.pipeline import MAX_NOTE_CHARS, NoteTooLongError


def test_empty_text_gives_an_empty_translation(translator):
    translation = translator.translate("")
    assert (translation.original, translation.plain, translation.spans) == ("", "", [])


@pytest.mark.parametrize("text", [
    "Pt.\thar\tdyspnø.",
    "Pt. har dyspnø.\r\nBT 145/90.\r\n",
    "Pt.\u00a0har\u00a0dyspnø.",
    "Pt. har dyspnø 😀 og ødemer.",
    "Pt. har\x00 dyspnø\x07.",
    "\u200bPt. har dyspnø.",
])
def test_awkward_characters_keep_offsets_right(translator, text):
    translation = translator.translate(text)
    assert translation.original == text
    span = next(s for s in translation.spans if s.surface == "dyspnø")
    assert text[span.start:span.end] == "dyspnø"
    assert translation.plain[span.plain_start:span.plain_end] == "åndenød"


def test_a_one_megabyte_note_is_translated(translator):
    unit = "Pt. har dyspnø. BT 145/90. Ingen tegn på DVT.\n"
    text = (unit * (MAX_NOTE_CHARS // len(unit)))[:MAX_NOTE_CHARS]
    translation = translator.translate(text)
    assert translation.original == text
    assert translation.plain.count("åndenød") == text.count("dyspnø")


def test_a_note_over_the_limit_is_refused_with_the_limit_in_the_message(translator):
    with pytest.raises(NoteTooLongError, match=str(MAX_NOTE_CHARS)):
        translator.translate("x" * (MAX_NOTE_CHARS + 1))


def test_the_error_message_never_contains_note_text(translator):
    with pytest.raises(NoteTooLongError) as error:
        translator.translate("hemmelig " * (MAX_NOTE_CHARS // 9 + 1))
    assert "hemmelig" not in str(error.value)


def test_versions_name_package_lexicon_and_model(translator):
    versions = translator.translate("Pt. har dyspnø.").versions
    assert set(versions) == {"klarjournal", "lexicon", "model"}
    assert all(versions.values())


def test_translate_many_keeps_order_and_ids(translator):
    texts = ["Pt. har dyspnø.", "", "Obs. pneumoni."]
    results = translator.translate_many(texts, ["a", "b", "c"])
    assert [(r.id, r.original) for r in results] == list(zip("abc", texts, strict=True))
