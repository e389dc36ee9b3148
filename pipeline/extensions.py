"""Doc extensions the klarjournal components read and write.

They hold plain data (lists of dicts, tuples, strings), never Span objects, so docs serialise
and the service can hand results across threads.
"""

from typing import Any

from spacy.tokens import Doc

DOC_EXTENSIONS: dict[str, object] = {
    "klarjournal_note_id": None,
    "klarjournal_specialty": None,
    "klarjournal_quantities": None,  # list[(start, end)] character ranges never rewritten
    "klarjournal_sections": None,
    "klarjournal_sentence_starts": None,  # list[bool], one per token (cheap to read, unlike
    # token.is_sent_start, which rescans the doc on every access)  # list[dict]: start, end, heading, plain_heading, id, ...
    "klarjournal_matches": None,  # list[dict]: one per recognised span, enriched by components
    "klarjournal_unresolved": None,  # list[dict]: surfaces that look like jargon, unexplained
    "klarjournal_translation": None,  # dict: the rendered result (see renderer)
    "klarjournal_tokens": None,  # TokenTable (lists of texts, offsets, flags), see tokens.py
}


def register_extensions() -> None:
    """Register the extensions once; factories call this, so import has no side effects."""
    for name, default in DOC_EXTENSIONS.items():
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=default)


# Where spaCy keeps a doc extension's value: ``doc._.name`` reads and writes
# ``doc.user_data[("._.", name, None, None)]``, but builds a new Underscore object on every access
# (about 2 µs, some thirty times a note). The components read and write the same entry directly;
# a test checks that both ways agree.
_KEYS = {name: ("._.", name, None, None) for name in DOC_EXTENSIONS}


def read(doc: Doc, name: str) -> Any:
    """``doc._.<name>`` (every default here is None)."""
    return doc.user_data.get(_KEYS[name])


def write(doc: Doc, name: str, value: Any) -> None:
    """``doc._.<name> = value``."""
    doc.user_data[_KEYS[name]] = value
