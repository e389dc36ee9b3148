import pytest

from klarjournal.evaluation.baselines import DictionaryBaseline, untouched
from klarjournal.evaluation.corpus_io import GoldNote, GoldSpan
from klarjournal.evaluation.metrics import score
from klarjournal.lexicon import Entry, Lexicon


def entry(entry_id, surfaces, lay, kind="abbreviation", **extra):
    if "senses" not in extra:
        extra.update(expansion=lay, lay=[{"text": lay}])
    return Entry.model_validate({"id": entry_id, "kind": kind, "surfaces": surfaces,
                                 "specialty": "almen", "source": "test", **extra})


def lexicon(*entries):
    return Lexicon(entries=tuple(entries), morphemes=(), context_rules=(), sections=(),
                   sources=(), allowed_lay_words=frozenset(), files=(), content_hash="0" * 64)


LEXICON = lexicon(
    entry("bt", ["BT"], "blodtryk"),
    entry("status-quo", ["status quo"], "uændret", kind="phrase"),
    entry("status-quo-ante", ["status quo ante"], "som før", kind="phrase"),
    entry("obs", ["obs."], "mistanke om"),
    entry("ms", ["MS"], "", case_sensitive=True, senses=[
        {"id": "ms.a", "expansion": "multipel sklerose", "lay": [{"text": "sklerose"}]},
        {"id": "ms.b", "expansion": "mitralstenose", "lay": [{"text": "hjerteklapfejl"}]}]),
)


@pytest.mark.parametrize(("text", "plain"), [
    ("BT 145/90.", "blodtryk 145/90."),
    ("bt 145/90.", "blodtryk 145/90."),               # case-insensitive by default
    ("BTX og aBT.", "BTX og aBT."),                    # whole words only
    ("Status quo ante.", "som før."),                  # longest match wins
    ("Status quo.", "uændret."),
    ("obs. BT", "mistanke om blodtryk"),
    ("Kendt MS.", "Kendt sklerose."),                  # first lay of the first sense
    ("Kendt ms.", "Kendt ms."),                        # the entry is case-sensitive
    ("", ""),
])
def test_dictionary_replaces_whole_words_leftmost_longest(text, plain):
    assert DictionaryBaseline(LEXICON).translate(text)["plain"] == plain


def test_dictionary_spans_keep_the_contract():
    out = DictionaryBaseline(LEXICON).translate("Obs. BT og status quo ante, MS.", "n1")
    assert out["id"] == "n1" and out["original"] == "Obs. BT og status quo ante, MS."
    for span in out["spans"]:
        assert out["original"][span["start"]:span["end"]] == span["surface"]
        assert out["plain"][span["plain_start"]:span["plain_end"]] == span["plain"]
    assert [s["entry"] for s in out["spans"]] == ["obs", "bt", "status-quo-ante", "ms"]
    assert out["spans"][-1]["sense"] == "ms.a"


def test_dictionary_with_an_empty_lexicon_changes_nothing():
    assert DictionaryBaseline(lexicon()).translate("BT 145/90.")["plain"] == "BT 145/90."


def test_untouched_scores_zero_recall_full_fidelity_and_all_jargon_left():
    text = "BT 145/90. Ingen DVT."
    note = GoldNote("n", text, (GoldSpan(0, 2, "BT", "abbreviation", "blodtryk", ("blodtryk",)),),
                    keep=("145/90",), negated=("DVT",))
    f = score([note], [untouched(text, "n")]).figures
    assert f["recall"] == 0.0 and f["keep"] == 1.0 and f["negation"] == 1.0
    assert f["jargon_left"] == 1.0 and f["lix_original"] == f["lix_plain"]
