"""klarjournal's spaCy pipeline and its public API.

>>> from klarjournal.pipeline import load_translator
>>> translator = load_translator()
>>> translator.translate("Pt. har dyspnø.").plain
'Patienten har åndenød.'
"""

from klarjournal.pipeline.build import build_nlp
from klarjournal.pipeline.translation import Section, TranslatedSpan, Translation
from klarjournal.pipeline.translator import (
    MAX_NOTE_CHARS,
    NoteTooLongError,
    Translator,
    load_translator,
)

__all__ = [
    "MAX_NOTE_CHARS", "NoteTooLongError", "Section", "TranslatedSpan", "Translation",
    "Translator", "build_nlp", "load_translator",
]
