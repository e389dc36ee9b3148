"""The shipped sense ranker: loading, probabilities, abstention, and swapping in any checkpoint."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from klarjournal.lexicon import load_lexicon
from klarjournal.models.ranker import (
    RankerLoadError,
    RankItem,
    SenseRanker,
    candidate_text,
    context_text,
    decide,
    evidence_text,
    shipped_model_dir,
)


@pytest.fixture(scope="module")
def ranker() -> SenseRanker:
    return SenseRanker.load()


@pytest.fixture(scope="module")
def checkpoint_ranker() -> SenseRanker:
    """The shipped checkpoint through transformers, not its exported forward pass."""
    return SenseRanker.load(exported=False)


@pytest.fixture(scope="module")
def ms_senses():
    entry = load_lexicon().entry("ms")
    assert entry is not None
    return entry.all_senses()


def _ms_item(text: str, senses, specialty: str | None = None, cues: bool = True) -> RankItem:
    start = text.index("MS")
    return RankItem(text, start, start + 2, [candidate_text(s, cues) for s in senses],
                    None, specialty)


def test_importing_the_ranker_does_not_import_torch():
    code = "import sys, klarjournal.models.ranker; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_shipped_ranker_has_versioned_weights_within_size_limit(ranker: SenseRanker):
    assert re.fullmatch(r"sense-ranker-\d{4}\.\d{2}\.\d{2}\+[0-9a-f]{12}", ranker.version)
    weights = shipped_model_dir() / "model.safetensors"
    assert weights.stat().st_size <= 25_000_000
    assert 0 <= ranker.abstain_margin < 1


def test_model_card_names_lexicon_version_and_scores():
    card = (shipped_model_dir() / "README.md").read_text(encoding="utf-8")
    meta = json.loads((shipped_model_dir() / "ranker.json").read_text(encoding="utf-8"))
    assert meta["lexicon_version"] in card
    assert "Abstention" in card and "Dev" in card


def test_rank_gives_probabilities_per_candidate(ranker: SenseRanker, ms_senses):
    items = [_ms_item("Kendt MS, nu nyt attak med synsforstyrrelse.", ms_senses),
             _ms_item("Ekko viser MS med mislyd over mitralklappen.", ms_senses)]
    probs = ranker.rank(items)
    assert [len(p) for p in probs] == [2, 2]
    for p in probs:
        assert sum(p) == pytest.approx(1.0, abs=1e-5)
        assert all(0.0 <= x <= 1.0 for x in p)


def test_context_decides_between_multiple_sclerosis_and_mitral_stenosis(ranker, ms_senses):
    neuro = _ms_item("MRI af cerebrum viser nye demyeliniserende læsioner forenelige med MS.",
                     ms_senses, "neurologi")
    cardio = _ms_item("Ekkokardiografi: svær MS, atrieflimren, mislyd ved apex.",
                      ms_senses, "kardiologi")
    neuro_probs, cardio_probs = ranker.rank([neuro, cardio])
    assert ms_senses[0].id == "ms.multipel-sklerose"
    assert neuro_probs[0] > neuro_probs[1]
    assert cardio_probs[1] > cardio_probs[0]


def test_batched_and_single_ranking_agree(ranker: SenseRanker, ms_senses):
    items = [_ms_item("Kendt MS siden 2010, MRI stationær.", ms_senses),
             _ms_item("MS, ekko om 6 måneder.", ms_senses, "kardiologi", cues=False),
             _ms_item("Henvist til neurolog pga. MS.", ms_senses, None)]
    batched = ranker.rank(items)
    single = [ranker.rank([item])[0] for item in items]
    for b, s in zip(batched, single, strict=True):
        assert b == pytest.approx(s, abs=1e-4)


def test_traced_forward_pass_scores_as_the_eager_model(checkpoint_ranker: SenseRanker,
                                                       ms_senses):
    ranker = checkpoint_ranker
    assert ranker.traced is not None, "the shipped ranker should run as a traced graph"
    items = [_ms_item("Kendt MS siden 2010, MRI stationær.", ms_senses),
             _ms_item("MS, ekko om 6 måneder. " * 12, ms_senses, "kardiologi"),
             _ms_item("MS.", ms_senses, None, cues=False)]
    traced_scores = ranker.scores(items)
    eager = SenseRanker(ranker.model, ranker.tokenizer, ranker.path, ranker.version, ranker.meta)
    assert traced_scores == [pytest.approx(s, abs=1e-5) for s in eager.scores(items)]


def test_shipped_ranker_runs_its_exported_forward_pass_without_transformers():
    code = ("import sys; from klarjournal.models.ranker import SenseRanker; "
            "r = SenseRanker.load(); assert r.model is None, 'checkpoint loaded'; "
            "assert 'transformers' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("text", [
    "Kendt MS siden 2010, MRI stationær.",
    "MS, ekko om 6 måneder. " * 12,                  # cut to the length limit
    "MS.",
    "Pt. æder ikke, ømme øjne, på åen – MS? (ekko)",
])
def test_exported_forward_pass_tokenises_and_scores_as_the_checkpoint(
        ranker: SenseRanker, checkpoint_ranker: SenseRanker, ms_senses, text):
    item = _ms_item(text, ms_senses, "neurologi")
    contexts = [context_text(item)] * len(item.candidates)
    candidates = [evidence_text(item, c) for c in item.candidates]
    ours = ranker.tokenizer(contexts, candidates, max_length=ranker.max_length)
    theirs = checkpoint_ranker.tokenizer(contexts, candidates, truncation="longest_first",
                                         max_length=checkpoint_ranker.max_length, padding=True,
                                         return_tensors="pt")
    for name in ours:
        assert ours[name].tolist() == theirs[name].tolist(), name
    assert ranker.scores([item]) == [pytest.approx(s, abs=1e-5)
                                     for s in checkpoint_ranker.scores([item])]


def test_an_export_of_other_settings_is_ignored(tmp_path: Path):
    copy = tmp_path / "ranker"
    shutil.copytree(shipped_model_dir(), copy)
    meta = json.loads((copy / "ranker.json").read_text(encoding="utf-8"))
    meta["int8_inference"] = not meta.get("int8_inference")
    (copy / "ranker.json").write_text(json.dumps(meta), encoding="utf-8")
    assert SenseRanker.load(copy).model is not None    # the checkpoint, as its settings say


def test_items_with_one_or_no_candidate_need_no_model(ranker: SenseRanker):
    items = [RankItem("MS.", 0, 2, ["multipel sklerose – sklerose"]),
             RankItem("MS.", 0, 2, [])]
    assert ranker.rank(items) == [[1.0], []]


def test_decide_abstains_when_margin_is_small():
    assert decide([0.55, 0.45], 0.2).abstain
    clear = decide([0.1, 0.85, 0.05], 0.2)
    assert (clear.best, clear.abstain) == (1, False)
    assert clear.margin == pytest.approx(0.75)


def test_context_marks_span_and_note_metadata():
    item = RankItem("Pt. har MS og atrieflimren.", 8, 10, [], "diagnose", "kardiologi")
    assert context_text(item) == "kardiologi | diagnose | Pt. har [ MS ] og atrieflimren."
    bare = RankItem("MS", 0, 2, [])
    assert context_text(bare) == "ukendt | ukendt | [ MS ]"


def test_candidate_text_carries_cues_only_when_asked(ms_senses):
    cardio = ms_senses[1]
    assert candidate_text(cardio, with_cues=False) == \
        f"{cardio.expansion} – {cardio.lay[0].text}"
    assert cardio.cues[0] in candidate_text(cardio)


def test_evidence_names_cue_words_near_the_span_and_metadata_fit(ms_senses):
    text = "Ekko: svær MS, atrieflimren og mislyd."
    item = RankItem(text, 11, 13, [], "paraklinik", "kardiologi")
    cardio, neuro = candidate_text(ms_senses[1]), candidate_text(ms_senses[0])
    evidence = evidence_text(item, cardio)
    hits = evidence.split("| træf: ")[1].split(" | ")[0]
    assert {"ekko", "mislyd", "atrieflimren"} <= set(hits.partition(" ")[2].split(", "))
    assert evidence.endswith("| speciale: ja | afsnit: ja")
    assert "træf: 0 ingen | speciale: nej" in evidence_text(item, neuro)
    plain = candidate_text(ms_senses[1], with_cues=False)
    assert evidence_text(item, plain) == plain


def test_missing_checkpoint_raises_clear_error(tmp_path: Path):
    with pytest.raises(RankerLoadError, match="not found"):
        SenseRanker.load(tmp_path / "nowhere")


@pytest.mark.parametrize(("file", "message"), [
    ("model.safetensors", "cannot load"),
    ("ranker.torchscript", "unreadable exported ranker"),
])
def test_corrupt_checkpoint_files_raise_clear_error(tmp_path: Path, file: str, message: str):
    broken = tmp_path / "broken"
    shutil.copytree(shipped_model_dir(), broken)
    (broken / file).write_bytes(b"not a model file")
    with pytest.raises(RankerLoadError, match=message):
        SenseRanker.load(broken)


def test_any_local_hf_checkpoint_loads_by_path_offline(tmp_path: Path, monkeypatch):
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[", "]", "|", "–", ".", "MS",
             "ukendt", "kendt", "multipel", "sklerose", "mitralstenose"]
    (tmp_path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(vocab_file=str(tmp_path / "vocab.txt"), do_lower_case=False)
    config = BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=32, num_labels=1)
    checkpoint = tmp_path / "tiny"
    BertForSequenceClassification(config).save_pretrained(checkpoint)
    tokenizer.save_pretrained(checkpoint)

    tiny = SenseRanker.load(checkpoint)
    assert tiny.version.startswith("sense-ranker-local+")
    probs = tiny.rank([RankItem("kendt MS .", 6, 8, ["multipel sklerose", "mitralstenose"])])
    assert len(probs[0]) == 2 and sum(probs[0]) == pytest.approx(1.0, abs=1e-5)


def test_tuning_keeps_abstention_within_the_limit_and_prefers_accuracy():
    from klarjournal.models.tune_senses import MAX_ABSTAIN, TuneRow, outcome, tune

    rows = [
        TuneRow(0, [4.0, 0.0], [0.2, 0.8]),   # cues right, model wrong
        TuneRow(1, [0.0, 0.0], [0.1, 0.9]),   # no cues, model right
        TuneRow(0, [1.0, 0.0], [0.6, 0.4]),   # both lean right
        None,                                  # an item no entry covers is skipped
    ]
    settings, result, table = tune(rows)
    assert result.abstention <= MAX_ABSTAIN
    assert result.accuracy == 1.0
    assert outcome([r for r in rows if r is not None], settings) == result
    assert table[0]["accuracy"] == 1.0


def test_calibration_is_cautious_and_never_falls_with_confidence():
    from klarjournal.models.tune_senses import TuneRow, calibrate
    from klarjournal.pipeline.senses import SenseSettings

    settings = SenseSettings(cue_weight=0.0, cues_decide_from=1e9, abstain_margin=0.0)
    rows = [TuneRow(0, [0.0, 0.0], [0.95, 0.05])] * 8 + [TuneRow(1, [0.0, 0.0], [0.95, 0.05])] * 2 \
        + [TuneRow(0, [0.0, 0.0], [0.72, 0.28])] * 4
    table = calibrate(rows, settings)["model"]
    values = [value for _, value in table]
    assert values == sorted(values)
    assert table[-1] == [0.9, round(9 / 12, 3)]   # 8 right of 10, smoothed
    assert dict(map(tuple, table))[0.7] <= table[-1][1]
