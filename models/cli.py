"""`klarjournal train`: gather text, train the tokenizer, pretrain, fine-tune, write the card.

Defaults come from ``configs/sense_ranker.json`` and reproduce the shipped model in
``klarjournal/models/shipped/sense-ranker``; intermediate files go to ``models/work``.
"""

import argparse
import json
import logging
import sys
import time
from importlib import resources
from pathlib import Path
from typing import Any

STEPS = ("gather", "tokenizer", "pretrain", "finetune", "export", "tune", "card")


def _package_dir(package: str) -> Path:
    return Path(str(resources.files(package)))


def _default_work_dir() -> Path:
    return _package_dir("klarjournal.models") / "work"


def _dev_notes() -> Path:
    return _package_dir("klarjournal.evaluation") / "corpus" / "dev.jsonl"


def _dev_senses() -> Path:
    return _package_dir("klarjournal.evaluation") / "senses" / "dev.jsonl"


def _held_out_senses() -> Path:
    return _package_dir("klarjournal.evaluation") / "senses" / "test.jsonl"


def _read_json(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _apply_overrides(config: Any, args: argparse.Namespace) -> None:
    overrides = {
        ("pretrain", "max_minutes"): args.pretrain_minutes,
        ("pretrain", "max_steps"): args.pretrain_steps,
        ("pretrain", "hidden_size"): args.hidden_size,
        ("pretrain", "num_layers"): args.layers,
        ("tokenizer", "vocab_size"): args.vocab_size,
        ("finetune", "max_minutes"): args.finetune_minutes,
        ("finetune", "contexts_per_sense"): args.contexts_per_sense,
        ("finetune", "epochs"): args.epochs,
        ("finetune", "base_model"): args.base_model,
        ("gather", "seeds_dir"): args.seeds_dir,
    }
    for (group, name), value in overrides.items():
        if value is not None:
            setattr(getattr(config, group), name, value)


def _train(args: argparse.Namespace) -> int:
    from klarjournal.lexicon import load_lexicon
    from klarjournal.models.config import load_config, seed_everything
    from klarjournal.models.ranker import shipped_model_dir

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    progress = logging.getLogger("klarjournal.models")
    progress.setLevel(logging.INFO)
    progress.addHandler(handler)
    config = load_config(args.config)
    _apply_overrides(config, args)
    seed_everything(config.seed)
    steps = [s.strip() for s in args.steps.split(",") if s.strip()]
    unknown = set(steps) - set(STEPS)
    if unknown:
        print(f"klarjournal train: unknown steps {sorted(unknown)}; choose from {STEPS}",
              file=sys.stderr)
        return 2
    work = Path(args.work_dir) if args.work_dir else _default_work_dir()
    out = Path(args.out) if args.out else shipped_model_dir()
    text_dir, tokenizer_dir, pretrained_dir = work / "text", work / "tokenizer", work / "pretrained"
    lexicon = load_lexicon()
    timings: dict[str, float] = {}

    def timed(name: str) -> float:
        timings[name] = round((time.monotonic() - started) / 60, 1)
        print(f"[train] {name} done in {timings[name]} min", file=sys.stderr)
        return timings[name]

    if "gather" in steps:
        from klarjournal.models.gather_text import gather

        started = time.monotonic()
        seeds = Path(config.gather.seeds_dir) if config.gather.seeds_dir else None
        result = gather(_dev_notes(), work, seeds, tuple(config.gather.packages),
                        tuple(config.gather.vocab_packages))
        timed("gather")
        print(f"[train] {result.paragraphs} paragraphs, {result.characters} characters",
              file=sys.stderr)
    if "tokenizer" in steps:
        from klarjournal.models.tokenizer import train_tokenizer

        started = time.monotonic()
        train_tokenizer(text_dir, tokenizer_dir, config.tokenizer, config.pretrain.max_length,
                        config.pretrain.domain_repeat)
        timed("tokenizer")
    if "pretrain" in steps:
        from klarjournal.models.pretrain import pretrain

        started = time.monotonic()
        seed_everything(config.seed)
        pretrain(text_dir, tokenizer_dir, pretrained_dir, config.pretrain)
        timed("pretrain")
    if "finetune" in steps:
        from klarjournal.models.finetune import finetune
        from klarjournal.models.sense_data import (build_examples, dev_note_paragraphs,
                                                   filler_sentences)

        started = time.monotonic()
        seed_everything(config.seed)
        notes = dev_note_paragraphs(_dev_notes())
        paragraphs = notes + [line for name in ("domain.txt", "pretrain.txt")
                              if (text_dir / name).exists()
                              for line in (text_dir / name).read_text(encoding="utf-8")
                              .splitlines()]
        train, dev = build_examples(lexicon, paragraphs, filler_sentences(notes, lexicon),
                                    config.finetune.contexts_per_sense, config.seed)
        base = Path(config.finetune.base_model) if config.finetune.base_model else pretrained_dir
        result = finetune(base, out, lexicon, train, dev, config.finetune, config.abstain,
                          config.seed)
        timed("finetune")
        print(f"[train] dev accuracy {result.dev.accuracy}, margin {result.abstain_margin}",
              file=sys.stderr)
    if "export" in steps:
        from klarjournal.models.ranker import SenseRanker

        started = time.monotonic()
        exported = SenseRanker.load(out, exported=False).export()
        timed("export")
        print(f"[train] forward pass exported: {exported}", file=sys.stderr)
    if "tune" in steps:
        from klarjournal.evaluation.corpus_io import read_corpus_file
        from klarjournal.models.ranker import SenseRanker
        from klarjournal.models.tune_senses import (calibrate, collect, outcome, tune,
                                                    write_settings)

        started = time.monotonic()
        dev_senses = read_corpus_file(str(_dev_senses()))
        if dev_senses.errors:
            print(f"klarjournal train: {_dev_senses()}: {len(dev_senses.errors)} bad lines; "
                  "fix them first", file=sys.stderr)
            return 1
        rows = collect(dev_senses.senses, lexicon, SenseRanker.load(out))
        settings, tuned, _ = tune(rows)
        calibration = calibrate(rows, settings)
        write_settings(out, settings, tuned, sum(1 for r in rows if r is not None),
                       "evaluation/senses/dev.jsonl", calibration,
                       outcome(rows, settings, calibration))
        timed("tune")
        print(f"[train] sense settings {settings}: dev accuracy {tuned.accuracy:.3f}, "
              f"abstention {tuned.abstention:.3f}, model asked {tuned.model_share:.3f}",
              file=sys.stderr)
    if "card" in steps:
        from klarjournal.models.card import write_card
        from klarjournal.models.ranker import SenseRanker
        from klarjournal.models.report import heldout_report

        test = None
        test_path = Path(args.test_report) if args.test_report else _held_out_senses()
        if not args.no_test_report and test_path.exists():
            test = heldout_report(SenseRanker.load(out), test_path, lexicon)
        manifest = _read_json(text_dir / "manifest.json") or {}
        pretrain_result = None if config.finetune.base_model else \
            _read_json(pretrained_dir / "pretrain_result.json")
        card = write_card(out, manifest, pretrain_result, config.to_dict(), test)
        print(f"[train] model card: {card}", file=sys.stderr)
        if test:
            print(json.dumps(test["systems"], indent=2))
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("train", help="train the sense ranker end to end",
                                 description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="JSON config (default: the shipped sense_ranker.json)")
    parser.add_argument("--steps", default=",".join(STEPS),
                        help=f"comma-separated subset of {','.join(STEPS)} (default: all)")
    parser.add_argument("--work-dir", help="intermediate files (default: models/work)")
    parser.add_argument("--out", help="where the ranker goes (default: the shipped folder)")
    parser.add_argument("--base-model", help="fine-tune this local HF checkpoint instead")
    parser.add_argument("--seeds-dir", help="plan texts to add to the pretraining text")
    parser.add_argument("--pretrain-minutes", type=float)
    parser.add_argument("--pretrain-steps", type=int)
    parser.add_argument("--finetune-minutes", type=float)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--contexts-per-sense", type=int)
    parser.add_argument("--vocab-size", type=int)
    parser.add_argument("--hidden-size", type=int)
    parser.add_argument("--layers", type=int)
    parser.add_argument("--test-report", metavar="PATH",
                        help="held-out sense set scored once for the card "
                             "(default: evaluation/senses/test.jsonl if present)")
    parser.add_argument("--no-test-report", action="store_true",
                        help="do not score the held-out set")
    parser.set_defaults(handler=_train)
