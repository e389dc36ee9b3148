import argparse
import io
import json

import pytest

import klarjournal.lexicon
from klarjournal.evaluation import cli, runner
from klarjournal.evaluation.baselines import untouched
from klarjournal.lexicon import Entry, Lexicon

TEXT = "BT 145/90. Ingen tegn på DVT."
GOOD = {"id": "n1", "specialty": "kardiologi", "text": TEXT,
        "annotations": [{"start": 0, "end": 2, "surface": "BT", "kind": "abbreviation",
                         "expansion": "blodtryk", "lay": ["blodtryk"]}],
        "keep": ["145/90"], "negated": ["DVT"]}


class FakeTranslator:
    model_status = "degraded"
    versions = {"klarjournal": "0.1.0", "lexicon": "L", "model": "none"}

    def translate_many(self, texts, note_ids=None, specialties=None):
        out = []
        for text, note_id in zip(texts, note_ids, strict=True):
            result = untouched(text, note_id)
            if text.startswith("BT"):
                result["plain"] = "blodtryk" + text[2:]
                result["spans"] = [{"start": 0, "end": 2, "surface": "BT", "kind": "abbreviation",
                                    "expansion": "blodtryk", "plain": "blodtryk",
                                    "plain_start": 0, "plain_end": 8, "negated": False}]
            if "MS" in text:
                start = text.index("MS")
                result["spans"] = [{"start": start, "end": start + 2, "surface": "MS",
                                    "sense": "ms.multipel-sklerose", "low_confidence": False}]
            out.append(result)
        return out


MS = Entry.model_validate({
    "id": "ms", "kind": "abbreviation", "surfaces": ["MS"], "case_sensitive": True,
    "specialty": "almen", "source": "test", "senses": [
        {"id": "ms.multipel-sklerose", "expansion": "multipel sklerose",
         "lay": [{"text": "sklerose"}], "cues": ["attak"]},
        {"id": "ms.mitralstenose", "expansion": "mitralstenose", "lay": [{"text": "klapfejl"}],
         "cues": ["ekko"]}]})
LEXICON = Lexicon(entries=(MS,), morphemes=(), context_rules=(), sections=(), sources=(),
                  allowed_lay_words=frozenset(), files=(), content_hash="0" * 64)


@pytest.fixture(autouse=True)
def fake_pipeline(monkeypatch):
    # Hermetic: neither the spaCy pipeline nor the shipped lexicon (others edit it meanwhile).
    monkeypatch.setattr(klarjournal.lexicon, "load_lexicon", lambda *a, **k: LEXICON)
    monkeypatch.setattr(runner, "load_translators", lambda *a, **k: (FakeTranslator(), None))


def run(argv):
    parser = argparse.ArgumentParser(prog="klarjournal")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["evaluate", *argv])
    return args.handler(args)


def write(tmp_path, lines, name="corpus.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return str(path)


def test_json_output_and_exit_zero(tmp_path, capsys):
    code = run([write(tmp_path, [json.dumps(GOOD)]), "--json", "--bootstrap", "20",
                "--errors", "5"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert data["detection"]["recall"] == 1.0 and data["fidelity"]["negation"] == 1.0
    assert data["baselines"]["untouched"]["detection"]["recall"] == 0.0
    assert data["error_cases"] == []
    assert data["options"]["bootstrap"] == 20


def test_bad_lines_are_reported_on_stderr_and_exit_one(tmp_path, capsys):
    bad = {**GOOD, "id": "n2", "annotations": [{**GOOD["annotations"][0], "end": 3}]}
    code = run([write(tmp_path, [json.dumps(GOOD), json.dumps(bad), "{oops"])])
    out, err = capsys.readouterr()
    assert code == 1
    assert "line 2 (id 'n2'): annotations[0]: text[0:3] does not equal the surface" in err
    assert "line 3: invalid JSON" in err
    assert TEXT not in err and "BT 1" not in err
    assert "1 notes" in out and "2 bad lines" in out


@pytest.mark.parametrize("content", [b"", b"\n\n", b"{oops\n", b"\xff\xfe bad"])
def test_unusable_input_exits_two(tmp_path, content):
    path = tmp_path / "c.jsonl"
    path.write_bytes(content)
    assert run([str(path)]) == 2


def test_a_missing_file_exits_two(tmp_path, capsys):
    assert run([str(tmp_path / "nope.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_stdin_is_read_for_dash(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(GOOD) + "\n"))
    assert run(["-", "--markdown", "--bootstrap", "0"]) == 0
    assert capsys.readouterr().out.startswith("| figure |")


def test_report_directory_and_readme(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text("<!-- klarjournal-evaluate:start -->\n<!-- klarjournal-evaluate:end -->\n",
                      "utf-8")
    code = run([write(tmp_path, [json.dumps(GOOD)]), "--report", str(tmp_path / "out"),
                "--bootstrap", "10", "--update-readme", str(readme)])
    assert code == 0
    assert (tmp_path / "out" / "index.html").exists()
    assert json.loads((tmp_path / "out" / "results.json").read_text("utf-8"))["notes"] == 1
    assert "| detection recall |" in readme.read_text("utf-8")


SENSE = {"id": "s1", "text": "Kendt MS, nyt attak.", "start": 6, "end": 8, "surface": "MS",
         "sense": "ms.multipel-sklerose", "specialty": "neurologi", "section": None}


def test_a_sense_file_is_recognised_and_scored(tmp_path, capsys):
    code = run([write(tmp_path, [json.dumps(SENSE)]), "--json"])
    data = json.loads(capsys.readouterr().out)["senses"]
    assert code == 0 and data["items"] == 1
    assert data["systems"]["klarjournal (model degraded)"]["accuracy"] == 1.0
    assert set(data["systems"]) >= {"lexicon_default", "cue_logistic_regression"}


def test_senses_beside_a_corpus(tmp_path, capsys):
    corpus = write(tmp_path, [json.dumps(GOOD)])
    senses = write(tmp_path, [json.dumps(SENSE)], "senses.jsonl")
    assert run([corpus, "--senses", senses, "--bootstrap", "0"]) == 0
    assert "sense choice on 1 labelled occurrences" in capsys.readouterr().out


def test_recorded_predictions_are_scored_without_the_pipeline(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(runner, "load_translators", None)  # must not be called
    other = {**GOOD, "id": "n2"}
    corpus = write(tmp_path, [json.dumps(GOOD), json.dumps(other)])
    translation = FakeTranslator().translate_many([TEXT], ["n1"])[0]
    translation["versions"] = {"klarjournal": "9.9"}
    predictions = write(tmp_path, [json.dumps(translation), "[]"], "out.jsonl")
    code = run([corpus, "--predictions", predictions, "--json", "--bootstrap", "0"])
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert code == 1 and "out.jsonl line 2" in captured.err
    assert data["failed_notes"] == {"klarjournal": ["n2"]}
    assert data["detection"]["recall"] == 0.5
    assert data["versions"]["klarjournal"] == "9.9"
    assert data["versions"]["model_status"] == "recorded"
