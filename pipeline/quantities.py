"""Quantities that the renderer never touches: doses, lab values, blood pressure, dates, times.

A quantity is a number with what belongs to it (``7,2 mmol/l``, ``145/90``, ``94%``,
``2 l O2``, ``4 g x 3``, ``12.03.2026``, ``kl. 14.30``). The term matcher does not look inside
them, so a unit such as ``l`` or ``E`` is never read as an abbreviation, and every number, dose,
unit and date reaches the patient text unchanged.
"""

import re
from bisect import bisect_left

from spacy.language import Language
from spacy.tokens import Doc

from klarjournal.pipeline.extensions import read, register_extensions, write
from klarjournal.pipeline.tokens import token_table

# Units as Danish notes write them. Longest first so "mmol/l" wins over "mmol".
UNITS = sorted(
    """mmol/mol mmol/l µmol/l μmol/l umol/l nmol/l pmol/l mol/l mmol mg/dl mg/l g/l g/dl ng/ml
    µg/l μg/l mU/l mIE/l IE/l U/l E/l kU/l ml/min/1,73m2 ml/min/1,73 m2 ml/min ml/t ml/h l/min
    mmHg mm Hg kg/m2 kg/m² mg/kg mikrog/kg µg/kg mg/d x10^9/l x 10^9/l ×10^9/l × 10^9/l x10^12/l
    ×10^12/l IE/ml E/ml mg/ml ng/l pg/ml kPa Gy mSv mGy kcal kJ cmH2O mio. mio mill. mill mia.
    stk. mdr. md. percentil mikrog µg μg mcg mg kg g ng ml mL dl cl l IE E mEq %
    °C °c grader cm mm m sek s min t timer time døgn dage dag uger uge mdr måneder år slag/min
    bpm /min /t""".split(),
    key=len,
    reverse=True,
)
# The litre is also written with a capital L ("mmol/L", "dL", "mL/min"): those spellings too.
UNITS = sorted({*UNITS, *(re.sub(r"(?<![a-zæøå])(m|d|c)?l(?![a-zæøå])", r"\1L", unit)
                          for unit in UNITS)}, key=len, reverse=True)


def _unit_pattern(unit: str) -> str:
    # Some units above contain spaces in real notes ("mm Hg", "x 10^9/l"); allow either spacing.
    return re.escape(unit).replace(r"\ ", r"\s?")


def _alternation_by_first_character(units: list[str]) -> str:
    """``"|".join(units)`` as a regex that matches exactly the same, grouped by first character.

    The regex engine tries a flat alternation's hundred-odd branches one by one at every number;
    units with different first characters never match at the same place, so grouping them
    (each group in the original order) changes no match and tries a handful of branches.
    """
    groups: dict[str, list[str]] = {}
    for unit in units:
        groups.setdefault(unit[0], []).append(unit[1:])
    return "|".join(
        re.escape(first) + "(?:" + "|".join(_unit_pattern(rest) for rest in rests) + ")"
        for first, rests in groups.items())


_unit_alternation = _alternation_by_first_character(UNITS)
# Not preceded by a letter or digit: the 2 of "pO2" or the 28 of "DAS28" is part of a name.
_NUMBER = r"(?<!\w)[<>≤≥~±+]?\d+(?:[.,]\d+)?"
_RANGE = rf"{_NUMBER}(?:\s?(?:-|–|til)\s?{_NUMBER})?"
# "1 mio IE", "1,2 mill. E", "3. mdr.": a multiplier word or an ordinal period before the unit.
_UNIT = rf"(?:(?:mio\.?|mill\.?|mia\.?)\s?)?(?:{_unit_alternation})"

QUANTITY_PATTERNS = [
    # A ratio with its unit before dates, so 28/31 mmHg is not read as the 28th of a month
    rf"\b\d{{1,3}}/\d{{1,3}}\s?{_UNIT}(?![\wæøåÆØÅ/])",
    # Dates: 12.03.2026, 12/3-26, 2026-03-12, 12-03-2026
    r"\b\d{4}-\d{2}-\d{2}\b",
    # ... but "3.5 mmol/l" is a decimal number with its unit, not the 3rd of May.
    rf"\b\d{{1,2}}[./]\d{{1,2}}(?:[./-]\d{{2,4}})?\b(?![.,]\d)"
    rf"(?!\s?(?:{_unit_alternation})(?![\wæøåÆØÅ/]))",
    r"\b\d{1,2}-\d{1,2}-\d{2,4}\b",
    # Times: kl. 14.30, kl 8, 14:30
    r"\bkl\.?\s?\d{1,2}(?:[.:]\d{2})?\b",
    r"\b\d{1,2}:\d{2}\b",
    # Blood pressure and other ratios: 145/90, 120/80 mmHg
    rf"\b\d{{2,3}}/\d{{2,3}}(?:\s?(?:{_unit_alternation}))?",
    # Oxygen: 2 l O2, 4 l/min ilt
    rf"\b{_RANGE}\s?(?:l|liter)(?:/min)?\s?O2\b",
    # Sizes: 3 x 4 cm, 2 x 3 x 1,5 mm
    rf"{_RANGE}\s?[x×]\s?{_RANGE}(?:\s?[x×]\s?{_RANGE})?\s?{_UNIT}(?![\wæøåÆØÅ/])",
    # Dose with frequency: 4 g x 3, 500 mg x 2, 1 tbl x 3
    rf"{_RANGE}\s?{_UNIT}?\s?[x×]\s?\d+\b(?![\^,.]\d)",
    # Number with unit: 7,2 mmol/l, 94%, 38,5 °C, 10 mg
    rf"{_RANGE}\.?\s?{_UNIT}(?![\wæøåÆØÅ/])",
    # Any other unit written as a ratio after a number: 128 U/ml, 30 mg/m2, 5 mL/kg/t
    rf"{_RANGE}\s?[A-Za-zæøåµμ]{{1,8}}/[A-Za-z0-9^,]{{1,8}}(?:/[A-Za-z0-9]{{1,3}})?",
    # Scores and counts written as a fraction or a bare number next to a letter code: 15/15
    r"\b\d+/\d+\b",
    # Any remaining number
    rf"{_NUMBER}",
]
# Every quantity starts with a digit, a sign before one, or "kl": checking that first rejects
# most positions at once instead of trying each alternative there (5x faster, same matches).
QUANTITY_RE = re.compile(r"(?=[\d<>≤≥~±+k])(?:"
                         + "|".join(f"(?:{p})" for p in QUANTITY_PATTERNS) + ")")


def find_quantities(text: str) -> list[tuple[int, int]]:
    """Character ranges of quantities in ``text``, in order, not overlapping."""
    return [(m.start(), m.end()) for m in QUANTITY_RE.finditer(text) if m.end() > m.start()]


def protected_tokens(doc: Doc) -> list[bool]:
    """For each token, whether it lies inside a quantity found by this component."""
    token_starts = token_table(doc).starts
    flags = [False] * len(token_starts)
    # The ranges are few, sorted and never overlap: mark the tokens that start inside each.
    for start, end in read(doc, "klarjournal_quantities") or []:
        first, stop = bisect_left(token_starts, start), bisect_left(token_starts, end)
        flags[first:stop] = [True] * (stop - first)
    return flags


class QuantityFinder:
    def __call__(self, doc: Doc) -> Doc:
        write(doc, "klarjournal_quantities", find_quantities(token_table(doc).text))
        return doc


@Language.factory("klarjournal_quantities", assigns=["doc._.klarjournal_quantities"])
def make_quantities(nlp: Language, name: str) -> QuantityFinder:
    register_extensions()
    return QuantityFinder()
