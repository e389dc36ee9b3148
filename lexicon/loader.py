"""Load and validate the lexicon's JSON Lines files.

The shipped data lives in ``klarjournal.lexicon/data`` and is found with ``importlib.resources``.
Hospital overlays are extra entry files whose entries replace shipped entries of the same id
(later files win). The lexicon version names the release and a hash of every loaded file, so a
patient text can be traced to the exact data that produced it.
"""

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from klarjournal.lexicon.schema import ContextRule, Entry, Morpheme, SectionHeading, SourceRef

LEXICON_RELEASE = "2026.11.22"

Record = TypeVar("Record", bound=BaseModel)


class LexiconError(ValueError):
    """A data file is malformed. Says which file, line and entry id, and what is wrong."""

    def __init__(self, path: str, line: int | None, entry_id: str | None, problem: str):
        self.path, self.line, self.entry_id, self.problem = path, line, entry_id, problem
        where = path if line is None else f"{path}:{line}"
        if entry_id:
            where += f" (id {entry_id!r})"
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Lexicon:
    entries: tuple[Entry, ...]
    morphemes: tuple[Morpheme, ...]
    context_rules: tuple[ContextRule, ...]
    sections: tuple[SectionHeading, ...]
    sources: tuple[SourceRef, ...]
    allowed_lay_words: frozenset[str]
    files: tuple[str, ...]
    content_hash: str
    # Where each entry id came from, for `lexicon lookup` and overlay precedence reports.
    origin: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def version(self) -> str:
        return f"{LEXICON_RELEASE}+{self.content_hash[:12]}"

    def entry(self, entry_id: str) -> Entry | None:
        return self._by_id().get(entry_id)

    def _by_id(self) -> dict[str, Entry]:
        cached = self.__dict__.get("_by_id_cache")
        if cached is None:
            cached = {entry.id: entry for entry in self.entries}
            object.__setattr__(self, "_by_id_cache", cached)
        return cached


def shipped_data_dir() -> Path:
    return Path(str(resources.files("klarjournal.lexicon") / "data"))


def read_records(path: Path, model: type[Record]) -> Iterator[tuple[int, Record]]:
    """Yield (line number, record) for each non-blank line; raise LexiconError on the first bad one."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LexiconError(str(path), None, None, f"cannot read file: {exc.strerror}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise LexiconError(str(path), line, None, "not valid UTF-8") from exc
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LexiconError(str(path), number, None, f"invalid JSON: {exc.msg}") from exc
        entry_id = data.get("id") if isinstance(data, dict) else None
        try:
            yield number, model.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'record'}: {err['msg']}"
                for err in exc.errors()
            )
            raise LexiconError(str(path), number, entry_id, problems) from exc


def _read_all(paths: Sequence[Path], model: type[Record]) -> list[tuple[str, int, Record]]:
    return [(str(p), n, rec) for p in paths for n, rec in read_records(p, model)]


def _unique_ids(records: list[tuple[str, int, Record]]) -> None:
    seen: dict[str, tuple[str, int]] = {}
    for path, line, record in records:
        record_id = record.id  # type: ignore[attr-defined]
        if record_id in seen:
            first_path, first_line = seen[record_id]
            raise LexiconError(path, line, record_id,
                               f"duplicate id, first defined at {first_path}:{first_line}")
        seen[record_id] = (path, line)


def load_lexicon(
    data_dir: str | Path | None = None, overlays: Sequence[str | Path] = ()
) -> Lexicon:
    """Load the lexicon in ``data_dir`` (default: the shipped one) plus hospital overlays.

    Overlay files hold entries only; an overlay entry with an id that already exists replaces it,
    and a later overlay wins over an earlier one.
    """
    return _load_cached(
        str(Path(data_dir).resolve()) if data_dir else None,
        tuple(str(Path(p).resolve()) for p in overlays),
    )


@lru_cache(maxsize=8)
def _load_cached(data_dir: str | None, overlays: tuple[str, ...]) -> Lexicon:
    base = Path(data_dir) if data_dir else shipped_data_dir()
    entry_files = sorted((base / "entries").glob("*.jsonl"))
    if not entry_files:
        raise LexiconError(str(base / "entries"), None, None, "no entry files (*.jsonl) found")
    entries = _read_all(entry_files, Entry)
    _unique_ids(entries)
    by_id: dict[str, tuple[str, int, Entry]] = {e.id: (p, n, e) for p, n, e in entries}
    for overlay in overlays:
        overlay_records = _read_all([Path(overlay)], Entry)
        _unique_ids(overlay_records)
        for path, line, entry in overlay_records:
            by_id[entry.id] = (path, line, entry)

    def optional(name: str, model: type[Record]) -> list[tuple[str, int, Record]]:
        path = base / name
        records = _read_all([path], model) if path.exists() else []
        _unique_ids(records)
        return records

    morphemes = optional("morphemes.jsonl", Morpheme)
    rules = optional("context_rules.jsonl", ContextRule)
    sections = optional("sections.jsonl", SectionHeading)
    sources = optional("sources.jsonl", SourceRef)
    allow_files = sorted((base / "lay_allowlist").glob("*.txt"))
    allowed = frozenset(
        word.strip().lower()
        for path in allow_files
        for word in path.read_text("utf-8").splitlines()
        if word.strip() and not word.startswith("#")
    )

    files = [*entry_files, *(Path(o) for o in overlays)]
    files += [base / n for n in ("morphemes.jsonl", "context_rules.jsonl", "sections.jsonl",
                                 "sources.jsonl") if (base / n).exists()]
    files += allow_files
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())

    ordered = sorted(by_id.values(), key=lambda item: item[2].id)
    return Lexicon(
        entries=tuple(e for _, _, e in ordered),
        morphemes=tuple(r for _, _, r in morphemes),
        context_rules=tuple(r for _, _, r in rules),
        sections=tuple(r for _, _, r in sections),
        sources=tuple(r for _, _, r in sources),
        allowed_lay_words=allowed,
        files=tuple(str(p) for p in files),
        content_hash=digest.hexdigest(),
        origin={e.id: f"{p}:{n}" for p, n, e in ordered},
    )
