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
