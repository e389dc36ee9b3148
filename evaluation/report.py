"""Render an Evaluation: terminal table, error listing, Markdown for the README, HTML report.

The HTML page is self-contained (plots are base64 PNG, styles inline) and every piece of text in
it is escaped: note text, ids and surfaces come from files we do not control.
"""

import base64
import html
import io
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from klarjournal.evaluation.metrics import ERROR_TYPES, ErrorCase
from klarjournal.evaluation.baselines import UNTOUCHED
from klarjournal.evaluation.runner import DESCRIPTIONS, Evaluation

ROWS: tuple[tuple[str, str, bool], ...] = (
    # figure, label, higher is better
    ("precision", "detection precision", True),
    ("recall", "detection recall", True),
    ("f1", "detection F1", True),
    ("expansion_accuracy", "expansion accuracy", True),
    ("end_to_end_accuracy", "end-to-end accuracy", True),
    ("keep", "fidelity: keep", True),
    ("negation", "fidelity: negation", True),
    ("lix_original", "LIX original", False),
    ("lix_plain", "LIX patient text", False),
    ("rare_original", "rare words original", False),
    ("rare_plain", "rare words patient text", False),
    ("jargon_left", "jargon left verbatim", False),
)
ERROR_ORDER = ("missed", "wrong_reading", "negation_lost", "keep_lost", "false_positive")
README_START = "<!-- klarjournal-evaluate:start -->"
README_END = "<!-- klarjournal-evaluate:end -->"


def fmt(value: float | None, figure: str = "") -> str:
    if value is None:
        return "—"
    return f"{value:.1f}" if figure.startswith("lix") else f"{value:.3f}"


def fmt_ci(interval: Sequence[float] | None, figure: str = "") -> str:
    if interval is None:
        return "—"
    return f"[{fmt(interval[0], figure)}, {fmt(interval[1], figure)}]"


def fmt_diff(value: float | None, figure: str) -> str:
    if value is None:
        return ""
    return f"({value:+.1f})" if figure.startswith("lix") else f"({value:+.3f})"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    rows = [list(r) for r in rows]
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
              for r in rows]
    return "\n".join(lines)


def main_rows(evaluation: Evaluation) -> tuple[list[str], list[list[str]]]:
    """Header and rows: figure, system, its CI, then each baseline with system - baseline."""
    primary = evaluation.results.figures
    ci = evaluation.bootstrap.intervals[evaluation.primary]
    others = [name for name in evaluation.systems if name != evaluation.primary]
    level = round(evaluation.bootstrap.level * 100)
    header = ["", evaluation.primary, f"{level}% CI", *others]
    rows = []
    for figure, label, _ in ROWS:
        row = [label, fmt(primary[figure], figure), fmt_ci(ci[figure], figure)]
        for name in others:
            value = evaluation.systems[name].figures[figure]
            diff = None if value is None or primary[figure] is None else primary[figure] - value
            row.append(f"{fmt(value, figure)} {fmt_diff(diff, figure)}".strip())
        rows.append(row)
    return header, rows


def _breakdown_rows(groups: dict[str, dict[str, Any]]) -> list[list[str]]:
    return [[name, str(g.get("notes", g.get("gold_spans", ""))),
             *(fmt(g[f]) for f in ("precision", "recall", "expansion_accuracy",
                                   "end_to_end_accuracy"))]
            for name, g in groups.items()]


def terminal_report(evaluation: Evaluation) -> str:
    results = evaluation.results
    counts = results.counts
    parts = [
        f"{len(results.notes)} notes, {counts['gold']} gold spans, "
        f"{len(evaluation.line_errors)} bad lines; model: "
        f"{evaluation.versions.get('model_status', 'n/a')}",
        "",
        _table(*main_rows(evaluation)),
        "(baseline columns: value (system minus baseline))",
    ]
    results_header = ["", "n", "precision", "recall", "expansion", "end-to-end"]
    for title, groups in (("specialty", results.by_specialty),
                          ("note type", results.by_note_type)):
        parts += ["", f"by {title}:", _table(results_header, _breakdown_rows(groups))]
    kind_header = ["", "gold", "precision", "recall", "expansion", "end-to-end"]
    parts += ["", "by kind:", _table(kind_header, _breakdown_rows(results.by_kind))]
    unresolved = results.unresolved
    parts += ["", f"unresolved: {unresolved['total']} in {unresolved['notes']} notes"
              + (": " + ", ".join(f"{s} ({n})" for s, n in unresolved["most_common"][:10])
                 if unresolved["most_common"] else "")]
    error_counts = Counter(e.type for e in results.errors)
    parts.append("errors: " + ", ".join(f"{t} {error_counts.get(t, 0)}" for t in ERROR_ORDER))
    for name, ids in evaluation.failures.items():
        parts.append(f"{name} failed on {len(ids)} notes: {', '.join(ids[:10])}")
    if counts["contract_violations"]:
        parts.append(f"contract violations (span offsets): {counts['contract_violations']}")
    return "\n".join(parts)


def ordered_errors(errors: Iterable[ErrorCase]) -> list[ErrorCase]:
    """Misses and wrong readings first, then fidelity losses, then false alarms."""
    rank = {t: i for i, t in enumerate(ERROR_ORDER)}
    return sorted(errors, key=lambda e: (rank.get(e.type, len(rank)), e.note_id, e.start))


def errors_report(errors: Iterable[ErrorCase], limit: int) -> str:
    chosen = ordered_errors(errors)[:limit]
    lines = []
    for e in chosen:
        expected = " / ".join(e.expected) if e.expected else ""
        head = f"{e.type:<15} {e.note_id}  {e.surface!r}" + (f" ({e.kind})" if e.kind else "")
        detail = []
        if expected:
            detail.append(f"expected: {expected}")
        if e.got is not None:
            detail.append(f"got: {e.got}")
        lines.append(head + ("  " + "; ".join(detail) if detail else ""))
        lines.append("    " + e.context.replace("\n", " ⏎ "))
    return "\n".join(lines)


def markdown_table(evaluation: Evaluation) -> str:
    header, rows = main_rows(evaluation)
    header = ["figure", *[DESCRIPTIONS.get(h, h) if h in evaluation.systems else h
                          for h in header[1:]]]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    results = evaluation.results
    lines.append("")
    lines.append(f"{len(results.notes)} notes, {results.counts['gold']} annotated spans; "
                 f"{evaluation.bootstrap.resamples} bootstrap resamples over notes "
                 f"(seed {evaluation.bootstrap.seed}). Baseline columns show the value and, in "
                 "brackets, klarjournal minus that baseline. Regenerate with "
                 "`klarjournal evaluate evaluation/corpus/test.jsonl --update-readme README.md`.")
    return "\n".join(lines)


def write_readme_scores(readme: str | Path, markdown: str) -> None:
    """Replace the text between the README's evaluate markers with ``markdown``."""
    path = Path(readme)
    text = path.read_text("utf-8")
    pattern = re.compile(re.escape(README_START) + r".*?" + re.escape(README_END), re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"{path}: no {README_START} ... {README_END} markers")
    block = f"{README_START}\n{markdown}\n{README_END}"
    path.write_text(pattern.sub(lambda _: block, text, count=1), "utf-8")


# ---------------------------------------------------------------- HTML and plots

def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _bar_groups(ax: Any, labels: Sequence[str], series: dict[str, Sequence[float | None]],
                ylabel: str) -> None:
    width = 0.8 / max(1, len(series))
    for i, (name, values) in enumerate(series.items()):
        xs = [x + i * width for x in range(len(labels))]
        ax.bar(xs, [v if v is not None else 0 for v in values], width, label=name)
    ax.set_xticks([x + width * (len(series) - 1) / 2 for x in range(len(labels))])
    ax.set_xticklabels(labels, rotation=30, ha="right")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="small")


def plots(evaluation: Evaluation) -> dict[str, str]:
    """Base64 PNGs: scores per specialty, readability before/after, where errors fall."""
    # Figure without pyplot: no global state, no GUI backend; imported late to keep the CLI quick.
    from matplotlib.figure import Figure

    results = evaluation.results
    out = {}

    specialties = list(results.by_specialty)
    fig = Figure(figsize=(max(6, 1.1 * len(specialties) + 2), 4))
    ax = fig.subplots()
    _bar_groups(ax, specialties, {
        label: [results.by_specialty[s][figure] for s in specialties]
        for figure, label in (("f1", "detection F1"), ("expansion_accuracy", "expansion acc."),
                              ("end_to_end_accuracy", "end-to-end acc."))}, "score")
    ax.set_ylim(0, 1.05)
    ax.set_title(f"{evaluation.primary}: scores per specialty")
    out["specialty"] = _png(fig)

    # The untouched baseline's patient text is the original: one "original" bar stands for both.
    names = [n for n in evaluation.systems if n != UNTOUCHED]
    fig = Figure(figsize=(10, 4))
    lix_ax, rare_ax = fig.subplots(1, 2)
    labels = ["original", *names]
    for ax, figure, title, colour in ((lix_ax, "lix", "LIX (lower is easier)", "tab:blue"),
                                      (rare_ax, "rare", "share of rare words", "tab:orange")):
        values = [results.figures[f"{figure}_original"]] + [
            evaluation.systems[n].figures[f"{figure}_plain"] for n in names]
        ax.bar(labels, [v or 0 for v in values], color=colour)
        ax.set_title(title)
        ax.tick_params(axis="x", rotation=30)
    out["readability"] = _png(fig)

    groups_wide = max(len(results.by_specialty), 4)
    fig = Figure(figsize=(max(8, 0.7 * groups_wide + 3), 8), layout="constrained")
    by_specialty, by_kind = fig.subplots(2, 1)
    for ax, key, title in ((by_specialty, "specialty", "errors per specialty"),
                           (by_kind, "kind", "errors per kind of span (none: keep/negation)")):
        tally: dict[str, Counter[str]] = {}
        for error in results.errors:
            group = getattr(error, key) or "(none)"
            tally.setdefault(error.type, Counter())[group] += 1
        groups = sorted({g for c in tally.values() for g in c})
        bottom = [0] * len(groups)
        for error_type in ERROR_TYPES:
            values = [tally.get(error_type, Counter())[g] for g in groups]
            if any(values):
                ax.bar(groups, values, bottom=bottom, label=error_type)
                bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        ax.set_title(title)
        ax.set_xticks(range(len(groups)), groups, rotation=35, ha="right")
        if groups:
            ax.legend(fontsize="small")
    out["errors"] = _png(fig)
    return out


def _html_table(header: Sequence[str], rows: Iterable[Sequence[Any]],
                monospace: Sequence[int] = ()) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(
            f"<td{' class=ctx' if i in monospace else ''}>{html.escape(str(c))}</td>"
            for i, c in enumerate(row)) + "</tr>"
        for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:14px}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f2f2f2} img{max-width:100%} code,.ctx{font-family:monospace}
.ctx{white-space:pre-wrap}
"""


def html_report(evaluation: Evaluation, *, senses: dict[str, Any] | None = None,
                error_limit: int = 200) -> str:
    results = evaluation.results
    images = plots(evaluation)
    header, rows = main_rows(evaluation)
    results_header = ["", "n", "precision", "recall", "expansion", "end-to-end"]
    kind_header = ["", "gold", "precision", "recall", "expansion", "end-to-end"]
    errors = ordered_errors(results.errors)[:error_limit]
    error_rows = [[e.type, e.note_id, e.kind or "", e.surface, " / ".join(e.expected),
                   "" if e.got is None else e.got, e.context] for e in errors]
    versions = json.dumps(evaluation.versions, ensure_ascii=False, indent=1)
    options = json.dumps(evaluation.options, ensure_ascii=False, indent=1)
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>klarjournal evaluation</title>", f"<style>{STYLE}</style></head><body>",
        "<h1>klarjournal evaluation</h1>",
        f"<p>{len(results.notes)} notes, {results.counts['gold']} annotated spans, "
        f"{len(evaluation.line_errors)} bad lines. Intervals: "
        f"{evaluation.bootstrap.resamples} bootstrap resamples over notes, seed "
        f"{evaluation.bootstrap.seed}.</p>",
        "<h2>Scores</h2>",
        "<p>Baseline columns give the baseline's value and, in brackets, "
        f"{html.escape(evaluation.primary)} minus the baseline.</p>",
        _html_table(header, rows),
        _html_table(["system", "what it is"],
                    [[n, DESCRIPTIONS.get(n, n)] for n in evaluation.systems]),
        "<h2>Per specialty</h2>", f"<img alt='scores per specialty' "
        f"src='data:image/png;base64,{images['specialty']}'>",
        _html_table(results_header, _breakdown_rows(results.by_specialty)),
        "<h2>Per note type</h2>",
        _html_table(results_header, _breakdown_rows(results.by_note_type)),
        "<h2>Per kind of span</h2>",
        _html_table(kind_header, _breakdown_rows(results.by_kind)),
        "<h2>Readability before and after</h2>", f"<img alt='readability' "
        f"src='data:image/png;base64,{images['readability']}'>",
        "<h2>Where the errors fall</h2>", f"<img alt='errors' "
        f"src='data:image/png;base64,{images['errors']}'>",
        f"<p>Unresolved: {results.unresolved['total']} in {results.unresolved['notes']} notes.</p>",
        _html_table(["unresolved surface", "count"], results.unresolved["most_common"]),
        f"<h2>Errors (first {len(errors)} of {len(results.errors)})</h2>",
        _html_table(["type", "note", "kind", "surface", "expected", "got", "context"],
                    error_rows, monospace=(6,)),
    ]
    if senses is not None:
        parts += [f"<h2>Sense choice ({senses['items']} labelled occurrences)</h2>",
                  _html_table(["system", "accuracy", "abstention", "answered accuracy"],
                              [[name, fmt(s["accuracy"]), fmt(s["abstention"]),
                                fmt(s["answered_accuracy"])]
                               for name, s in senses["systems"].items()])]
    if evaluation.failures:
        parts += ["<h2>Notes a system failed on</h2>",
                  _html_table(["system", "note ids"],
                              [[n, ", ".join(ids)] for n, ids in evaluation.failures.items()])]
    if evaluation.line_errors:
        parts += ["<h2>Bad lines (not scored)</h2>",
                  _html_table(["line", "id", "reason"],
                              [[e.line, e.id or "", e.reason] for e in evaluation.line_errors])]
    parts += ["<h2>Provenance</h2>", f"<pre>{html.escape(versions)}</pre>",
              f"<pre>{html.escape(options)}</pre>", "</body></html>"]
    return "\n".join(parts)


def write_report(evaluation: Evaluation, directory: str | Path, *,
                 senses: dict[str, Any] | None = None) -> tuple[Path, Path]:
    """``index.html`` and ``results.json`` in ``directory`` (created if missing)."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    page, data = out / "index.html", out / "results.json"
    page.write_text(html_report(evaluation, senses=senses), "utf-8")
    record = evaluation.to_dict()
    if senses is not None:
        record["senses"] = senses
    data.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", "utf-8")
    return page, data
