"""Build the Danish lemma table the frequency check ships with (``data/lemmas-da.json.gz``).

``zipf(word)`` takes the higher of a word's own frequency and its lemma's. Of the 553,000 pairs in
``spacy-lookups-data``'s Danish lookup table only those whose lemma is the more frequent form can
change that answer; keeping just them gives the same ``zipf`` for every word in a table a
tenth the size (the full table cost the service about 75 MB of memory).

    python -m klarjournal.lexicon.build_lemmas        # rewrite the shipped table
"""

import argparse
import gzip
import json
from importlib.metadata import version
from pathlib import Path

from wordfreq import zipf_frequency

SHIPPED = Path(__file__).parent / "data" / "lemmas-da.json.gz"


def full_lookup() -> dict[str, str]:
    """spacy-lookups-data's Danish lemma lookup table, as published."""
    from spacy_lookups_data import da

    path = da["lemma_lookup"]
    gz = path.with_name(path.name + ".gz")
    opener = open(path, encoding="utf-8") if path.exists() else gzip.open(gz, "rt", encoding="utf-8")
    with opener as handle:
        return dict(json.load(handle))


def frequency_lemmas(lookup: dict[str, str]) -> dict[str, str]:
    """The pairs whose lemma is more frequent than the word itself."""
    return {word: base for word, base in lookup.items()
            if base != word and zipf_frequency(base, "da") > zipf_frequency(word, "da")}


def write_table(path: Path = SHIPPED) -> int:
    lemmas = frequency_lemmas(full_lookup())
    table = {
        "source": {
            "lemmas": f"spacy-lookups-data {version('spacy-lookups-data')}, da_lemma_lookup",
            "frequencies": f"wordfreq {version('wordfreq')}, Danish",
            "rule": "pairs whose lemma has the higher Zipf frequency",
        },
        "lemmas": dict(sorted(lemmas.items())),
    }
    data = json.dumps(table, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    path.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))  # same input, same bytes
    return len(lemmas)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SHIPPED)
    args = parser.parse_args()
    print(f"{write_table(args.out)} pairs written to {args.out}")  # noqa: T201 (a build script)


if __name__ == "__main__":
    main()
