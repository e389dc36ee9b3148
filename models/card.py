"""Write the model card (README.md) of a trained sense ranker from its training records.

Reads ``manifest.json`` (gathered text, sources, licences), ``pretrain_result.json``,
``ranker.json`` (fine-tuning, dev scores, abstention margin, lexicon version) and, when given,
the held-out test report.
"""

import json
from pathlib import Path
from typing import Any

from klarjournal.models.ranker import RANKER_META, weights_sha
from klarjournal.pipeline.renderer import LOW_CONFIDENCE


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"


def _sources_table(manifest: dict[str, Any]) -> list[str]:
    rows = ["| Source | Kind | Version | Licence | Size |", "|---|---|---|---|---|"]
    for source in manifest.get("sources", []):
        size = (f"{source['characters']:,} chars, {source['paragraphs']:,} paragraphs"
                if "characters" in source else f"{source.get('words', 0):,} words")
        rows.append(f"| {source['source']} | {source['kind']} | {source.get('version', '–')} | "
                    f"{source['licence']} | {size} |")
    return rows


def _pretrain_line(pretrain: dict[str, Any] | None, config: dict[str, Any], base: str) -> str:
    if pretrain is None:
        return f"- Base encoder: the local checkpoint `{base}` (not pretrained here)."
    p = config["pretrain"]
    return (f"- Pretraining (masked LM, {100 * p['mlm_probability']:.0f} %): "
            f"{pretrain['steps']:,} steps of {p['batch_size']} × {p['max_length']} tokens "
            f"({pretrain['tokens_seen']:,} tokens), {pretrain['minutes']} min; final train loss "
            f"{pretrain['train_loss']}, held-out loss {pretrain['eval_loss']}.")


def _pipeline_lines(meta: dict[str, Any]) -> list[str]:
    settings, tuning = meta.get("sense_settings"), meta.get("sense_tuning")
    if not settings or not tuning:
        return []
    return [
        "### What the pipeline does with it",
        "",
        "The pipeline (`klarjournal.pipeline.senses`) asks the model only when the lexicon's "
        f"cues do not decide (cue lead below {settings['cues_decide_from']:g}); it then "
        f"combines the model's probabilities with the cue scores (weight "
        f"{settings['cue_weight']:g}) and shows the default reading marked uncertain when the "
        f"best beats the runner-up by less than {settings['abstain_margin']:g}. These settings "
        f"were tuned on {tuning['contexts']} hand-written development contexts "
        f"(`{tuning['source']}`, never the test set): accuracy {_pct(tuning['accuracy'])}, "
        f"abstention {_pct(tuning['abstention'])}, model asked for "
        f"{_pct(tuning['model_share'])} of the spans.",
        "",
        *([f"The confidence shown is then calibrated on the same contexts (the share of "
           f"readings of that source and confidence that were right; `confidence_calibration` "
           f"in `ranker.json`), so a reading shown as fact was right at least "
           f"{_pct(LOW_CONFIDENCE)} of the time there; "
           f"{_pct(tuning['calibrated_abstention'])} of the dev readings are then shown as "
           "uncertain.", ""] if "calibrated_abstention" in tuning else []),
    ]


def write_card(model_dir: Path, manifest: dict[str, Any], pretrain: dict[str, Any] | None,
               config: dict[str, Any], test: dict[str, Any] | None) -> Path:
    meta = json.loads((model_dir / RANKER_META).read_text(encoding="utf-8"))
    finetune = meta["finetune"]
    dev = finetune["dev"]
    weights = model_dir / "model.safetensors"
    size_mb = weights.stat().st_size / 1e6
    margin = meta["abstain_margin"]
    abstain_dev, answered_dev = dev["by_margin"][f"{margin:.2f}"]
    p = config["pretrain"]
    arch = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    lines = [
        "# klarjournal sense ranker",
        "",
        "Chooses the meaning of an ambiguous clinical abbreviation (`MS` = multipel sklerose or "
        "mitralstenose) from its context. A cross-encoder: the first segment is the note context "
        "with the span marked `[ MS ]`, prefixed by the note's specialty and section; the second "
        "is one candidate sense, `expansion – lay`, followed, when the caller passes the "
        "lexicon's evidence (`candidate_text(sense)`: `expansion – lay | specialties | cues | "
        "sections`), by what of it was found here: `| træf: 2 ekko, mislyd | speciale: ja | "
        "afsnit: nej` (`evidence_text`). The output is one score; a softmax over an "
        "abbreviation's candidates gives probabilities. Because senses are inputs, not classes, "
        "a sense added to the lexicon is scored without retraining.",
        "",
        f"- Version: `sense-ranker-{meta['release']}+{weights_sha(model_dir)[:12]}`",
        f"- Trained against lexicon `{meta['lexicon_version']}`",
        f"- Architecture: {arch.get('model_type', '?')} encoder, "
        f"{arch.get('num_hidden_layers')} layers, hidden {arch.get('hidden_size')}, "
        f"{arch.get('num_attention_heads')} heads, feed-forward "
        f"{arch.get('intermediate_size')}, input {meta['max_length']} tokens; "
        f"{meta['parameters']:,} parameters; vocabulary {arch.get('vocab_size'):,} "
        "(here: cased WordPiece trained on the same text, æ/ø/å kept, no accent stripping)",
        f"- Weights: `model.safetensors`, {size_mb:.1f} MB (float32)"
        + ("; the linear layers run in int8 at inference (`int8_inference` in `ranker.json`)"
           if meta.get("int8_inference") else "")
        + ("; the traced forward pass is shipped as TorchScript (`ranker.torchscript`, "
           f"{(model_dir / 'ranker.torchscript').stat().st_size / 1e6:.1f} MB), which runs "
           "without importing transformers"
           if (model_dir / "ranker.torchscript").exists() else ""),
        "- Everything trained from scratch on this machine's 2-core CPU (shared with other work, "
        f"{config['pretrain']['threads']} torch thread(s)); no "
        "pretrained weights were downloaded. `klarjournal train` reproduces it end to end.",
        "",
        "## Data",
        "",
        f"Pretraining text: {manifest['characters']:,} characters in "
        f"{manifest['paragraphs']:,} Danish paragraphs, gathered by `models/gather_text.py` "
        "from Debian packages (`apt-get download` + `dpkg-deb -x`, nothing installed) and the "
        "project's own texts; word lists feed only the tokenizer vocabulary "
        f"({manifest['vocab_words']:,} words). Licences are each package's main licence as "
        "given in its `copyright` file; the text is used to train weights and is not "
        "redistributed.",
        "",
        *_sources_table(manifest),
        "",
        "The project texts are the development notes (`evaluation/corpus/dev.jsonl`, never the "
        "test files), the lexicon's expansions and lay readings, and the plan texts read at "
        f"build time; they are repeated {p['domain_repeat']}× in pretraining. The text is mostly "
        "software documentation: general Danish, little medicine.",
        "",
        f"Fine-tuning contexts: {finetune['train_examples']:,} training and "
        f"{finetune['dev_examples']:,} dev contexts generated from the lexicon "
        "(`models/sense_data.py`): templates per sense filled with the sense's cue words, "
        "sections, specialties and topic words (surfaces of plain entries of the same "
        "specialty), padded with sentences of the development notes; plus reverse "
        "substitution (a sense's expansion or lay reading replaced by the abbreviation in "
        "sentences of the gathered text and development notes). The dev split uses templates "
        "the training split never sees. Neither `evaluation/senses/test.jsonl` nor "
        "`evaluation/corpus/test.jsonl` is read in training or model selection.",
        "",
        "## Training",
        "",
        _pretrain_line(pretrain, config, finetune["base_model"]),
        f"- Fine-tuning (listwise softmax over an abbreviation's candidates): "
        f"{finetune['steps']:,} steps ({finetune['epochs_done']} epochs) of "
        f"{config['finetune']['groups_per_batch']} contexts, {finetune['minutes']} min; "
        f"{100 * config['finetune']['cue_dropout']:.0f} % of training contexts see candidates "
        "without cue words.",
        "",
        "## Scores",
        "",
        f"Dev (generated, held-out templates): accuracy {_pct(dev['accuracy'])} with cue words "
        f"in the candidates, {_pct(dev['accuracy_no_cues'])} with `expansion – lay` only.",
        "",
        "### Abstention",
        "",
        "`SenseRanker.decide(probs)` abstains when the best probability beats the runner-up by "
        f"less than **{margin:.2f}** (`abstain_margin` in `ranker.json`): the largest margin that "
        f"abstains on at most 5 % of the dev contexts. On dev it abstains on {_pct(abstain_dev)} "
        f"and is right on {_pct(answered_dev)} of the rest. The pipeline then shows the default "
        "reading marked uncertain.",
        "",
        "| margin | dev abstention | dev answered accuracy |",
        "|---|---|---|",
        *(f"| {m} | {_pct(a)} | {_pct(b)} |" for m, (a, b) in dev["by_margin"].items()),
        "",
        *_pipeline_lines(meta),
    ]
    if test:
        lines += [
            "### Held-out test (`evaluation/senses/test.jsonl`, run once for this card)",
            "",
            f"{test['items']} hand-written contexts; {test['items_without_entry']} have no "
            "ambiguous entry in this lexicon. An abstaining system shows the default sense.",
            "",
            "| System | Accuracy | Abstention | Answered accuracy |",
            "|---|---|---|---|",
            *(f"| {name} | {_pct(s['accuracy'])} | {_pct(s['abstention'])} | "
              f"{_pct(s['answered_accuracy'])} |" for name, s in test["systems"].items()),
            "",
        ]
    lines += [
        "## Use",
        "",
        "```python",
        "from klarjournal.models.ranker import RankItem, SenseRanker, candidate_text",
        "ranker = SenseRanker.load()          # or SenseRanker.load('/path/to/hf-checkpoint')",
        "probs = ranker.rank([RankItem(text, start, end, [candidate_text(s) for s in senses],",
        "                              section, specialty)])",
        "decision = ranker.decide(probs[0])   # best, probability, margin, abstain",
        "```",
        "",
        "Any local Hugging Face checkpoint with a one-logit sequence-classification head loads "
        "by path (offline); `klarjournal train --base-model PATH --steps finetune,card` "
        "fine-tunes a hospital's own Danish encoder instead of this one.",
        "",
        "## Limits",
        "",
        "- Trained on generated contexts, not on real notes; senses whose cue words are thin "
        "or shared between senses are the weak spots.",
        "- The encoder saw little medical Danish in pretraining; clinical words are split into "
        "many word pieces.",
        "- Pretraining and fine-tuning are fitted to a wall-clock budget, so on a shared CPU "
        "the number of steps, and with it the result, varies between runs of "
        "`klarjournal train`; data, seeds and settings are the same. The shipped encoder got "
        "few pretraining steps (see above) and fine-tuning saw a fraction of one epoch.",
        "- Without the lexicon evidence in the candidate text (`expansion – lay` only) the "
        "ranker is near the default-sense level: pass `candidate_text(sense)`.",
        "- Retrain (or at least re-run fine-tuning) when the ambiguous entries change; "
        "`ranker.json` records the lexicon version it was trained against.",
        "",
    ]
    card = model_dir / "README.md"
    card.write_text("\n".join(lines), encoding="utf-8")
    return card
