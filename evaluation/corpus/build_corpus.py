#!/usr/bin/env python3
"""Build the annotated evaluation corpus (JSON Lines) from the marked-up sources.

Standard library only. Run from anywhere:

    python evaluation/corpus/build_corpus.py            # build dev.jsonl and test.jsonl
    python evaluation/corpus/build_corpus.py --check    # validate only, write nothing
    python evaluation/corpus/build_corpus.py --stats    # also print counts

Sources live in ``evaluation/corpus/src/``:

* ``*.txt`` — one file per specialty. Header lines ``@specialty NAME`` and ``@prefix PFX``,
  then notes, each introduced by ``### NNNN | note type | YYYY-MM-DD``. The note text is
  every line up to the next ``###`` (leading and trailing blank lines dropped; lines starting
  with ``#`` followed by a space are comments, not note text).
* ``glossary.txt`` — this corpus's own annotation glossary (written for the corpus by its
  annotator, independent of the lexicon): ``surface | kind | expansion | lay1; lay2``
  with kind ``a`` (abbreviation), ``t`` (term) or ``p`` (phrase). Surfaces are matched
  exactly, then case-insensitively.

Markup inside note text:

* ``[[surface]]`` — an annotated span, looked up in the glossary.
* ``[[surface|k|expansion|lay1;lay2]]`` — an annotated span given in full (k = a/t/p).
  Ambiguous abbreviations (see AMBIGUOUS) must always be given in full.
* ``[[!...]]`` — either form, and the finding is negated (surface goes to ``negated``).
* ``{{...}}`` — text that must survive unchanged (goes to ``keep``).
* ``<<...>>`` — a negated finding in ordinary words, not annotated (goes to ``negated``).

The markers are removed from the text; offsets are computed on the clean text.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
GLOSSARY = SRC / "glossary.txt"
KINDS = {"a": "abbreviation", "t": "term", "p": "phrase"}

# Abbreviations with more than one clinical reading; a note containing one of these (as an
# annotated surface, any case, trailing period ignored) counts as a note with an ambiguous
# abbreviation. They may never be resolved through the glossary.
AMBIGUOUS = {
    "ms", "pt", "as", "cp", "ra", "mr", "pe", "ca", "tu", "hr", "ak", "le", "ht", "ap",
    "ad", "af", "ks", "pd", "rf", "st", "tb", "vt", "dm", "pa", "mi", "op", "av", "bs",
    "cd", "dd", "es", "ga", "gi", "hf", "hs", "ic", "la", "lp", "oa", "ps", "sd", "si",
    "ta", "vf", "ns", "sa",
}

# "pt." / "Pt." meaning "patienten" is not the ambiguous PT; only the bare capital forms count.
AMBIGUOUS_EXEMPT_SURFACES = {"pt.", "Pt.", "pt", "Pt", "pat.", "Pat.", "ca.", "u.a.", "ua", "u.a", "Ua", "U.a."}

TOKEN = re.compile(r"\[\[(.+?)\]\]|\{\{(.+?)\}\}|<<(.+?)>>", re.S)
HEADER = re.compile(r"^###\s+(\d{4})\s*\|\s*([^|]+?)\s*\|\s*(\d{4}-\d{2}-\d{2})\s*$")
CPR_LIKE = re.compile(r"(?<!\d)\d{6}-?\d{4}(?!\d)")

SPLIT_RULE = "int(sha256(id).hexdigest(), 16) % 5 in (0, 1) -> dev (about 40 %); otherwise -> test"


def is_dev(note_id: str) -> bool:
    return int(hashlib.sha256(note_id.encode("utf-8")).hexdigest(), 16) % 5 in (0, 1)


class BuildError(Exception):
    pass


def load_glossary(path: Path) -> tuple[dict, dict]:
    exact: dict[str, dict] = {}
    folded: dict[str, list[dict]] = {}
    if not path.exists():
        return exact, folded
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("|")
        if len(parts) != 4:
            raise BuildError(f"{path.name}:{lineno}: expected 4 |-separated fields, got {len(parts)}")
        surface, k, expansion, lay = (p.strip() for p in parts)
        if k not in KINDS:
            raise BuildError(f"{path.name}:{lineno}: kind must be a/t/p, got {k!r}")
        lays = [x.strip() for x in lay.split(";") if x.strip()]
        if not expansion or not lays:
            raise BuildError(f"{path.name}:{lineno}: empty expansion or lay")
        if surface in exact:
            raise BuildError(f"{path.name}:{lineno}: duplicate glossary surface {surface!r}")
        if _norm(surface) in AMBIGUOUS and surface not in AMBIGUOUS_EXEMPT_SURFACES:
            raise BuildError(f"{path.name}:{lineno}: ambiguous surface {surface!r} may not be in the glossary")
        rec = {"kind": KINDS[k], "expansion": expansion, "lay": lays}
        exact[surface] = rec
        folded.setdefault(surface.lower(), []).append(rec)
    return exact, folded


def _norm(surface: str) -> str:
    return surface.strip().rstrip(".").lower()


def parse_annotation(body: str, glossary, where: str, missing: set) -> tuple[str, dict | None, bool]:
    negated = body.startswith("!")
    if negated:
        body = body[1:]
    parts = body.split("|")
    surface = parts[0]
    if not surface or surface != surface.strip():
        raise BuildError(f"{where}: annotation surface {surface!r} is empty or padded")
    if len(parts) == 1:
        if _norm(surface) in AMBIGUOUS and surface not in AMBIGUOUS_EXEMPT_SURFACES:
            raise BuildError(f"{where}: ambiguous {surface!r} must be annotated in full")
        exact, folded = glossary
        rec = exact.get(surface)
        if rec is None:
            cands = folded.get(surface.lower(), [])
            if len(cands) == 1:
                rec = cands[0]
            elif len(cands) > 1:
                raise BuildError(f"{where}: {surface!r} matches several glossary surfaces case-insensitively")
        if rec is None:
            missing.add(surface)
            return surface, None, negated
        return surface, {"kind": rec["kind"], "expansion": rec["expansion"], "lay": list(rec["lay"])}, negated
    if len(parts) != 4:
        raise BuildError(f"{where}: full annotation needs surface|kind|expansion|lay, got {body!r}")
    _, k, expansion, lay = parts
    if k not in KINDS:
        raise BuildError(f"{where}: kind must be a/t/p in {body!r}")
    lays = [x.strip() for x in lay.split(";") if x.strip()]
    if not expansion.strip() or not lays:
        raise BuildError(f"{where}: empty expansion or lay in {body!r}")
    return surface, {"kind": KINDS[k], "expansion": expansion.strip(), "lay": lays}, negated


def render(raw: str, glossary, where: str, missing: set) -> tuple[str, list, list, list]:
    out: list[str] = []
    pos = 0
    length = 0
    anns, keep, negated = [], [], []
    for m in TOKEN.finditer(raw):
        chunk = raw[pos:m.start()]
        out.append(chunk)
        length += len(chunk)
        if m.group(1) is not None:
            surface, rec, neg = parse_annotation(m.group(1), glossary, where, missing)
            start = length
            out.append(surface)
            length += len(surface)
            if rec is not None:
                anns.append({"start": start, "end": length, "surface": surface, **rec})
            if neg:
                negated.append(surface)
        elif m.group(2) is not None:
            s = m.group(2)
            out.append(s)
            length += len(s)
            keep.append(s)
        else:
            s = m.group(3)
            out.append(s)
            length += len(s)
            negated.append(s)
        pos = m.end()
    out.append(raw[pos:])
    text = "".join(out)
    for marker in ("[[", "]]", "{{", "}}", "<<", ">>"):
        if marker in text:
            raise BuildError(f"{where}: stray markup {marker!r} left in text")
    return text, anns, keep, negated


def parse_sources(src: Path, glossary, missing: set) -> list[dict]:
    notes = []
    for path in sorted(src.glob("*.txt")):
        specialty = prefix = None
        current = None
        buf: list[str] = []

        def flush():
            if current is None:
                return
            lines = [ln for ln in buf if not ln.startswith("# ")]
            while lines and not lines[0].strip():
                lines.pop(0)
            while lines and not lines[-1].strip():
                lines.pop()
            raw = "\n".join(ln.rstrip() for ln in lines)
            num, note_type, date, lineno = current
            note_id = f"{prefix}-{num}"
            where = f"{path.name}:{lineno} ({note_id})"
            text, anns, keep, neg = render(raw, glossary, where, missing)
            notes.append({
                "id": note_id, "specialty": specialty, "note_type": note_type, "date": date,
                "text": text, "annotations": anns, "keep": keep, "negated": neg,
                "_where": where,
            })

        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.startswith("@specialty "):
                specialty = line.split(None, 1)[1].strip()
                continue
            if line.startswith("@prefix "):
                prefix = line.split(None, 1)[1].strip()
                continue
            if line.startswith("###"):
                m = HEADER.match(line)
                if not m:
                    raise BuildError(f"{path.name}:{lineno}: bad note header {line!r}")
                if not specialty or not prefix:
                    raise BuildError(f"{path.name}: @specialty and @prefix must come before notes")
                flush()
                current = (m.group(1), m.group(2), m.group(3), lineno)
                buf = []
                continue
            if current is not None:
                buf.append(line)
        flush()
    return notes


def validate(notes: list[dict]) -> list[str]:
    errors = []
    seen = set()
    for n in notes:
        w = n["_where"]
        if n["id"] in seen:
            errors.append(f"{w}: duplicate id {n['id']}")
        seen.add(n["id"])
        text = n["text"]
        prev_end = -1
        for a in sorted(n["annotations"], key=lambda a: a["start"]):
            if text[a["start"]:a["end"]] != a["surface"]:
                errors.append(f"{w}: offset mismatch for {a['surface']!r}")
            if a["start"] < prev_end:
                errors.append(f"{w}: overlapping annotation {a['surface']!r}")
            prev_end = a["end"]
        for s in n["keep"]:
            if s not in text:
                errors.append(f"{w}: keep {s!r} not in text")
        for s in n["negated"]:
            if s not in text:
                errors.append(f"{w}: negated {s!r} not in text")
        if CPR_LIKE.search(text):
            errors.append(f"{w}: text contains something shaped like a CPR number")
        words = len(text.split())
        if not 40 <= words <= 250:
            errors.append(f"{w}: {words} words (must be 40-250)")
    return errors


def has_ambiguous(note: dict) -> bool:
    return any(
        _norm(a["surface"]) in AMBIGUOUS and a["surface"] not in AMBIGUOUS_EXEMPT_SURFACES
        for a in note["annotations"]
    )


def stats(notes: list[dict]) -> str:
    lines = []
    dev = [n for n in notes if is_dev(n["id"])]
    lines.append(f"notes: {len(notes)} (dev {len(dev)}, test {len(notes) - len(dev)})")
    words = [len(n["text"].split()) for n in notes]
    lines.append(f"words per note (white-space separated): min {min(words)}, max {max(words)}, mean {sum(words) / len(words):.1f}")
    lines.append(f"notes with an ambiguous abbreviation: {sum(map(has_ambiguous, notes))}")
    kinds = Counter(a["kind"] for n in notes for a in n["annotations"])
    lines.append("annotations: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
                 + f" (total {sum(kinds.values())})")
    lines.append(f"keep strings: {sum(len(n['keep']) for n in notes)}; "
                 f"negated findings: {sum(len(n['negated']) for n in notes)}; "
                 f"notes with a negation: {sum(1 for n in notes if n['negated'])}")
    for field in ("specialty", "note_type"):
        c = Counter(n[field] for n in notes)
        cd = Counter(n[field] for n in dev)
        lines.append(f"by {field}:")
        for k, v in sorted(c.items()):
            lines.append(f"  {k:32s} {v:4d}  (dev {cd[k]}, test {v - cd[k]})")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="validate only")
    ap.add_argument("--stats", action="store_true", help="print counts")
    args = ap.parse_args(argv)
    try:
        glossary = load_glossary(GLOSSARY)
        missing: set[str] = set()
        notes = parse_sources(SRC, glossary, missing)
    except BuildError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    errors = validate(notes)
    if missing:
        errors.append("surfaces missing from glossary.txt:\n  " + "\n  ".join(sorted(missing)))
    if errors:
        print("\n".join(errors), file=sys.stderr)
        print(f"{len(errors)} error(s)", file=sys.stderr)
        return 1
    notes.sort(key=lambda n: n["id"])
    if not args.check:
        for name, part in (("dev", [n for n in notes if is_dev(n["id"])]),
                           ("test", [n for n in notes if not is_dev(n["id"])])):
            with open(HERE / f"{name}.jsonl", "w", encoding="utf-8") as fh:
                for n in part:
                    rec = {k: v for k, v in n.items() if not k.startswith("_")}
                    fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    if args.stats or not args.check:
        print(stats(notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
