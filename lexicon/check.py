"""`klarjournal lexicon check`: the rules the shipped lexicon must pass.

Schema and duplicate ids are enforced by the loader. This module adds what needs the whole
lexicon at once: surface collisions, unknown sources, lay readings that are still jargon,
inflected surfaces whose lay reading lacks the matching form, term forms too common to match,
and readings that drop a side of the body their surface names.
"""

from collections import defaultdict
from dataclasses import dataclass

from klarjournal.lexicon.danish import is_common, is_everyday_form, reading_keeps_sides, sides_named
from klarjournal.lexicon.keys import exact, fold, has_inner_period, shapes_differ
from klarjournal.lexicon.loader import Lexicon
from klarjournal.lexicon.schema import INFLECTED_SLOTS, Entry


@dataclass(frozen=True)
class Finding:
    severity: str  # "error" fails the check; "warning" is listed for a reviewer
    entry_id: str
    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.where} (id {self.entry_id!r}): {self.problem}"


def _surface_forms(entry: Entry) -> list[str]:
    forms = list(entry.surfaces)
    for slot_forms in entry.inflections.values():
        forms.extend(slot_forms)
    return forms


def check_collisions(lexicon: Lexicon) -> list[Finding]:
    """Two entries that can match the same written form must be one ambiguous entry."""
    groups: dict[str, list[tuple[str, str, bool]]] = defaultdict(list)
    for entry in lexicon.entries:
        for form in _surface_forms(entry):
            groups[fold(form)].append((entry.id, form, entry.case_sensitive))
    findings = []
    for key, forms in sorted(groups.items()):
        clashing = sorted({a[0] for a in forms for b in forms
                           if a[0] < b[0] and _can_meet(a, b)} |
                          {b[0] for a in forms for b in forms if a[0] < b[0] and _can_meet(a, b)})
        if clashing:
            findings.append(Finding("error", clashing[0], lexicon.origin.get(clashing[0], "?"),
                                    f"surface {key!r} is shared by entries {clashing}; "
                                    "declare them as senses of one ambiguous entry"))
    return findings


def _can_meet(a: tuple[str, str, bool], b: tuple[str, str, bool]) -> bool:
    """Whether one written form could be read as both entries (same fold key assumed)."""
    (_, form_a, sensitive_a), (_, form_b, sensitive_b) = a, b
    if form_a.endswith(".") != form_b.endswith("."):
        # The matcher prefers the form whose final period is as written ("Ca." cirka, "Ca"
        # calcium), so the two never meet.
        return False
    if sensitive_a and sensitive_b:
        return exact(form_a) == exact(form_b)
    # The matcher never reads lower-case dotted shorthand as an acronym (sv.t. is not SVT), and
    # prefers the form dotted between its letters as written (p.t. is not pt).
    return not shapes_differ(form_a, form_b) and \
        has_inner_period(form_a) == has_inner_period(form_b)


def check_sources(lexicon: Lexicon) -> list[Finding]:
    known = {source.id for source in lexicon.sources}
    findings = []
    records = [*((e.id, e.source) for e in lexicon.entries),
               *((m.id, m.source) for m in lexicon.morphemes),
               *((r.id, r.source) for r in lexicon.context_rules),
               *((s.id, s.source) for s in lexicon.sections)]
    for record_id, source in records:
        if source not in known and source != "morphology":
            findings.append(Finding("error", record_id, lexicon.origin.get(record_id, "?"),
                                    f"source {source!r} is not in sources.jsonl"))
    return findings


def _jargon_words(text: str, allowed: frozenset[str]) -> list[str]:
    words = [w.strip(".,;:!?()[]\"'") for w in text.replace("/", " ").split()]
    return [w for w in words if w and w.lower() not in allowed and not is_common(w)]


def check_lay_readings(lexicon: Lexicon) -> list[Finding]:
    findings = []
    for entry in lexicon.entries:
        where = lexicon.origin.get(entry.id, "?")
        for sense in entry.all_senses():
            for reading in sense.lay:
                texts = [reading.text, *(reading.form(s) or "" for s in INFLECTED_SLOTS)]
                rare = sorted({w for t in texts if t for w in _jargon_words(t, lexicon.allowed_lay_words)})
                if rare:
                    findings.append(Finding("error", entry.id, where,
                                            f"lay reading of sense {sense.id!r} has words a patient "
                                            f"may not know: {rare} (reword, or add to "
                                            "lay_allowlist/ if they are plain Danish)"))
            default = sense.lay[0]
            for slot in entry.inflections:
                if default.form(slot) is None and " " in default.text:
                    findings.append(Finding("error", entry.id, where,
                                            f"surface has {slot!r} forms but the multi-word lay "
                                            f"reading {default.text!r} of sense {sense.id!r} "
                                            f"gives no {slot!r} form"))
                elif default.form(slot) is None:
                    findings.append(Finding("warning", entry.id, where,
                                            f"{slot!r} form of {default.text!r} is derived by rule"))
    return findings


def check_negation_kept_outside(lexicon: Lexicon) -> list[Finding]:
    """A surface that swallows a forward negation cue ("ingen sygdomsindsigt") takes the cue out
    of the text in front of the finding: the finding is not marked negated and the patient text
    has no cue before it. A warning, for a reviewer: keep the phrase only when it is one concept
    ("ikke HLR", "uden i.v. kontrast"); otherwise list the finding alone and let the context
    rules mark it negated."""
    cues = sorted((r.literal.lower() for r in lexicon.context_rules
                   if r.category == "negated" and r.direction == "forward"),
                  key=len, reverse=True)
    findings = []
    for entry in lexicon.entries:
        for surface in entry.surfaces:
            lowered = surface.lower()
            cue = next((c for c in cues if lowered.startswith(c + " ")), None)
            if cue:
                findings.append(Finding("warning", entry.id, lexicon.origin.get(entry.id, "?"),
                                        f"surface {surface!r} begins with the negation cue "
                                        f"{cue!r}: keep only if the phrase is one concept, "
                                        "else list the finding without the cue"))
    return findings


def check_everyday_terms(lexicon: Lexicon) -> list[Finding]:
    """A ``kind: term`` form as frequent as everyday Danish is never matched (the term matcher
    takes it for the everyday word): say so, so an entry does not silently do nothing. Make it
    a phrase with its context, an abbreviation if it is one, mark it ``jargon``, or drop it."""
    findings = []
    for entry in lexicon.entries:
        if entry.kind != "term" or entry.jargon:
            continue
        for form in _surface_forms(entry):
            if is_everyday_form(form):
                findings.append(Finding("warning", entry.id, lexicon.origin.get(entry.id, "?"),
                                        f"term form {form!r} is everyday Danish by frequency "
                                        "and is never matched"))
    return findings


def check_sides_kept(lexicon: Lexicon) -> list[Finding]:
    """A surface that names a side of the body (``v. poplitea sin.``) must have readings and an
    expansion that name it too, or the patient text loses the side; so must the readings of an
    abbreviation whose expansion names one (``HNK``, højre nedre kvadrant). Usually the fix for a
    sided surface is to drop it: the side word is then matched, and explained, on its own."""
    findings = []
    for entry in lexicon.entries:
        surfaces = [form for form in _surface_forms(entry) if sides_named(form)]
        for sense in entry.all_senses():
            sided = [*surfaces, *([sense.expansion] if sides_named(sense.expansion) else [])]
            readings = [sense.expansion, *(form for lay in sense.lay
                                           for form in (lay.text, lay.def_, lay.pl, lay.pl_def,
                                                        lay.t, lay.e) if form)]
            for surface in sided:
                lost = [r for r in readings if not reading_keeps_sides(surface, r)
                        and not sides_named(surface) <= sides_named(r)]
                if lost:
                    findings.append(Finding(
                        "error", entry.id, lexicon.origin.get(entry.id, "?"),
                        f"{surface!r} names a side of the body that the reading "
                        f"{lost[0]!r} (sense {sense.id!r}) drops; drop the sided surface or "
                        "name the side in every reading"))
    return findings


def check_lexicon(lexicon: Lexicon) -> list[Finding]:
    return [*check_collisions(lexicon), *check_sources(lexicon), *check_lay_readings(lexicon),
            *check_negation_kept_outside(lexicon), *check_everyday_terms(lexicon),
            *check_sides_kept(lexicon)]
