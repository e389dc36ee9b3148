"""Write the patient text: each recognised span replaced by its lay reading, nothing else touched.

The lay reading takes the grammatical form of the original word (``pneumonien`` ->
``lungebetændelsen``, genitive ``KOL's`` -> ``...s``), a capital letter where the original
started its sentence with one, and keeps a sentence-ending period that the abbreviation's own
period stood for. Every other character of the note is copied as it was. Each span records where
its rendering stands in the patient text (``plain_start``/``plain_end``). A reading whose
confidence is below ``low_confidence`` keeps the original word in front and shows the reading
as a possibility, so a guess is never presented as fact.
"""

import re
from functools import lru_cache
from itertools import compress
from os.path import commonprefix
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from klarjournal.lexicon import LayReading, Sense, load_lexicon
from klarjournal.lexicon.danish import is_common, sides_named
from klarjournal.lexicon.keys import fold
from klarjournal.lexicon.schema import Slot
from klarjournal.pipeline.extensions import read, register_extensions, write
from klarjournal.pipeline.tokens import TokenTable, cached_fold, has_digit, token_table

# Below this confidence a reading is shown as a possibility (the renderer's default setting).
LOW_CONFIDENCE = 0.75
# How a low-confidence reading is shown: the original word, then the reading as a possibility.
UNCERTAIN_FORMAT = "{surface} (måske: {lay})"
# A surface with digits keeps them in sight: the reading, then the original in brackets.
WITH_NUMBER_FORMAT = "{lay} ({surface})"
NUMBER = re.compile(r"\d+")
# A Roman numeral as a word of its own, with a sub-grade letter: I-X, "IIIa", "Ib".
ROMAN_VALUES = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8,
                "IX": 9, "X": 10}
ROMAN = re.compile(r"(?<![\w-])(?:VIII|VII|VI|IV|IX|III|II|I|V|X)[abc]?(?![\w-])")


def inflect(reading: LayReading, slot: Slot, genitive: bool) -> str:
    """The reading in ``slot``; a single word's missing form follows the regular Danish rule."""
    text = reading.form(slot)
    if text is None:
        text = reading.text if " " in reading.text else _regular_form(reading.text, slot)
    if genitive:
        text += "'" if text.endswith(("s", "x", "z")) else "s"
    return text


def _regular_form(word: str, slot: Slot) -> str:
    vowel_end = word.endswith("e")
    forms = {
        "base": word,
        "def": word + ("n" if vowel_end else "en"),
        "pl": word + ("r" if vowel_end else "er"),
        "pl_def": word + ("rne" if vowel_end else "erne"),
        "t": word + "t",
        "e": word if vowel_end else word + "e",
    }
    return forms[slot]


def _professional_form(match: dict[str, Any], expansion: str) -> str:
    """What a colleague reads for the span: a term is its own full form ("dyspnø" -> "dyspnø").

    A term entry's expansion may be a synonym ("thoraxdræn" for "pleuradræn"), and then the
    term as written stands. An expansion of the same words (written out, "sigmoideum" -> "colon
    sigmoideum"; another inflection, "glomeruli" -> "glomerulus") is kept, as is the sense's
    expansion of an abbreviation, an acronym-shaped term and a term with several senses.
    """
    base = match.get("base")
    if match["kind"] == "abbreviation" or match["ambiguous"] or not base:
        return expansion
    return _term_form(base, expansion)


@lru_cache(maxsize=16384)
def _term_form(base: str, expansion: str) -> str:
    if base.isupper() or "." in base:
        return expansion
    written, full = fold(base), fold(expansion)
    if written in full or full in written:
        return expansion
    shorter = min(len(written), len(full))
    if len(commonprefix([written, full])) >= max(4, shorter - 2):
        return expansion
    return base


class Renderer:
    def __init__(self, low_confidence: float):
        self.low_confidence = low_confidence
        # Entry.all_senses() builds a validated Sense each call: look them up by (entry, sense).
        self.senses: dict[tuple[str, str], Sense] = {}
        # (entry, sense, slot, genitive) -> (sense, inflected lay reading), filled as met.
        self._lay: dict[tuple[str, str, Slot, bool], tuple[Sense, str]] = {}

    def initialize(self, get_examples: Any = None, *, nlp: Language | None = None,
                   lexicon_dir: str | None = None, overlays: list[str] | None = None) -> None:
        self.senses, self._lay = {}, {}
        for entry in load_lexicon(lexicon_dir, overlays or []).entries:
            for sense in entry.all_senses():
                self.senses.setdefault((entry.id, sense.id), sense)

    def reading(self, match: dict[str, Any]) -> tuple[str, str]:
        """(expansion, patient text) of a match, before capitalisation and marking."""
        if "heading_reading" in match:
            return match["heading_reading"]["expansion"], match["heading_reading"]["plain"]
        if "morphology_reading" in match:
            return match["morphology_reading"]["expansion"], match["morphology_reading"]["plain"]
        key = (match["entry"], match["sense"], match["slot"], match["genitive"])
        found = self._lay.get(key)
        if found is None:
            sense = self.senses[match["entry"], match["sense"]]
            found = self._lay[key] = (sense, inflect(sense.lay[0], match["slot"],
                                                     match["genitive"]))
        sense, lay = found
        if "specimen" in match:
            expansion = f"{match['specimen_name']}-{sense.expansion}"
            where = match["specimen"]
            # "i afføringen" adds nothing to a reading that already says afføring.
            return expansion, lay if where.split()[-1][:5] in lay.lower() else f"{lay} {where}"
        if "compound_head" in match:
            return match["surface"], f"{match['compound_head']}-{lay}"
        return _professional_form(match, sense.expansion), lay

    def __call__(self, doc: Doc) -> Doc:
        table = token_table(doc)
        text = table.text
        sentence_starts = set(compress(table.starts,
                                       read(doc, "klarjournal_sentence_starts") or []))
        pieces: list[str] = []
        spans: list[dict[str, Any]] = []
        position = plain_length = 0
        previous_lay = ""
        matches = read(doc, "klarjournal_matches") or []

        def emit(match: dict[str, Any], reading: tuple[str, str], kept: str,
                 capital: bool) -> None:
            """Append ``kept`` and the match's rendering to the patient text, and its span."""
            nonlocal plain_length, previous_lay
            pieces.append(kept)
            plain_length += len(kept)
            expansion, lay = reading
            surface = match["surface"]
            low = match["confidence"] < self.low_confidence
            repeated = _repeats_in_brackets(kept, text[match["end"]:match["end"] + 1],
                                            previous_lay, lay)
            previous_lay = lay
            if repeated or cached_fold(lay) == cached_fold(surface):
                # "synkescreening (GUSS)": the term was just explained; its abbreviation in
                # brackets stays as written rather than saying the same thing twice. So does a
                # form whose reading is itself ("stadie 4" of any disease).
                rendered = surface
            elif low:
                rendered = UNCERTAIN_FORMAT.format(surface=surface, lay=lay)
            elif _numbers_in(surface) and not _states_numbers(surface, lay):
                # Every number of the note stays in the patient text: DAS28, T4, "stadie IV". A
                # reading that states them itself ("L3-L4": "mellem 3. og 4. ryghvirvel", "grad
                # IV": "grad 4") needs no brackets.
                rendered = WITH_NUMBER_FORMAT.format(surface=surface, lay=lay)
            elif "noun_before" in match:
                rendered = f"{match['noun_before']} {lay}"
            else:
                rendered = _without_repeated_preposition(kept, lay)
            if capital:
                rendered = rendered[:1].upper() + rendered[1:]
            pieces.append(rendered)
            spans.append({
                "start": match["start"], "end": match["end"], "surface": surface,
                "kind": match["kind"], "expansion": expansion, "plain": rendered,
                "plain_start": plain_length, "plain_end": plain_length + len(rendered),
                "source": match["source"], "confidence": match["confidence"],
                "negated": match["negated"], "entry": match["entry"], "sense": match["sense"],
                "uncertain": match["uncertain"], "historical": match["historical"],
                "family": match["family"], "low_confidence": low,
            })
            plain_length += len(rendered)
            if surface.endswith(".") and not rendered.endswith(".") and \
                    _period_ends_sentence(table, text, match, sentence_starts):
                pieces.append(".")
                plain_length += 1

        def starts_capitalised(match: dict[str, Any]) -> bool:
            return match["start"] in sentence_starts and (
                match["surface"][:1].isupper() or _previous_char(text, match["start"]) in ".!?")

        skip_until = 0
        for number, match in enumerate(matches):
            if match["start"] < max(position, skip_until):
                continue  # overlapping readings: the earlier, longer one already won
            following = matches[number + 1] if number + 1 < len(matches) else None
            reading = self.reading(match)
            order = _postpositive_order(self, table, text, match, reading[1], following,
                                        sentence_starts)
            if order == "take_noun":
                # "postoperativ kvalme": a reading that follows its noun ("efter operationen")
                # takes the noun in: "kvalme efter operationen".
                noun = match["token_end"]
                match = {**match, "end": table.ends[noun], "token_end": noun + 1,
                         "surface": text[match["start"]:table.ends[noun]],
                         "noun_before": table.texts[noun]}
            if order == "swap" and following is not None:
                # "iskæmisk kardiomyopati": both terms are read, the noun's reading first
                # ("hjertemuskelsygdom på grund af iltmangel"); each span keeps its own reading.
                capital = starts_capitalised(match)
                emit(following, self.reading(following), text[position:match["start"]], capital)
                emit(match, reading, text[match["end"]:following["start"]], False)
                spans[-2:] = spans[-2:][::-1]  # spans stay in the order of the original
                position = following["end"]
                skip_until = position
                continue
            emit(match, reading, text[position:match["start"]], starts_capitalised(match))
            position = match["end"]
        pieces.append(text[position:])
        write(doc, "klarjournal_translation", {
            "plain": "".join(pieces),
            "spans": spans,
            "sections": [{"start": s["start"], "end": s["end"], "heading": s["heading"],
                          "plain_heading": s["plain_heading"], "id": s["id"]}
                         for s in read(doc, "klarjournal_sections") or []],
            "unresolved": list(read(doc, "klarjournal_unresolved") or []),
        })
        return doc


# A reading that begins with the preposition the note just wrote ("i bilat. UE": "i" + "i begge
# sider") drops its own.
PREPOSITIONS = frozenset({"af", "efter", "for", "fra", "hos", "i", "med", "mod", "om", "over",
                          "på", "til", "under", "ved"})


def _without_repeated_preposition(before: str, reading: str) -> str:
    first, _, rest = reading.partition(" ")
    if not rest or first.lower() not in PREPOSITIONS or not before[-1:].isspace():
        return reading
    previous = before.rstrip().rpartition(" ")[2].rpartition("\n")[2]
    return rest if previous.lower() == first.lower() else reading


# First words of a reading that stands after the noun it describes in Danish ("blødning efter
# operationen", "tiltag, som forebygger akut forvirring"), never before it.
POSTPOSITIVE_STARTS = frozenset({"som", "når", "der", "hvor", "med", "uden", "i", "på", "efter",
                                 "før", "ved", "gennem", "fra", "under", "over", "mellem", "inde",
                                 "omkring", "bag", "foran"})
# Words after a candidate noun that show the noun phrase ends there.
PHRASE_ENDS = frozenset({"og", "eller", "men", "samt", "til", "i", "på", "med", "ved", "hos", "fra",
                         "af", "for", "efter", "under", "uden", "om", "er", "var", "blev", "bør",
                         "kan", "skal", "må", "ses", "gives", "x"})
# Everyday words that are not the noun a reading describes.
NOT_NOUNS = frozenset({"og", "eller", "men", "at", "som", "der", "det", "den", "de", "en", "et",
                       "er", "var", "har", "havde", "blev", "bliver", "kan", "skal", "vil", "bør",
                       "må", "ikke", "ingen", "intet", "også", "nu", "dog", "så", "meget", "lidt",
                       "mere", "mindre", "hele", "helt", "godt", "fint", "let", "lette", "lettere",
                       "svær", "svære", "normal", "normale", "normalt", "uændret", "stabil",
                       "stabilt", "fortsat", "igen", "endnu", "altid", "aldrig", "kun", "samt",
                       "venstre", "højre", "begge", "fri", "frit", "frie", "positiv", "negativ",
                       "ses", "set", "gives", "givet", "planlagt", "påvist", "fundet", "aftalt",
                       "til", "i", "på", "med", "ved", "fra", "af", "for", "om", "efter", "under",
                       "over", "uden", "hos", "mod", "ind", "ud", "op", "ned", "hver", "dag",
                       "dage", "gange", "siden", "sidst", "først", "store", "stor", "små", "lille",
                       "ny", "nye", "nyt", "gamle", "gammel", "akut", "akutte", "kronisk"})


def _postpositive_order(renderer: Renderer, table: TokenTable, text: str, match: dict[str, Any],
                        lay: str, following: dict[str, Any] | None,
                        sentence_starts: set[int]) -> str | None:
    """How a span whose reading must follow its noun is placed: "take_noun" (the everyday noun
    right after it joins the span), "swap" (the noun is the next span: its reading goes first),
    or None (the reading stays where the word stood).

    Only where the noun phrase clearly ends after that one word (punctuation, a linking word or
    a value follows), and never for a marked, numbered or bracketed reading."""
    if lay.partition(" ")[0].lower() not in POSTPOSITIVE_STARTS or (
            match["confidence"] < renderer.low_confidence or has_digit(match["surface"])
            or match["kind"] == "phrase" or "heading_reading" in match):
        return None
    noun = match["token_end"]
    # The next sentence's first word is no noun of this one ("anlagt bilat. Adenotomi.").
    if noun >= len(table.texts) or text[match["end"]:table.starts[noun]] != " " \
            or table.starts[noun] in sentence_starts:
        return None
    after = noun + 1
    # A value after the noun ends its phrase too: "postoperativ blødning 200 ml".
    if after < len(table.texts) and not (table.infos[after].is_punct or table.infos[after].is_space
                                         or table.texts[after].lower() in PHRASE_ENDS
                                         or table.texts[after][:1].isdigit()):
        return None
    if following is not None and following["start"] < table.ends[noun]:
        noun_lay = renderer.reading(following)[1]
        # Never a side ("paravertebralt hø.": the side stays after what it qualifies) and never
        # a form whose period may also end the sentence: both would move meaning, not words.
        fits = (following["start"] == table.starts[noun] and following["end"] == table.ends[noun]
                and following["confidence"] >= renderer.low_confidence
                and not has_digit(following["surface"]) and "heading_reading" not in following
                and not following["surface"].endswith(".")
                and not sides_named(following["surface"])
                and noun_lay.partition(" ")[0].lower() not in POSTPOSITIVE_STARTS)
        return "swap" if fits else None
    word = table.texts[noun]
    if (not word.isalpha() or not word.islower() or len(word) < 3 or word in NOT_NOUNS
            or not is_common(word)):
        return None
    return "take_noun"


@lru_cache(maxsize=16384)
def _numbers_in(surface: str) -> tuple[str, ...]:
    """The numbers written in a surface, Roman numerals ("stadie IV", "Hinchey Ib") as digits.
    A Roman numeral alone is a number only if its reading says so ("IV" is also intravenous)."""
    numbers = NUMBER.findall(surface)
    for roman in ROMAN.findall(surface) if not ROMAN.fullmatch(surface) else ():
        # A sub-grade ("IIIa") is kept as written: "stadie 3" would drop the "a".
        numbers.append(roman if roman[-1] in "abc" else str(ROMAN_VALUES[roman]))
    return tuple(numbers)


@lru_cache(maxsize=4096)
def _states_numbers(surface: str, lay: str) -> bool:
    """Whether the reading contains every number written in the surface, each as a whole
    number (in digits, or as the surface writes it)."""
    return all(re.search(rf"(?<!\d){number}(?!\d)", lay)
               for number in _numbers_in(surface)) or _numbers_in(surface) == _numbers_in(lay)


def _repeats_in_brackets(before: str, after: str, previous_lay: str, lay: str) -> bool:
    """Whether a span stands alone in brackets right after a span with the same reading."""
    return (bool(previous_lay) and before.strip() == "(" and after == ")"
            and previous_lay.casefold() == lay.casefold())


def _previous_char(text: str, position: int) -> str:
    """The last non-space character before ``position`` ("" at the start of the text)."""
    i = position - 1
    while i >= 0 and text[i].isspace():
        i -= 1
    return text[i] if i >= 0 else ""


def _period_ends_sentence(table: TokenTable, text: str, match: dict[str, Any],
                          sentence_starts: set[int]) -> bool:
    """Whether the abbreviation's period also closed the sentence (``... x 3 dgl. Pt. har``).

    At a line's end it did ("Akut otitis media hø.⏎Plan:"), unless the line is a heading alone.
    """
    end = match["end"]
    following = text[end:end + 200].lstrip(" \t")
    if not following.strip() and (end + 200 >= len(text) or not text[end:].strip()):
        return True
    if following[:1] in ("\n", "\r"):
        return "heading_reading" not in match
    next_index = match["token_end"]
    while next_index < len(table.texts) and table.infos[next_index].is_space:
        next_index += 1
    return next_index < len(table.texts) and table.starts[next_index] in sentence_starts


@Language.factory(
    "klarjournal_renderer",
    default_config={"low_confidence": LOW_CONFIDENCE},
    requires=["doc._.klarjournal_matches", "doc._.klarjournal_sections"],
    assigns=["doc._.klarjournal_translation"],
)
def make_renderer(nlp: Language, name: str, low_confidence: float) -> Renderer:
    register_extensions()
    return Renderer(low_confidence)
