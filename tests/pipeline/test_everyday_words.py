"""Everyday Danish words that look like an inflected or genitive term are left as written."""

import re

import pytest


@pytest.mark.parametrize("sentence, word", [
    ("Kom hjem i aften.", "aften"),          # not "afte" (aphthous ulcer) + definite -n
    ("Faldt i aftes på trappen.", "aftes"),  # not the genitive of "afte"
    ("Har haft depression i mange år.", "depression"),
])
def test_everyday_word_is_not_read_as_a_term(translator, sentence, word):
    translation = translator.translate(sentence)
    assert word in translation.plain
    assert not [s for s in translation.spans if s.surface.lower() == word]


@pytest.mark.parametrize("sentence, kept", [
    # An everyday phrase keeps every word: "afd." is not read on its own.
    ("Overflyttes til hæmatologisk afd. i morgen.", "hæmatologisk afd."),
    # A drug the lexicon does not list is not a misspelling of one it lists (Dinoproston).
    ("Dinoprost og mekanisk dilatation.", "Dinoprost"),
])
def test_everyday_forms_and_their_words_stay_as_written(translator, sentence, kept):
    translation = translator.translate(sentence)
    start = sentence.index(kept)
    assert kept in translation.plain
    assert all(s.end <= start or s.start >= start + len(kept) for s in translation.spans)


@pytest.mark.parametrize("sentence, reading", [
    ("Pneumonien er i bedring.", "Lungebetændelsen"),
    ("Dyspnøen aftog.", "Åndenøden"),
])
def test_inflected_term_is_still_read(translator, sentence, reading):
    assert translator.translate(sentence).plain.startswith(reading)


@pytest.mark.parametrize("sentence, surface", [
    ("Lunge-TB, ekspektorat positivt.", "TB"),
    ("Indlagt med NSTE-MI.", "MI"),
    ("Svar på gastroskopi-biopsier.", "gastroskopi"),   # a known first part still wins
    ("Kendt type 2-DM, velreguleret.", "DM"),   # a number joined by a hyphen stays as written
])
def test_hyphen_compound_explains_its_known_part(translator, sentence, surface):
    translation = translator.translate(sentence)
    span = next(s for s in translation.spans if s.surface == surface)
    assert translation.original[span.start:span.end] == surface
    assert translation.plain[span.plain_start:span.plain_end].lower() == span.plain.lower()


@pytest.mark.parametrize("sentence, kept", [
    ("Kendt type 2-DM.", "2-"),
    ("Kontrol om 3-4 uger.", "3-4 uger"),
    ("Givet 5-10 mg.", "5-10 mg"),
])
def test_the_number_of_a_hyphen_compound_is_never_part_of_a_span(translator, sentence, kept):
    translation = translator.translate(sentence)
    assert kept in translation.plain
    start = sentence.index(kept)
    assert all(s.end <= start or s.start >= start + len(kept) for s in translation.spans)


@pytest.mark.parametrize("sentence, expected, negated", [
    ("Trombocyttal 12. Trombocyttransfusion givet.", "12. Blodtransfusion", {}),
    ("Ingen feber d. 3. Pneumoni i hø. side.", "3. Lungebetændelse", {"Pneumoni": False}),
    ("Undersøgt d. 12. marts. Pneumoni.", "12. marts", {"Pneumoni": False}),
])
def test_a_date_ordinal_before_a_capital_ends_the_sentence(translator, sentence, expected,
                                                            negated):
    translation = translator.translate(sentence)
    assert expected in translation.plain
    for span in translation.spans:
        if span.surface in negated:
            assert span.negated is negated[span.surface]


@pytest.mark.parametrize("sentence, surface", [
    ("CA 19-9 forhøjet.", "CA 19-9"),
    ("Status: ECOG 1 ved kontrol.", "ECOG 1"),
])
def test_a_lexicon_phrase_that_writes_a_number_takes_it_in_and_keeps_the_number(
        translator, sentence, surface):
    translation = translator.translate(sentence)
    span = next(s for s in translation.spans if s.surface == surface)
    rendered = translation.plain[span.plain_start:span.plain_end]
    assert all(re.search(rf"(?<!\d){number}(?!\d)", rendered)
               for number in re.findall(r"\d+", surface))
