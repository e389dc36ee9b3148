"""``klarjournal evaluate``: score the system and its baselines on an annotated corpus.

Exit codes: 0 every line was scored; 1 some lines were bad (reported on stderr, the rest scored);
2 the input is unusable (cannot be read, not UTF-8, or no usable line).
"""

import argparse
import json
import sys
from typing import Any

from klarjournal.evaluation.corpus_io import Corpus, LineError, read_corpus_file

EXIT_OK, EXIT_BAD_LINES, EXIT_UNUSABLE = 0, 1, 2
MAX_REPORTED_LINES = 50


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "evaluate", help="score klarjournal and its baselines on an annotated corpus",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", metavar="CORPUS",
                        help="JSON Lines of annotated notes or sense-labelled lines; - = stdin")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--report", metavar="DIR",
                        help="write DIR/index.html (with plots) and DIR/results.json")
    parser.add_argument("--errors", type=int, default=0, metavar="N",
                        help="list the first N misses, wrong readings and fidelity losses")
    parser.add_argument("--lexicon", action="append", default=[], metavar="EXTRA.jsonl",
                        help="hospital overlay entries; later files win (repeatable)")
    parser.add_argument("--no-model", action="store_true",
                        help="evaluate with the context model switched off")
    parser.add_argument("--model", metavar="PATH", help="context model to load")
    parser.add_argument("--predictions", metavar="OUT.jsonl",
                        help="score these translations (from `klarjournal translate -o`) "
                             "instead of running the pipeline")
    parser.add_argument("--senses", metavar="FILE",
                        help="also evaluate sense choice on a sense-labelled file")
    parser.add_argument("--bootstrap", type=int, default=1000, metavar="N",
                        help="bootstrap resamples over notes for the intervals (0: none)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    parser.add_argument("--markdown", action="store_true",
                        help="print the score table as Markdown (for the README)")
    parser.add_argument("--update-readme", metavar="README.md",
                        help="replace the README's score table between its evaluate markers")
    parser.set_defaults(handler=run)


def _read(path: str, label: str) -> Corpus | None:
    try:
        corpus = read_corpus_file(path)
    except OSError as exc:
        print(f"klarjournal evaluate: cannot read {label}: {exc.strerror or exc}", file=sys.stderr)
        return None
    except UnicodeDecodeError:
        print(f"klarjournal evaluate: {label} is not valid UTF-8", file=sys.stderr)
        return None
    _report_bad_lines(corpus.errors, label)
    return corpus


def _report_bad_lines(errors: list[LineError], label: str) -> None:
    for error in errors[:MAX_REPORTED_LINES]:
        print(f"klarjournal evaluate: {label} {error}", file=sys.stderr)
    if len(errors) > MAX_REPORTED_LINES:
        print(f"klarjournal evaluate: {label}: {len(errors) - MAX_REPORTED_LINES} more bad lines",
              file=sys.stderr)


def _read_predictions(path: str) -> tuple[dict[str, dict[str, Any]], bool] | None:
    """Translation objects by id, and whether any line was bad; None if unreadable."""
    try:
        with open(path, encoding="utf-8-sig") as handle:
            lines = handle.read().split("\n")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"klarjournal evaluate: cannot read {path}: {type(exc).__name__}", file=sys.stderr)
        return None
    found: dict[str, dict[str, Any]] = {}
    bad = False
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            record = exc.msg
        if not isinstance(record, dict) or not isinstance(record.get("id"), str):
            print(f"klarjournal evaluate: {path} line {number}: not a translation object with "
                  "an id", file=sys.stderr)
            bad = True
            continue
        found[record["id"]] = record
    return found, bad


def _sense_report(corpus: Corpus, args: argparse.Namespace) -> dict[str, Any]:
    from klarjournal.evaluation import runner
    from klarjournal.evaluation.senses_eval import baseline_choices, evaluate_senses, \
        pipeline_choices
    from klarjournal.lexicon import load_lexicon

    translator, no_model = runner.load_translators(args.lexicon, args.model,
                                                   use_model=not args.no_model)
    choices = {f"{runner.PRIMARY} (model {translator.model_status})":
               pipeline_choices(corpus.senses, translator.translate_many)}
    if no_model is not None:
        choices[runner.NO_MODEL] = pipeline_choices(corpus.senses, no_model.translate_many)
    lexicon = load_lexicon(overlays=args.lexicon)
    choices.update(baseline_choices(corpus.senses, lexicon))
    return evaluate_senses(corpus.senses, choices, lexicon).to_dict()


def _print_senses(report: dict[str, Any]) -> None:
    from klarjournal.evaluation.report import fmt

    print(f"\nsense choice on {report['items']} labelled occurrences:")
    width = max(len(name) for name in report["systems"])
    print(f"{'':<{width}}  accuracy  abstention  answered accuracy")
    for name, s in report["systems"].items():
        print(f"{name:<{width}}  {fmt(s['accuracy']):>8}  {fmt(s['abstention']):>10}  "
              f"{fmt(s['answered_accuracy']):>17}")
    if report["items_without_entry"]:
        print(f"{len(report['items_without_entry'])} items match no ambiguous lexicon entry")


def run(args: argparse.Namespace) -> int:
    corpus = _read(args.corpus, "corpus" if args.corpus == "-" else args.corpus)
    if corpus is None:
        return EXIT_UNUSABLE
    senses = corpus if corpus.shape == "senses" else None
    if args.senses:
        senses = _read(args.senses, args.senses)
        if senses is None:
            return EXIT_UNUSABLE
    bad = bool(corpus.errors) or (senses is not None and bool(senses.errors))
    if not corpus.notes and not (senses and senses.senses):
        print("klarjournal evaluate: no usable line to score", file=sys.stderr)
        return EXIT_UNUSABLE

    recorded = None
    if args.predictions:
        read = _read_predictions(args.predictions)
        if read is None:
            return EXIT_UNUSABLE
        recorded, bad_predictions = read
        bad = bad or bad_predictions
    sense_report = _sense_report(senses, args) if senses and senses.senses else None
    if corpus.notes:
        _evaluate_notes(corpus, args, sense_report, recorded)
    elif sense_report is not None:
        if args.report or args.markdown or args.update_readme:
            print("klarjournal evaluate: --report, --markdown and --update-readme need an "
                  "annotated corpus; showing sense scores only", file=sys.stderr)
        if args.json:
            print(json.dumps({"senses": sense_report}, ensure_ascii=False, indent=2))
        else:
            _print_senses(sense_report)
    return EXIT_BAD_LINES if bad else EXIT_OK


def _evaluate_notes(corpus: Corpus, args: argparse.Namespace,
                    sense_report: dict[str, Any] | None,
                    recorded: dict[str, dict[str, Any]] | None) -> None:
    from klarjournal.evaluation.report import errors_report, markdown_table, ordered_errors, \
        terminal_report, write_readme_scores, write_report
    from klarjournal.evaluation import runner

    systems, versions = runner.build_systems(args.lexicon, args.model,
                                             use_model=not args.no_model, recorded=recorded)
    options = {"corpus": args.corpus, "predictions": args.predictions,
               "lexicon_overlays": args.lexicon,
               "use_model": not args.no_model, "model_path": args.model,
               "senses": args.senses, "bootstrap": args.bootstrap, "seed": args.seed}
    evaluation = runner.evaluate(corpus.notes, systems, primary=runner.PRIMARY,
                                 resamples=args.bootstrap, seed=args.seed, progress=True,
                                 line_errors=corpus.errors, versions=versions, options=options)
    if args.json:
        data = evaluation.to_dict()
        if args.errors:
            data["error_cases"] = [vars(e) for e in ordered_errors(evaluation.results.errors)
                                   [:args.errors]]
        if sense_report is not None:
            data["senses"] = sense_report
        print(json.dumps(data, ensure_ascii=False, indent=2))
    elif args.markdown:
        print(markdown_table(evaluation))
    else:
        print(terminal_report(evaluation))
        if args.errors:
            print(f"\nfirst {args.errors} errors:")
            print(errors_report(evaluation.results.errors, args.errors))
        if sense_report is not None:
            _print_senses(sense_report)
    if args.update_readme:
        write_readme_scores(args.update_readme, markdown_table(evaluation))
    if args.report:
        page, data_path = write_report(evaluation, args.report, senses=sense_report)
        print(f"report: {page} and {data_path}", file=sys.stderr)
