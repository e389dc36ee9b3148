"""Train a cased WordPiece tokenizer on the gathered Danish text (``models/work/text``).

Input: ``pretrain.txt`` (Debian Danish documentation), ``domain.txt`` (project texts) and
``vocab_extra.txt`` (Danish word lists: wdanish, mythes-da, freedict). Case and the letters
æ/ø/å are kept; no accent stripping, because abbreviations such as ``MS``/``ms`` differ by case.
"""

from collections.abc import Iterator
from pathlib import Path

from klarjournal.models.config import TokenizerArgs

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def _training_lines(text_dir: Path, domain_repeat: int) -> Iterator[str]:
    """Package text once, project text ``domain_repeat`` times (as in pretraining), words once."""
    yield from (text_dir / "pretrain.txt").read_text(encoding="utf-8").splitlines()
    domain = (text_dir / "domain.txt").read_text(encoding="utf-8").splitlines()
    for _ in range(domain_repeat):
        yield from domain
    yield from (text_dir / "vocab_extra.txt").read_text(encoding="utf-8").splitlines()


def train_tokenizer(text_dir: Path, out_dir: Path, args: TokenizerArgs, max_length: int,
                    domain_repeat: int) -> Path:
    """Write a ``transformers``-loadable tokenizer to ``out_dir`` and return it."""
    from tokenizers import BertWordPieceTokenizer
    from transformers import BertTokenizerFast

    tokenizer = BertWordPieceTokenizer(clean_text=True, handle_chinese_chars=False,
                                       strip_accents=False, lowercase=False)
    tokenizer.train_from_iterator(_training_lines(text_dir, domain_repeat),
                                  vocab_size=args.vocab_size, min_frequency=args.min_frequency,
                                  special_tokens=SPECIAL_TOKENS, show_progress=False)
    out_dir.mkdir(parents=True, exist_ok=True)
    fast = BertTokenizerFast(tokenizer_object=tokenizer._tokenizer, do_lower_case=False,
                             strip_accents=False, tokenize_chinese_chars=False,
                             model_max_length=max_length)
    fast.save_pretrained(str(out_dir))
    return out_dir
