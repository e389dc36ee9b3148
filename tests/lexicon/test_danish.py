"""The shipped lemma table answers the frequency question exactly as the full lookup table."""

import random

import pytest
from wordfreq import zipf_frequency

from klarjournal.lexicon.build_lemmas import full_lookup
from klarjournal.lexicon.danish import is_common, zipf


@pytest.fixture(scope="module")
def lookup() -> dict[str, str]:
    return full_lookup()


def _zipf_with_full_table(word: str, lookup: dict[str, str]) -> float:
    word = word.lower()
    base = lookup.get(word, word)
    return max(zipf_frequency(word, "da"), zipf_frequency(base, "da"))


def test_shipped_lemmas_give_the_full_tables_frequency(lookup):
    sample = random.Random(11).sample(sorted(lookup), 3000)
    differing = [w for w in sample if zipf(w) != _zipf_with_full_table(w, lookup)]
    assert differing == []


@pytest.mark.parametrize("word", ["hjertets", "lungerne", "knoglerne", "smerterne", "blodpropper"])
def test_an_inflected_everyday_word_counts_as_common(word):
    assert is_common(word)


@pytest.mark.parametrize("word", ["dyspnø", "pneumoni", "hæmoptyse"])
def test_a_clinical_term_does_not_count_as_common(word):
    assert not is_common(word)
