import pytest

from klarjournal.evaluation import readability
from klarjournal.evaluation.readability import count_sentences, lix, sentence_bounds, text_counts


@pytest.mark.parametrize(("text", "sentences"), [
    ("", 0),
    ("145/90.", 0),                                   # no word, no sentence
    ("Pt. indlagt med dyspnø. BT 145/90. Ingen tegn på DVT.", 3),
    ("Behandling: Ingen.", 2),
    ("Tablet 1 x 3 p.o. dagligt", 1),                 # abbreviation before lower case
    ("Obs. DVT", 2),                                  # ... and before a capital
    ("Anamnese\nFeber\n\nHoste", 3),
    ("Hvorfor? Derfor!", 2),
])
def test_sentences(text, sentences):
    assert count_sentences(text) == sentences


def test_counts_and_lix_of_the_spec_example(monkeypatch):
    monkeypatch.setattr(readability, "is_common", lambda word: word.lower() != "dyspnø")
    counts = text_counts("Pt. indlagt med dyspnø. BT 145/90. Ingen tegn på DVT.")
    # Pt indlagt med dyspnø BT Ingen tegn på DVT; only "indlagt" has more than 6 letters
    assert (counts.words, counts.sentences, counts.long_words, counts.rare_words) == (9, 3, 1, 1)
    assert lix(counts.words, counts.sentences, counts.long_words) == pytest.approx(3 + 100 / 9)


def test_rare_words_use_the_lexicon_frequency_check():
    assert text_counts("åndenød").rare_words == 0
    assert text_counts("dyspnø").rare_words == 1


def test_lix_of_no_words_is_undefined():
    assert lix(0, 0, 0) is None


def test_sentence_bounds_exclude_the_break():
    text = "Ingen feber. Tegn på DVT."
    assert sentence_bounds(text, 17) == (12, len(text))
    assert sentence_bounds(text, 0) == (0, 11)
