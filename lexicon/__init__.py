"""The klarjournal lexicon: entries, morphemes, context rules and section headings as data."""

from klarjournal.lexicon.loader import Lexicon, LexiconError, load_lexicon, shipped_data_dir
from klarjournal.lexicon.schema import ContextRule, Entry, LayReading, Morpheme, SectionHeading, Sense

__all__ = [
    "ContextRule", "Entry", "LayReading", "Lexicon", "LexiconError", "Morpheme",
    "SectionHeading", "Sense", "load_lexicon", "shipped_data_dir",
]
