"""Read notes to translate from JSON Lines, one bad line never sinking the rest.

Only ``id`` and ``text`` are needed (corpus-format lines carry more, which is ignored here);
``specialty`` is used when present. Each line is decoded on its own, so a non-UTF-8 byte is
reported for its line. Error messages name the file, the line and the field, never note text.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Note:
    line: int
    id: str | None
    text: str
    specialty: str | None


@dataclass(frozen=True)
class BadLine:
    path: str
    line: int
    problem: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.problem}"


def read_notes(data: bytes, path: str, max_chars: int) -> Iterator[Note | BadLine]:
    """Each line as a Note, or as a BadLine saying what is wrong; a note over ``max_chars``
    is a bad line too, so it cannot stop the other notes from being translated."""
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield BadLine(path, number, f"not valid UTF-8 (byte {exc.start + 1} of the line)")
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield BadLine(path, number, f"invalid JSON at column {exc.colno}: {exc.msg}")
            continue
        if not isinstance(record, dict):
            yield BadLine(path, number, "a line must be a JSON object")
            continue
        text, note_id, specialty = record.get("text"), record.get("id"), record.get("specialty")
        if "text" not in record:
            yield BadLine(path, number, "field 'text' is missing")
        elif not isinstance(text, str):
            yield BadLine(path, number, f"field 'text' must be a string, not {type(text).__name__}")
        elif note_id is not None and not isinstance(note_id, str | int):
            yield BadLine(path, number, "field 'id' must be a string")
        elif specialty is not None and not isinstance(specialty, str):
            yield BadLine(path, number, "field 'specialty' must be a string")
        elif len(text) > max_chars:
            yield BadLine(path, number,
                          f"field 'text' has {len(text)} characters; the limit is {max_chars}")
        else:
            yield Note(number, None if note_id is None else str(note_id), text, specialty)
