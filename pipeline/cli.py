"""The `klarjournal` command line: translate, lexicon, evaluate, serve, train, bench."""

import argparse
import json
import sys
from collections.abc import Sequence

from typing import TYPE_CHECKING

from klarjournal.lexicon import LexiconError, load_lexicon

if TYPE_CHECKING:
    from klarjournal.pipeline.translator import Translator


def _lexicon_check(args: argparse.Namespace) -> int:
    from klarjournal.lexicon.check import check_lexicon

    lexicon = load_lexicon(args.data_dir, args.lexicon)
    findings = check_lexicon(lexicon)
    errors = [f for f in findings if f.severity == "error"]
    shown = findings if args.warnings else errors
    for finding in shown:
        print(finding)
    warnings = len(findings) - len(errors)
    print(f"{len(lexicon.entries)} entries, {len(errors)} errors, {warnings} warnings"
          f"{'' if args.warnings else ' (--warnings lists them)'}", file=sys.stderr)
    return 1 if errors else 0


def _lexicon_stats(args: argparse.Namespace) -> int:
    from klarjournal.lexicon.stats import lexicon_stats

    stats = lexicon_stats(load_lexicon(args.data_dir, args.lexicon))
    if args.json:
        print(json.dumps(stats, ensure_ascii=False, indent=2))
    else:
        for key, value in stats.items():
            print(f"{key}: {value}")
    return 0


def _add_pipeline_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lexicon", action="append", default=[], metavar="EXTRA.jsonl",
                        help="hospital overlay entries; same id replaces, later files win")
    parser.add_argument("--lexicon-dir", help="lexicon data folder (default: the shipped one)")
    parser.add_argument("--model", metavar="PATH",
                        help="context model folder (default: the shipped model)")
    parser.add_argument("--no-model", action="store_true",
                        help="choose senses by lexicon cues only")


def translator_from_args(args: argparse.Namespace) -> "Translator":
    from klarjournal.pipeline.translator import freeze_loaded_heap, load_translator

    translator = load_translator(args.lexicon_dir, args.lexicon, args.model, not args.no_model)
    freeze_loaded_heap()
    return translator


def _translate(args: argparse.Namespace) -> int:
    from klarjournal.pipeline.notes_io import BadLine, read_notes

    source = args.input
    is_jsonl = source != "-" and source.endswith(".jsonl")
    try:
        data = sys.stdin.buffer.read() if source == "-" else open(source, "rb").read()
    except OSError as exc:
        print(f"klarjournal: cannot read {source}: {exc.strerror}", file=sys.stderr)
        return 2
    translator = translator_from_args(args)
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    try:
        if not is_jsonl:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                line = data[: exc.start].count(b"\n") + 1
                print(f"klarjournal: {source}:{line}: not valid UTF-8", file=sys.stderr)
                return 2
            translation = translator.translate(text, specialty=args.specialty)
            if args.json:
                out.write(json.dumps(translation.to_dict(), ensure_ascii=False, indent=2) + "\n")
            else:
                out.write(translation.plain + ("" if translation.plain.endswith("\n") else "\n"))
            return 0
        bad: list[BadLine] = []
        notes = []
        for item in read_notes(data, source, translator.max_chars):
            if isinstance(item, BadLine):
                if not args.skip_bad:
                    print(f"klarjournal: {item} (use --skip-bad to translate the other lines)",
                          file=sys.stderr)
                    return 2
                bad.append(item)
            else:
                notes.append(item)
        for start in range(0, len(notes), 256):
            chunk = notes[start:start + 256]
            translations = translator.translate_many(
                [n.text for n in chunk], [n.id for n in chunk],
                [n.specialty or args.specialty for n in chunk])
            for translation in translations:
                out.write(json.dumps(translation.to_dict(), ensure_ascii=False) + "\n")
        for item in bad:
            print(f"klarjournal: skipped {item}", file=sys.stderr)
        print(f"klarjournal: translated {len(notes)} notes, skipped {len(bad)} bad lines",
              file=sys.stderr)
        return 1 if bad else 0
    finally:
        if out is not sys.stdout:
            out.close()


def _bench(args: argparse.Namespace) -> int:
    from klarjournal.pipeline.bench import format_report, run_bench

    result = run_bench(args.notes, args.words, args.seed, use_model=args.with_model)
    print(json.dumps(result, indent=2) if args.json else format_report(result))
    return 0


def _lexicon_lookup(args: argparse.Namespace) -> int:
    translator = translator_from_args(args)
    print(json.dumps(translator.lookup(args.term), ensure_ascii=False, indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="klarjournal", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    translate = commands.add_parser(
        "translate", help="translate a note (text or stdin) or a JSONL file of notes")
    translate.add_argument("input", help="'-' for stdin, a text file, or NOTES.jsonl")
    translate.add_argument("-o", "--output", help="write here instead of stdout")
    translate.add_argument("--json", action="store_true",
                           help="print the full translation object, not only the patient text")
    translate.add_argument("--skip-bad", action="store_true",
                           help="JSONL: translate the good lines and list the bad ones")
    translate.add_argument("--specialty", help="the note's specialty, a hint for ambiguous terms")
    _add_pipeline_options(translate)
    translate.set_defaults(handler=_translate)

    bench = commands.add_parser("bench", help="speed: klarjournal vs an Aho-Corasick floor")
    bench.add_argument("--notes", type=int, default=1000)
    bench.add_argument("--words", type=int, default=150, help="about this many words a note")
    bench.add_argument("--seed", type=int, default=7)
    bench.add_argument("--with-model", action="store_true",
                       help="load the context model too (default: rules only)")
    bench.add_argument("--json", action="store_true")
    bench.set_defaults(handler=_bench)

    lexicon = commands.add_parser("lexicon", help="check, inspect and count the lexicon")
    lexicon_commands = lexicon.add_subparsers(dest="lexicon_command", required=True)
    for name, handler, help_text in (
        ("check", _lexicon_check, "validate the lexicon; exit 1 on any error"),
        ("stats", _lexicon_stats, "counts by kind, specialty, senses and morphemes"),
    ):
        sub = lexicon_commands.add_parser(name, help=help_text)
        sub.add_argument("--data-dir", help="lexicon data folder (default: the shipped one)")
        sub.add_argument("--lexicon", action="append", default=[], metavar="EXTRA.jsonl",
                         help="hospital overlay entries; later files win")
        sub.set_defaults(handler=handler)
        if name == "check":
            sub.add_argument("--warnings", action="store_true", help="list warnings too")
        if name == "stats":
            sub.add_argument("--json", action="store_true")
    lookup = lexicon_commands.add_parser("lookup", help="what the pipeline does with a term")
    lookup.add_argument("term")
    _add_pipeline_options(lookup)
    lookup.set_defaults(handler=_lexicon_lookup)
    # Subcommands owned by the other packages register themselves here.
    from klarjournal.evaluation.cli import register as register_evaluate
    from klarjournal.models.cli import register as register_train
    from klarjournal.service.cli import register as register_serve

    for register in (register_evaluate, register_serve, register_train):
        register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except LexiconError as exc:
        print(f"klarjournal: lexicon error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
