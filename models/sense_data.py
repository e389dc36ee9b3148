"""Training contexts for the sense ranker, made from the lexicon and project text only.

Two sources, both labelled without a human:

* **Reverse substitution** – sentences from the development notes
  (``evaluation/corpus/dev.jsonl``), the plan texts and the gathered Danish text that contain a
  sense's expansion or lay reading get the abbreviation put in its place, labelled with that
  sense.
* **Templates** – short clinical-note contexts per sense, built from the sense's ``cues``,
  ``sections`` and ``specialties`` plus topic words: surfaces of plain lexicon entries of the
  same specialty. Some contexts carry no cue at all (only section/specialty, or nothing, in which
  case the label is the entry's default sense) so the ranker learns what to do with little
  evidence.

The development split uses templates the training split never sees. Test files
(``evaluation/senses/test.jsonl``, ``evaluation/corpus/test.jsonl``) are never read here.
"""

import json
import random
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from klarjournal.lexicon import Entry, Lexicon, Sense

Origin = str  # "template" | "reverse" | "default"


@dataclass(frozen=True)
class SenseExample:
    """One labelled context: the span ``text[start:end]`` is a surface of ``entry_id``."""

    text: str
    start: int
    end: int
    entry_id: str
    gold: int  # index into the entry's senses
    section: str | None
    specialty: str | None
    origin: Origin


# {S} = the surface; {c} cue words; {t} topic words of the sense's specialty; {n} a number.
TEMPLATES: tuple[str, ...] = (
    "{S} kendt siden {year}. {C} og {c} beskrevet.",
    "Henvist med {S}. {C} {c}, {t}.",
    "Tidligere {S}, nu {c} og {t}.",
    "Obs. {S}; {c} {c}.",
    "{C}: {S} bekræftet ved {c}.",
    "Pt. med {S}, {c} {t}. {C}.",
    "Vurd.: {S} med {c}. Plan: {c}, {t}.",
    "{T}, {t}. {S} {c}.",
    "Anamnestisk {S} ({c}).",
    "{S} - {c}, {c}, {c}.",
    "Ved {c} fundet {S}.",
    "Kontrol af {S}, {c} stationær.",
    "Mistanke om {S} pga. {c} og {c}.",
    "{C} {n}. {S}. {t}.",
    "Fortsætter {c} for {S}.",
    "Status: {S} uden {c}. {T} normal.",
    "{S} diagnosticeret {year}, {c} og {t}.",
    "Aktuelt {c}. Kendt {S}. {T}.",
    "{C} og {t} forenelig med {S}.",
    "{S} ({c}, {c}) - fortsat {t}.",
    "Tiltagende {c}, vurderes at skyldes {S}.",
    "Ingen tegn på {S}. {C} {t}.",
    "{S}: {c} {n}, {t}.",
    "Drøftet {S} med pt., {c} og {t} aftalt.",
    "{T} og {c}. Ad {S}: {c}.",
    "Ny {c}, {S} progredieret. {T}.",
)
# Held out from training: the dev split is built from these only.
DEV_TEMPLATES: tuple[str, ...] = (
    "Pt. ses for {S}. {C} ved {c}, desuden {t}.",
    "Konklusion: {S}. {C} og {t} {n}.",
    "Fund af {c} og {c} tyder på {S}.",
    "{T}. Kendt med {S} og {c}.",
    "Påbegyndt {c} grundet {S}, {t}.",
    "{S} med {c}. {T} og {t} uændret.",
)
# Contexts without cues: only note metadata (and generic words) point to a sense.
BARE_TEMPLATES: tuple[str, ...] = (
    "{S}.",
    "Kendt {S}.",
    "Ad {S}: se tidligere notat.",
    "{S} som anført.",
    "Pt. har {S}.",
    "{S} drøftet, fortsat som hidtil.",
)
DEV_BARE_TEMPLATES: tuple[str, ...] = (
    "Vedr. {S}: uændret.",
    "{S} - se epikrise.",
    "Kendt med {S} gennem flere år.",
)
GENERIC_WORDS = ("kontrol", "samtale", "status", "opfølgning", "aftale", "telefonkonsultation",
                 "ambulant", "notat", "journal", "pårørende")


def ambiguous_entries(lexicon: Lexicon) -> list[Entry]:
    return [entry for entry in lexicon.entries if entry.is_ambiguous]


def topic_words(lexicon: Lexicon) -> dict[str, list[str]]:
    """Surfaces and expansions of plain entries, grouped by specialty: words a note of that
    specialty is likely to contain."""
    words: dict[str, list[str]] = defaultdict(list)
    for entry in lexicon.entries:
        if entry.is_ambiguous:
            continue
        words[entry.specialty].extend(entry.surfaces[:2])
        if entry.expansion:
            words[entry.specialty].append(entry.expansion)
    return {key: sorted(set(value)) for key, value in words.items()}


def sense_specialties(sense: Sense) -> list[str]:
    values = list(sense.specialties)
    if sense.specialty and sense.specialty not in values:
        values.append(sense.specialty)
    return values


def _cap(word: str) -> str:
    return word[:1].upper() + word[1:]


def _fill(template: str, surface: str, cues: Sequence[str], topics: Sequence[str],
          rng: random.Random) -> tuple[str, int, int]:
    """Fill ``template``; returns text and the span of the (first) surface."""
    cue_pool = list(cues) or list(topics) or list(GENERIC_WORDS)
    topic_pool = list(topics) or list(GENERIC_WORDS)
    parts = re.split(r"(\{[A-Za-z]+\})", template)
    out: list[str] = []
    span = (0, 0)
    for part in parts:
        if part == "{S}":
            start = sum(len(p) for p in out)
            span = (start, start + len(surface))
            out.append(surface)
        elif part in ("{c}", "{C}"):
            word = rng.choice(cue_pool)
            out.append(_cap(word) if part == "{C}" else word)
        elif part in ("{t}", "{T}"):
            word = rng.choice(topic_pool)
            out.append(_cap(word) if part == "{T}" else word)
        elif part == "{n}":
            out.append(str(rng.choice([rng.randint(1, 99), round(rng.uniform(0.1, 20), 1)])))
        elif part == "{year}":
            out.append(str(rng.randint(1995, 2025)))
        else:
            out.append(part)
    return "".join(out), span[0], span[1]


def _with_heading(text: str, start: int, end: int, heading: str | None, rng: random.Random
                  ) -> tuple[str, int, int]:
    if heading is None or rng.random() < 0.5:
        return text, start, end
    prefix = f"{heading}: " if rng.random() < 0.5 else f"{heading}\n"
    return prefix + text, start + len(prefix), end + len(prefix)


def _with_filler(text: str, start: int, end: int, filler: Sequence[str], rng: random.Random
                 ) -> tuple[str, int, int]:
    """Surround the context with unrelated note sentences, as a real note would."""
    if not filler or rng.random() < 0.6:
        return text, start, end
    before = " ".join(rng.sample(list(filler), k=min(len(filler), rng.randint(0, 1))))
    after = " ".join(rng.sample(list(filler), k=min(len(filler), rng.randint(0, 1))))
    prefix = before + " " if before else ""
    return prefix + text + (" " + after if after else ""), start + len(prefix), end + len(prefix)


def template_examples(lexicon: Lexicon, per_sense: int, rng: random.Random,
                      templates: Sequence[str], filler: Sequence[str],
                      bare_templates: Sequence[str] = BARE_TEMPLATES) -> list[SenseExample]:
    topics = topic_words(lexicon)
    headings = {section.id: section.headings for section in lexicon.sections}
    all_specialties = sorted({s for e in ambiguous_entries(lexicon) for sense in e.senses or []
                              for s in sense_specialties(sense)})
    examples: list[SenseExample] = []
    for entry in ambiguous_entries(lexicon):
        senses = entry.all_senses()
        for gold, sense in enumerate(senses):
            specialties = sense_specialties(sense)
            sense_topics = [w for s in specialties for w in topics.get(s, [])]
            for _ in range(per_sense):
                surface = rng.choice(entry.surfaces)
                kind = rng.random()
                if kind < 0.08:
                    # Nothing but metadata points to the sense.
                    template = rng.choice(bare_templates)
                    cues: list[str] = []
                elif kind < 0.18:
                    # Topic words of the specialty instead of the sense's own cues.
                    template = rng.choice(templates)
                    cues = sense_topics
                else:
                    template = rng.choice(templates)
                    cues = list(sense.cues)
                text, start, end = _fill(template, surface, cues, sense_topics, rng)
                section = rng.choice(sense.sections) if sense.sections and rng.random() < 0.6 \
                    else None
                if section is None and rng.random() < 0.3:
                    section = rng.choice(sorted(headings))
                heading = rng.choice(headings[section]) if section in headings else None
                text, start, end = _with_heading(text, start, end, heading, rng)
                text, start, end = _with_filler(text, start, end, filler, rng)
                specialty = rng.choice(specialties) if specialties and rng.random() < 0.6 \
                    else None
                if specialty is None and rng.random() < 0.25:
                    specialty = rng.choice(all_specialties)  # unrelated note metadata
                if kind < 0.08 and not (specialty in specialties or section in sense.sections):
                    # No evidence left: the lexicon's default reading is the right answer.
                    examples.append(SenseExample(text, start, end, entry.id, 0, section,
                                                 specialty, "default"))
                    continue
                examples.append(SenseExample(text, start, end, entry.id, gold, section,
                                             specialty, "template"))
    return examples


def _sentences(paragraphs: Iterable[str]) -> Iterable[str]:
    for paragraph in paragraphs:
        yield from (s.strip() for s in re.split(r"(?<=[.!?])\s+|\n", paragraph) if s.strip())


def reverse_substitution(lexicon: Lexicon, paragraphs: Iterable[str], rng: random.Random,
                         max_per_sense: int) -> list[SenseExample]:
    """Replace a sense's expansion or lay reading in a sentence by the abbreviation."""
    patterns: list[tuple[str, re.Pattern[str], Entry, int]] = []
    for entry in ambiguous_entries(lexicon):
        for gold, sense in enumerate(entry.all_senses()):
            phrases = {sense.expansion, *(reading.text for reading in sense.lay)}
            for phrase in phrases:
                # Phrases shorter than 4 letters match too much ("AB" -> "blodtype AB").
                if len(phrase) >= 4:
                    patterns.append((phrase.lower(),
                                     re.compile(rf"(?<!\w){re.escape(phrase)}(?!\w)", re.I),
                                     entry, gold))
    found: dict[tuple[str, int], list[SenseExample]] = defaultdict(list)
    for sentence in _sentences(paragraphs):
        if len(sentence) > 400:
            continue
        lowered = sentence.lower()
        for phrase, pattern, entry, gold in patterns:
            if phrase not in lowered:
                continue
            match = pattern.search(sentence)
            if match is None:
                continue
            surface = rng.choice(entry.surfaces)
            text = sentence[:match.start()] + surface + sentence[match.end():]
            found[(entry.id, gold)].append(SenseExample(
                text, match.start(), match.start() + len(surface), entry.id, gold, None, None,
                "reverse"))
    examples: list[SenseExample] = []
    for key in sorted(found):
        items = found[key]
        rng.shuffle(items)
        examples.extend(items[:max_per_sense])
    return examples


def dev_note_paragraphs(path: Path) -> list[str]:
    """Texts of the development notes (``evaluation/corpus/dev.jsonl``)."""
    if not path.exists():
        return []
    texts = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            if isinstance(record.get("text"), str):
                texts.append(record["text"])
    return texts


def build_examples(lexicon: Lexicon, paragraphs: Sequence[str], filler: Sequence[str],
                   per_sense: int, seed: int) -> tuple[list[SenseExample], list[SenseExample]]:
    """(train, dev). Dev = held-out templates, plus 10 % of the reverse substitutions."""
    rng = random.Random(seed)
    train = template_examples(lexicon, per_sense, rng, TEMPLATES, filler)
    dev = template_examples(lexicon, max(3, per_sense // 40), rng, DEV_TEMPLATES, filler,
                            DEV_BARE_TEMPLATES)
    reverse = reverse_substitution(lexicon, paragraphs, rng, max_per_sense=per_sense // 2)
    rng.shuffle(reverse)
    cut = len(reverse) // 10
    dev.extend(reverse[:cut])
    train.extend(reverse[cut:])
    rng.shuffle(train)
    return train, dev


def filler_sentences(paragraphs: Sequence[str], lexicon: Lexicon, limit: int = 400) -> list[str]:
    """Short note sentences that contain no ambiguous surface, to pad generated contexts."""
    surfaces = {s.lower() for e in ambiguous_entries(lexicon) for s in e.surfaces}
    out = []
    for sentence in _sentences(paragraphs):
        words = {w.lower().strip(".,:;()") for w in sentence.split()}
        if 3 <= len(sentence.split()) <= 14 and not words & surfaces:
            out.append(sentence)
    return sorted(set(out))[:limit]
