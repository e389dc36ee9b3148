"""The clinical tokenizer: spaCy's Danish rules plus the lexicon's abbreviations.

Blank Danish splits the period off ``dgl.``, ``p.o.``, ``st.p.`` and ``mg.``; here every written
form in the lexicon that contains a period or an apostrophe becomes a special case, so it stays
one token with its period. The forms come from the lexicon at ``initialize`` time (not from a
list in code), and are saved with the tokenizer when a pipeline is written to disk.
"""

from collections.abc import Callable, Iterable
from typing import Any

from spacy.language import Language
from spacy.symbols import ORTH
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc
from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex, registry

from klarjournal.lexicon import Lexicon, load_lexicon
from klarjournal.lexicon.keys import APOSTROPHES, fold, has_inner_period, is_lower_dotted, is_upper_plain
from klarjournal.pipeline.extensions import register_extensions
from klarjournal.pipeline.tokens import build_token_table, word_info_cache


def special_forms(lexicon: Lexicon) -> set[str]:
    """Written forms that must stay one token: they contain a period or an apostrophe."""
    forms: set[str] = set()
    acronyms = {fold(form) for entry in lexicon.entries for form in entry.surfaces
                if is_upper_plain(form)}

    def add(form: str, case_sensitive: bool) -> None:
        if " " in form:
            # "a. mesenterica", "cat. nucl.": each dotted word of a phrase keeps its period, or
            # the lone period would end the sentence there and the phrase with it.
            for word in form.split():
                if word.endswith("."):
                    add(word, case_sensitive)
            return
        if not any(ch in form for ch in "." + APOSTROPHES):
            return
        forms.add(form)
        if not case_sensitive:
            forms.update({form.lower(), form[:1].upper() + form[1:].lower()})
            # "Anfald af SVT." ends with the acronym SVT and the sentence's period; it is not
            # "svt." (svarende til) in capitals.
            if not (is_lower_dotted(form) and not has_inner_period(form)
                    and fold(form) in acronyms):
                forms.add(form.upper())

    for entry in lexicon.entries:
        for form in [*entry.surfaces, *(f for fs in entry.inflections.values() for f in fs)]:
            add(form, entry.case_sensitive)
    for section in lexicon.sections:
        for form in section.headings:
            add(form, False)
    for rule in lexicon.context_rules:
        for word in rule.literal.split():
            add(word, False)
    # A form that is only punctuation would swallow real sentence ends.
    return {f for f in forms if any(ch.isalnum() for ch in f)}


class ClinicalTokenizer(Tokenizer):
    """spaCy's tokenizer with the lexicon's special cases, and a cache that keeps working.

    spaCy stops caching a doc's words as soon as one special case has matched in it (spaCy
    #1250, a flag per doc, not per word). With thousands of special cases that is almost every
    note, so the affix rules ran again on nearly every word (25x slower). Tokenising each new
    whitespace-separated chunk once on its own lets spaCy cache it exactly as it would in a
    note without special cases; chunks that hold a special case are still never cached.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._seen: set[str] = set()
        self._word_info = word_info_cache(self.vocab)

    def __call__(self, text: str) -> Doc:
        if len(self._seen) < self.max_cache_size:  # spaCy caches no more than this
            chunks = text.split()
            # Once the words are known (most notes), checking is cheaper than a set difference.
            if not self._seen.issuperset(chunks):
                new = set(chunks) - self._seen
                for chunk in new:
                    super().__call__(chunk)
                self._seen |= new
        doc = super().__call__(text)
        build_token_table(doc, text, self._word_info)
        return doc

    def _flush_cache(self) -> None:
        # spaCy empties its cache whenever special cases or affix rules change.
        super()._flush_cache()
        self._seen = set()

    def initialize(self, get_examples: Any = None, *, nlp: Language | None = None,
                   lexicon_dir: str | None = None, overlays: Iterable[str] = ()) -> None:
        for form in sorted(special_forms(load_lexicon(lexicon_dir, list(overlays)))):
            self.add_special_case(form, [{ORTH: form}])


# Control and zero-width characters are separators in a note, never part of a word: "dyspnø\x07"
# is the word dyspnø.
INVISIBLE = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200d\u2060\ufeff]"


# spaCy's default (10,000) is filled by the lexicon's own forms while the pipeline initialises,
# which left no room for the words of the notes. A cached chunk takes about 100 bytes.
MAX_CACHED_CHUNKS = 500_000


@registry.tokenizers("klarjournal.clinical_tokenizer.v1")
def create_clinical_tokenizer() -> Callable[[Language], Tokenizer]:
    def create(nlp: Language) -> Tokenizer:
        register_extensions()
        defaults = nlp.Defaults
        return ClinicalTokenizer(
            nlp.vocab,
            rules=dict(defaults.tokenizer_exceptions),
            prefix_search=compile_prefix_regex([INVISIBLE, *defaults.prefixes]).search,
            suffix_search=compile_suffix_regex([INVISIBLE, *defaults.suffixes]).search,
            infix_finditer=compile_infix_regex([INVISIBLE, *defaults.infixes]).finditer,
            token_match=defaults.token_match,
            url_match=defaults.url_match,
            max_cache_size=MAX_CACHED_CHUNKS,
        )

    return create
