#!/usr/bin/env python3
"""Build and validate the sense-labelled sets (test or dev) for ambiguous abbreviations.

Standard library only.

    python evaluation/senses/build_senses.py            # build test.jsonl from src/, validate
    python evaluation/senses/build_senses.py --check    # validate the existing test.jsonl only
    python evaluation/senses/build_senses.py --split dev          # build dev.jsonl from dev_src/
    python evaluation/senses/build_senses.py --split dev --check  # validate dev.jsonl only

``test`` (the default) is held out; ``dev`` is the development set for tuning.

Sources: ``src/contexts_*.txt`` (test) or ``dev_src/contexts_*.txt`` (dev), one context a line
(``#`` lines are comments):

    sense id | specialty | section id or - | text with the ambiguous surface marked [[...]]

A line may mark the surface more than once; each mark becomes one item with the same sense.
Item ids are ``<entry id>-<nnn>``, numbered in source order per entry.

Validation (both modes): valid JSON, unique ids, ``text[start:end] == surface``, the sense id
exists in ``lexicon/data/entries/*.jsonl`` (as a sense of an ambiguous entry), the surface is
one of that entry's surfaces (case-insensitively, unless the entry is case-sensitive), and the
section, when given, is an id in ``lexicon/data/sections.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
ENTRIES = ROOT / "lexicon" / "data" / "entries"
SECTIONS = ROOT / "lexicon" / "data" / "sections.jsonl"
SPLITS = {"test": (HERE / "src", HERE / "test.jsonl"), "dev": (HERE / "dev_src", HERE / "dev.jsonl")}
MARK = re.compile(r"\[\[(.+?)\]\]")


def load_senses() -> tuple[dict[str, dict], dict[str, set[str]]]:
    """sense id -> {entry, surfaces, case_sensitive, expansion}, and the surfaces of
    single-meaning entries (lower-case) -> their expansions (lower-case)."""
    senses: dict[str, dict] = {}
    single: dict[str, set[str]] = {}
    for path in sorted(ENTRIES.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            entry = json.loads(line)
            if entry.get("expansion"):
                for surface in entry["surfaces"]:
                    single.setdefault(surface.lower(), set()).add(entry["expansion"].lower())
            for sense in entry.get("senses") or []:
                senses[sense["id"]] = {
                    "entry": entry["id"], "surfaces": entry["surfaces"],
                    "case_sensitive": bool(entry.get("case_sensitive")),
                    "expansion": sense.get("expansion"), "file": path.name,
                }
    return senses, single


def load_sections() -> set[str]:
    if not SECTIONS.exists():
        return set()
    return {json.loads(l)["id"] for l in SECTIONS.read_text(encoding="utf-8").splitlines() if l.strip()}


def parse_sources(src: Path) -> list[dict]:
    items: list[dict] = []
    counters: Counter = Counter()
    for path in sorted(src.glob("contexts_*.txt")):
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip() or line.startswith("#"):
                continue
            parts = [p.strip() for p in line.split("|", 3)]
            if len(parts) != 4:
                raise SystemExit(f"{path.name}:{lineno}: expected 'sense | specialty | section | text'")
            sense, specialty, section, marked = parts
            text = MARK.sub(lambda m: m.group(1), marked)
            marks = []
            shift = 0
            for m in MARK.finditer(marked):
                start = m.start() - shift
                surface = m.group(1)
                marks.append((start, start + len(surface), surface))
                shift += 4
            if not marks:
                raise SystemExit(f"{path.name}:{lineno}: no [[...]] mark")
            entry = sense.split(".", 1)[0]
            for start, end, surface in marks:
                counters[entry] += 1
                items.append({
                    "id": f"{entry}-{counters[entry]:03d}", "text": text, "start": start, "end": end,
                    "surface": surface, "sense": sense, "specialty": specialty,
                    "section": None if section in ("", "-") else section,
                    "_where": f"{path.name}:{lineno}",
                })
    return items


def validate(items: list[dict], senses: dict, single: dict[str, set[str]],
             sections: set) -> list[str]:
    errors = []
    seen = set()
    for it in items:
        w = it.get("_where", it.get("id"))
        for key in ("id", "text", "start", "end", "surface", "sense"):
            if key not in it:
                errors.append(f"{w}: missing field {key!r}")
        if it["id"] in seen:
            errors.append(f"{w}: duplicate id {it['id']}")
        seen.add(it["id"])
        if it["text"][it["start"]:it["end"]] != it["surface"]:
            errors.append(f"{w}: text[start:end] != surface {it['surface']!r}")
        s = senses.get(it["sense"])
        if s is None:
            errors.append(f"{w}: unknown sense id {it['sense']!r}")
            continue
        if s["case_sensitive"]:
            ok = it["surface"] in s["surfaces"]
        else:
            ok = it["surface"].lower() in {x.lower() for x in s["surfaces"]}
        if not ok and (s["expansion"] or "").lower() in single.get(it["surface"].lower(), ()):
            # The lexicon reads this form (e.g. dotted "d.d.") as an unambiguous entry with the
            # same meaning: still a fair item, scored by meaning.
            ok = True
        if not ok:
            errors.append(f"{w}: surface {it['surface']!r} is not a surface of entry {s['entry']!r} {s['surfaces']}")
        if it.get("section") and sections and it["section"] not in sections:
            errors.append(f"{w}: unknown section id {it['section']!r}")
    return errors


def overlap_with_test(items: list[dict]) -> list[str]:
    """Dev items whose text is also a test text (names only the dev side; test is never shown)."""
    test_out = SPLITS["test"][1]
    if not test_out.exists():
        return []
    test_texts = {json.loads(l)["text"] for l in test_out.read_text(encoding="utf-8").splitlines() if l.strip()}
    return [f"{it.get('_where', it['id'])}: same text as a test item" for it in items if it["text"] in test_texts]


def report(items: list[dict], senses: dict) -> str:
    by_entry: dict[str, Counter] = defaultdict(Counter)
    for it in items:
        by_entry[it["sense"].split(".", 1)[0]][it["sense"]] += 1
    lines = [f"items: {len(items)}; abbreviations: {len(by_entry)}; senses used: "
             f"{sum(len(c) for c in by_entry.values())}"]
    for entry in sorted(by_entry):
        c = by_entry[entry]
        all_senses = sorted(k for k, v in senses.items() if v["entry"] == entry)
        unused = [x for x in all_senses if x not in c]
        lines.append(f"  {entry:4s} {sum(c.values()):3d}  " + ", ".join(f"{k} {v}" for k, v in sorted(c.items()))
                     + (f"  (not covered: {', '.join(unused)})" if unused else ""))
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", choices=sorted(SPLITS), default="test",
                    help="which set: test (held out, default) or dev (for tuning)")
    ap.add_argument("--check", action="store_true", help="validate the existing <split>.jsonl only")
    args = ap.parse_args(argv)
    src, out = SPLITS[args.split]
    senses, single = load_senses()
    sections = load_sections()
    if args.check:
        items = []
        for n, line in enumerate(out.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                it = json.loads(line)
                it["_where"] = f"{out.name}:{n}"
                items.append(it)
    else:
        items = parse_sources(src)
    errors = validate(items, senses, single, sections)
    if args.split == "dev":
        errors += overlap_with_test(items)
    if errors:
        print("\n".join(errors), file=sys.stderr)
        print(f"{len(errors)} error(s)", file=sys.stderr)
        return 1
    if not args.check:
        with open(out, "w", encoding="utf-8") as fh:
            for it in items:
                fh.write(json.dumps({k: v for k, v in it.items() if not k.startswith("_")},
                                    ensure_ascii=False) + "\n")
    print(report(items, senses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
