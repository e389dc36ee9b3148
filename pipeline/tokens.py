"""Per-token data the components read, built once per doc.

Every ``doc[i]`` or ``for token in doc`` creates a new spaCy Token object, and the components
read each token several times: that was most of the pipeline's time. The table holds the same
facts as plain lists, read from the doc in one ``to_array`` call.
"""

from functools import lru_cache
from typing import NamedTuple

from spacy.attrs import IDX, IS_PUNCT, IS_SPACE, LENGTH, LIKE_NUM
from spacy.tokens import Doc

from klarjournal.lexicon.keys import fold

# Folding a word is pure and words repeat from note to note.
cached_fold = lru_cache(maxsize=200_000)(fold)


class TokenTable(NamedTuple):
    text: str  # doc.text, which spaCy rebuilds from the tokens on every access
    texts: list[str]  # token.text
    starts: list[int]  # token.idx
    ends: list[int]  # token.idx + len(token.text)
    keys: list[str]  # fold(token.text), the term matcher's and the context rules' key
    is_space: list[bool]
    is_punct: list[bool]
    like_num: list[bool]


def token_table(doc: Doc) -> TokenTable:
    """The doc's token table, built on first use (tokens never change after the tokenizer)."""
    table = doc._.klarjournal_tokens
    if table is None:
        table = build_token_table(doc, doc.text)
    return table


def build_token_table(doc: Doc, text: str) -> TokenTable:
    """Build and keep the table of ``doc``, whose text is ``text`` (the tokenizer knows it)."""
    if not len(doc):
        table = TokenTable(text, [], [], [], [], [], [], [])
    else:
        columns = doc.to_array([IDX, LENGTH, IS_SPACE, IS_PUNCT, LIKE_NUM])
        starts = columns[:, 0].tolist()
        ends = (columns[:, 0] + columns[:, 1]).tolist()
        texts = list(map(text.__getitem__, map(slice, starts, ends)))
        is_space, is_punct, like_num = columns[:, 2:].astype(bool).T.tolist()
        table = TokenTable(text, texts, starts, ends, list(map(cached_fold, texts)),
                           is_space, is_punct, like_num)
    doc._.klarjournal_tokens = table
    return table
