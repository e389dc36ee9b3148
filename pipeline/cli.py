"""The `klarjournal` command line: translate, lexicon, evaluate, serve, train, bench."""

import argparse
import importlib
import json
import sys
from collections.abc import Sequence

from klarjournal.lexicon import LexiconError, load_lexicon


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="klarjournal", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

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
    # Subcommands owned by the other packages register themselves here.
    for module_name in ("klarjournal.evaluation.cli", "klarjournal.service.cli",
                        "klarjournal.models.cli"):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        module.register(commands)
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
