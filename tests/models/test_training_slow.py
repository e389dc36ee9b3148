"""End to end: tokenizer, pretraining, fine-tuning and card on a tiny model (opt-in, slow)."""

import json
from pathlib import Path

import pytest

from klarjournal.lexicon import load_lexicon
from klarjournal.models.card import write_card
from klarjournal.models.config import load_config, seed_everything
from klarjournal.models.finetune import finetune
from klarjournal.models.pretrain import pretrain
from klarjournal.models.ranker import RankItem, SenseRanker, candidate_text
from klarjournal.models.sense_data import build_examples
from klarjournal.models.tokenizer import train_tokenizer

SENTENCES = [
    "Patienten har kendt multipel sklerose og ses i neurologisk ambulatorium.",
    "Ekkokardiografi viser mitralstenose med mislyd og atrieflimren.",
    "Du kan gemme filen i mappen, hvis du vil bruge den igen senere.",
    "Blodtrykket er normalt, og der er ingen hævelse af benene.",
]


@pytest.mark.slow
def test_tiny_model_trains_end_to_end_and_loads(tmp_path: Path):
    config = load_config()
    config.tokenizer.vocab_size = 400
    config.tokenizer.min_frequency = 1
    config.pretrain.hidden_size, config.pretrain.num_layers = 32, 1
    config.pretrain.num_heads, config.pretrain.intermediate_size = 2, 64
    config.pretrain.batch_size, config.pretrain.max_steps = 4, 4
    config.pretrain.warmup_steps = 1
    config.finetune.epochs, config.finetune.max_minutes = 1, 1.0
    config.finetune.max_length = 64
    seed_everything(config.seed)
    text = tmp_path / "text"
    text.mkdir()
    (text / "pretrain.txt").write_text("\n".join(SENTENCES * 50) + "\n", encoding="utf-8")
    (text / "domain.txt").write_text(SENTENCES[0] + "\n", encoding="utf-8")
    (text / "vocab_extra.txt").write_text("sklerose\nmitralstenose\n", encoding="utf-8")
    train_tokenizer(text, tmp_path / "tok", config.tokenizer, 64, 2)
    config.pretrain.max_length = 64
    result = pretrain(text, tmp_path / "tok", tmp_path / "pre", config.pretrain)
    assert result.steps == 4

    lexicon = load_lexicon()
    train, dev = build_examples(lexicon, SENTENCES, SENTENCES, 2, config.seed)
    out = tmp_path / "ranker"
    finetune(tmp_path / "pre", out, lexicon, train[:40], dev[:20], config.finetune,
             config.abstain, config.seed)
    write_card(out, {"paragraphs": 1, "characters": 1, "vocab_words": 2, "sources": []},
               json.loads((tmp_path / "pre" / "pretrain_result.json").read_text()),
               config.to_dict(), None)
    assert (out / "README.md").exists()

    ranker = SenseRanker.load(out)
    senses = lexicon.entry("ms").all_senses()
    probs = ranker.rank([RankItem("Kendt MS.", 6, 8, [candidate_text(s) for s in senses])])
    assert len(probs[0]) == 2
