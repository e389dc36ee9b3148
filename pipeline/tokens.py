"""Per-token data the components read, built once per doc, and per-word caches.

Every ``doc[i]`` or ``for token in doc`` creates a new spaCy Token object, and the components
read each token several times: that was most of the pipeline's time. The table holds the same
facts as plain lists. A note's words repeat from note to note, so what depends only on a word
(its key, its lexical flags, a component's decision about it) is computed once and kept in a
``WordCache``: ``list(map(cache.__getitem__, words))`` then looks up a whole note without a
Python step per token.
"""

from collections.abc import Callable
from operator import itemgetter
from typing import Generic, NamedTuple, TypeVar

from spacy.attrs import IDX, LENGTH
from spacy.tokens import Doc
from spacy.vocab import Vocab

from klarjournal.lexicon.keys import fold
from klarjournal.pipeline.extensions import read, write

V = TypeVar("V")


class WordCache(dict[str, V], Generic[V]):
    """``compute(word)``, computed on first sight and kept (emptied when it grows past ``limit``,
    so arbitrary input cannot grow it without bound)."""

    def __init__(self, compute: Callable[[str], V], limit: int = 200_000):
        super().__init__()
        self.compute = compute
        self.limit = limit

    def __missing__(self, word: str) -> V:
        if len(self) >= self.limit:
            self.clear()
        value = self[word] = self.compute(word)
        return value


# Folding a word is pure and words repeat from note to note.
cached_fold: Callable[[str], str] = WordCache(fold).__getitem__
# Whether a written form holds a digit (DAS28, 5-FU): the renderer keeps such forms beside their
# reading, and the term matcher lets them take in the number they hold.
has_digit: Callable[[str], bool] = WordCache(
    lambda word: any(ch.isdigit() for ch in word)).__getitem__


class WordInfo(NamedTuple):
    key: str  # fold(word)
    is_space: bool  # the lexeme flags spaCy's token.is_space, is_punct and like_num read
    is_punct: bool
    like_num: bool


_KEY = itemgetter(0)  # WordInfo.key


def word_info_cache(vocab: Vocab) -> WordCache[WordInfo]:
    def compute(word: str) -> WordInfo:
        lexeme = vocab[word]
        return WordInfo(cached_fold(word), lexeme.is_space, lexeme.is_punct, lexeme.like_num)

    return WordCache(compute)


class TokenTable(NamedTuple):
    text: str  # doc.text, which spaCy rebuilds from the tokens on every access
    texts: list[str]  # token.text
    starts: list[int]  # token.idx
    ends: list[int]  # token.idx + len(token.text)
    keys: list[str]  # fold(token.text), the term matcher's and the context rules' key
    infos: list[WordInfo]  # the key and lexical flags of each token's word


def token_table(doc: Doc) -> TokenTable:
    """The doc's token table, built on first use (tokens never change after the tokenizer)."""
    table = read(doc, "klarjournal_tokens")
    if table is None:
        table = build_token_table(doc, doc.text, word_info_cache(doc.vocab))
    return table


def build_token_table(doc: Doc, text: str, infos: WordCache[WordInfo]) -> TokenTable:
    """Build and keep the table of ``doc``, whose text is ``text`` (the tokenizer knows it)."""
    if not len(doc):
        table = TokenTable(text, [], [], [], [], [])
    else:
        columns = doc.to_array([IDX, LENGTH])
        starts = columns[:, 0].tolist()
        ends = (columns[:, 0] + columns[:, 1]).tolist()
        texts = [text[start:end] for start, end in zip(starts, ends)]
        word_infos = list(map(infos.__getitem__, texts))
        table = TokenTable(text, texts, starts, ends, list(map(_KEY, word_infos)), word_infos)
    write(doc, "klarjournal_tokens", table)
    return table
