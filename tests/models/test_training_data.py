"""Training inputs of the sense ranker: gathered text, generated contexts, config and CLI."""

import json
import random
from pathlib import Path

import pytest

from klarjournal.lexicon import load_lexicon
from klarjournal.models.config import load_config
from klarjournal.models.gather_text import html_paragraphs, is_danish, man_paragraphs
from klarjournal.models.sense_data import (
    BARE_TEMPLATES,
    DEV_BARE_TEMPLATES,
    DEV_TEMPLATES,
    TEMPLATES,
    ambiguous_entries,
    build_examples,
    reverse_substitution,
    template_examples,
)


@pytest.fixture(scope="module")
def lexicon():
    return load_lexicon()


def test_man_page_macros_and_font_escapes_are_removed():
    source = ".TH LS 1\n.SH NAVN\nls \\- vis indholdet af \\fBmapper\\fR\n.PP\nFlere linjer her."
    assert man_paragraphs(source) == ["NAVN ls - vis indholdet af mapper", "Flere linjer her."]


def test_html_text_is_split_into_paragraphs_without_code():
    markup = "<p>Klik på <b>OK</b> for at gemme.</p><pre><code>x = 1</code></pre><li>Næste</li>"
    assert html_paragraphs(markup) == ["Klik på OK for at gemme.", "Næste"]


def test_danish_filter_keeps_danish_and_drops_english():
    assert is_danish("Du kan vælge en fil og gemme den i mappen, hvis du vil.")
    assert not is_danish("You can choose a file and save it in the folder if you want.")


def test_every_generated_context_marks_a_surface_of_its_entry(lexicon):
    examples = template_examples(lexicon, 3, random.Random(1), TEMPLATES, ["Pt. er rask."])
    senses_by_entry = {e.id: e for e in ambiguous_entries(lexicon)}
    assert {e.entry_id for e in examples} == set(senses_by_entry)
    for example in examples:
        entry = senses_by_entry[example.entry_id]
        assert example.text[example.start:example.end] in entry.surfaces
        assert 0 <= example.gold < len(entry.all_senses())


def test_reverse_substitution_puts_the_abbreviation_where_the_expansion_was(lexicon):
    sentence = "Hun har kendt multipel sklerose og får behandling i neurologisk ambulatorium."
    examples = reverse_substitution(lexicon, [sentence], random.Random(0), max_per_sense=5)
    ms = [e for e in examples if e.entry_id == "ms"]
    assert len(ms) == 1
    assert ms[0].text == "Hun har kendt MS og får behandling i neurologisk ambulatorium."
    assert ms[0].text[ms[0].start:ms[0].end] == "MS"
    assert lexicon.entry("ms").all_senses()[ms[0].gold].id == "ms.multipel-sklerose"


def test_dev_split_uses_templates_training_never_sees(lexicon):
    assert not set(TEMPLATES + BARE_TEMPLATES) & set(DEV_TEMPLATES + DEV_BARE_TEMPLATES)
    train, dev = build_examples(lexicon, [], [], 4, seed=3)
    assert {e.text for e in train if e.origin == "template"}.isdisjoint(
        {e.text for e in dev if e.origin == "template"})


def test_generated_data_is_reproducible_from_the_seed(lexicon):
    first = build_examples(lexicon, [], [], 2, seed=5)
    second = build_examples(lexicon, [], [], 2, seed=5)
    assert first == second


def test_shipped_config_describes_the_shipped_model_and_unknown_keys_are_refused(tmp_path: Path):
    from klarjournal.models.ranker import shipped_model_dir

    config = load_config()
    shipped = json.loads((shipped_model_dir() / "config.json").read_text(encoding="utf-8"))
    assert (config.pretrain.num_layers, config.pretrain.hidden_size) == \
        (shipped["num_hidden_layers"], shipped["hidden_size"])
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"pretrain": {"hidden": 128}}), encoding="utf-8")
    with pytest.raises(ValueError, match="hidden"):
        load_config(bad)


def test_train_is_a_klarjournal_subcommand():
    from klarjournal.pipeline.cli import build_parser

    args = build_parser().parse_args(["train", "--steps", "finetune,card",
                                      "--finetune-minutes", "1"])
    assert args.steps == "finetune,card" and args.finetune_minutes == 1.0
    assert callable(args.handler)
