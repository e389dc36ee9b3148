"""`klarjournal lexicon lookup TERM` and `GET /v1/lexicon/{term}`: a term's reading, and why."""

from typing import TYPE_CHECKING, Any

from klarjournal.lexicon.danish import is_common, zipf
from klarjournal.lexicon.keys import fold

if TYPE_CHECKING:
    from klarjournal.pipeline.translator import Translator


def explain_term(translator: "Translator", term: str) -> dict[str, Any]:
    matcher = translator.nlp.get_pipe("klarjournal_terms")
    reading = matcher.lookup(term)
    rendered = translator.translate(term)
    result: dict[str, Any] = {
        "term": term,
        "key": fold(term),
        "rendered": rendered.plain,
        "spans": [span.__dict__ for span in rendered.spans],
        "unresolved": rendered.unresolved,
        "common_danish": is_common(term),
        "zipf": zipf(term),
    }
    if reading is None:
        result["why"] = ("no lexicon entry matches this form"
                         + ("; it is everyday Danish" if is_common(term) else ""))
        return result
    entry = matcher.entries[reading["entry"]]
    lexicon = translator.lexicon  # with the hospital overlays the translator was built with
    result.update(
        why=f"matched entry {entry.id!r} as {reading['slot']} form"
            + (" (genitive)" if reading["genitive"] else "") + f", source {reading['source']}",
        entry={
            "id": entry.id, "kind": entry.kind, "specialty": entry.specialty,
            "source": entry.source, "review": entry.review,
            "defined_at": lexicon.origin.get(entry.id),
            "senses": [{"id": s.id, "expansion": s.expansion,
                        "lay": [r.text for r in s.lay], "cues": list(s.cues)}
                       for s in entry.all_senses()],
        },
        confidence=reading["confidence"],
    )
    return result
