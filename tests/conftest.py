"""Shared fixtures (the only conftest, as in spaCy's test suite). No test data is real."""

import pytest

from klarjournal.pipeline import Translator, load_translator


@pytest.fixture(scope="session")
def translator() -> Translator:
    """The shipped lexicon with sense choice by lexicon cues (the model has its own tests)."""
    return load_translator(use_model=False)


@pytest.fixture(scope="session")
def nlp(translator: Translator):
    return translator.nlp
