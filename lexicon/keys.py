"""How a written form is reduced to the key the term matcher looks up.

Clinicians write the same abbreviation as ``p.o.``, ``po``, ``P.O.`` or ``p.o``; the key drops
periods and case so all of these meet. Entries marked ``case_sensitive`` keep their case because
the lower-case form is another word (``MS``/``ms``, ``Ca``/``ca.``).
"""

# Apostrophes clinicians use before a suffix: EKG'et, CT'en.
APOSTROPHES = "'’´`"


def fold(text: str) -> str:
    """The case-insensitive key: lower-case, no periods, one space between words."""
    return " ".join(text.casefold().replace(".", "").split())


def exact(text: str) -> str:
    """The case-sensitive key: no periods, one space between words."""
    return " ".join(text.replace(".", "").split())


def is_upper_plain(form: str) -> bool:
    """An acronym written in capitals without periods (``SVT``, ``PCT``)."""
    return form.isupper() and "." not in form


def is_lower_dotted(form: str) -> bool:
    """Danish shorthand in lower case with periods (``sv.t.``, ``pct.``, ``ve.``)."""
    return form == form.lower() and "." in form


def has_inner_period(form: str) -> bool:
    """Periods between letters (``e.l.``, ``p.o.``), not only one at the end (``el.``)."""
    return "." in form.rstrip(".")


def shapes_differ(form: str, written: str) -> bool:
    """An acronym never matches lower-case dotted shorthand (``sv.t.`` is not ``SVT``),
    shorthand dotted between its letters never matches one dotted only at its end (``e.l.``,
    egen læge, is not ``el.``, eller), and a single letter never matches that letter dotted
    (``T.`` before a drug is a tablet, not ``T``, the temperature)."""
    return (is_upper_plain(form) and is_lower_dotted(written)) or (
        is_lower_dotted(form) and is_upper_plain(written)) or (
        "." in form and "." in written and has_inner_period(form) != has_inner_period(written)) or (
        len(form) == 1 and len(written) == 2 and written.endswith("."))
