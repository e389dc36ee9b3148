import json

import pytest

from klarjournal.evaluation.corpus_io import GoldNote, GoldSpan
from klarjournal.evaluation.metrics import ErrorCase
from klarjournal.evaluation.report import (
    README_END,
    README_START,
    errors_report,
    markdown_table,
    terminal_report,
    write_readme_scores,
    write_report,
)
from klarjournal.evaluation.runner import evaluate, untouched_system

TEXT = "<script>alert(1)</script> BT & DVT"
NOTE = GoldNote("n<1>", TEXT, (GoldSpan(27, 29, "BT", "abbreviation", "blodtryk", ("blodtryk",)),
                               GoldSpan(32, 35, "DVT", "abbreviation", "dyb venetrombose",
                                        ("blodprop",))),
                specialty="<b>kardio</b>", note_type="notat")


def system(texts, ids, _):
    text = texts[0]
    return [{"id": ids[0], "original": text, "plain": text.replace("BT", "blodtryk"),
             "spans": [{"start": 27, "end": 29, "surface": "BT", "kind": "abbreviation",
                        "expansion": "blodtryk", "plain": "blodtryk", "plain_start": 27,
                        "plain_end": 35, "negated": False}],
             "unresolved": [{"surface": "<DVT>"}]}]


@pytest.fixture(scope="module")
def evaluation():
    return evaluate([NOTE], {"klarjournal": system, "untouched": untouched_system},
                    primary="klarjournal", resamples=20,
                    versions={"klarjournal": "0.1.0", "lexicon": "L", "model": "none",
                              "commit": "abc"}, options={"bootstrap": 20})


def test_html_report_is_self_contained_escaped_and_has_the_plots(evaluation, tmp_path):
    page, data = write_report(evaluation, tmp_path / "out", senses={
        "items": 1, "systems": {"<x>": {"accuracy": 1.0, "abstention": 0.0,
                                        "answered_accuracy": 1.0}}})
    html = page.read_text("utf-8")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>kardio" not in html and "n&lt;1&gt;" in html
    assert html.count("data:image/png;base64,") == 3
    assert "src='http" not in html and "href=" not in html
    record = json.loads(data.read_text("utf-8"))
    assert record["versions"]["commit"] == "abc" and record["options"] == {"bootstrap": 20}
    assert record["senses"]["items"] == 1


def test_terminal_report_shows_system_baseline_and_difference(evaluation):
    text = terminal_report(evaluation)
    recall_line = next(line for line in text.splitlines() if line.startswith("detection recall"))
    assert "0.500" in recall_line and "0.000 (+0.500)" in recall_line
    assert "unresolved: 1 in 1 notes: <DVT> (1)" in text


def test_markdown_table_and_readme_update(evaluation, tmp_path):
    table = markdown_table(evaluation)
    assert table.splitlines()[0].startswith("| figure | klarjournal |")
    readme = tmp_path / "README.md"
    readme.write_text(f"# X\n\n{README_START}\nold\n{README_END}\n\nrest\n", "utf-8")
    write_readme_scores(readme, table)
    text = readme.read_text("utf-8")
    assert "old" not in text and table in text and text.endswith("rest\n")
    readme.write_text("no markers", "utf-8")
    with pytest.raises(ValueError, match="markers"):
        write_readme_scores(readme, table)


def case(type_, note_id, start):
    return ErrorCase(type_, note_id, None, "term", "x", start, start + 1, ("y",), None,
                     "a\n[[x]]")


def test_error_listing_puts_misses_and_wrong_readings_first_and_respects_the_limit():
    errors = [case("false_positive", "a", 0), case("wrong_reading", "b", 5),
              case("missed", "b", 9), case("missed", "a", 3)]
    listing = errors_report(errors, 3).splitlines()
    heads = [line.split()[0:2] for line in listing[::2]]
    assert heads == [["missed", "a"], ["missed", "b"], ["wrong_reading", "b"]]
    assert "a ⏎ [[x]]" in listing[1]
