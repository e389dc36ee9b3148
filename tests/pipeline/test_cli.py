"""The `klarjournal translate` command as a user runs it."""

import json
import subprocess
import sys

import pytest

CLI = [sys.executable, "-m", "klarjournal.pipeline.cli"]


def run(args: list[str], stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*CLI, *args], input=stdin, capture_output=True, timeout=120)


def test_cli_translates_stdin_to_patient_text():
    result = run(["translate", "-", "--no-model"],
                 "Pt. indlagt med dyspnø. BT 145/90.".encode())
    assert result.returncode == 0
    assert result.stdout.decode().strip() == "Patienten indlagt med åndenød. Blodtryk 145/90."


def test_cli_json_prints_the_contract_object():
    result = run(["translate", "-", "--json", "--no-model"], "Obs. pneumoni.".encode())
    data = json.loads(result.stdout)
    assert {"id", "original", "plain", "spans", "sections", "unresolved", "versions"} <= set(data)


@pytest.fixture()
def notes_file(tmp_path):
    path = tmp_path / "notes.jsonl"
    path.write_bytes(b'{"id": "n1", "text": "Pt. har dyspn\xc3\xb8."}\n'
                     b'{"id": "n2"}\n'
                     b'{"id": "n3", "text": "markoer \xff byte"}\n'
                     b'not json\n'
                     b'{"id": "n5", "text": "Obs. pneumoni."}\n')
    return path


def test_cli_stops_at_the_first_bad_line_naming_file_and_line(notes_file, tmp_path):
    result = run(["translate", str(notes_file), "-o", str(tmp_path / "out.jsonl"), "--no-model"])
    assert result.returncode == 2
    assert f"{notes_file}:2: field 'text' is missing" in result.stderr.decode()


def test_cli_skip_bad_translates_the_good_lines_and_lists_the_bad(notes_file, tmp_path):
    out = tmp_path / "out.jsonl"
    result = run(["translate", str(notes_file), "-o", str(out), "--skip-bad", "--no-model"])
    assert result.returncode == 1
    ids = [json.loads(line)["id"] for line in out.read_text("utf-8").splitlines()]
    assert ids == ["n1", "n5"]
    stderr = result.stderr.decode()
    for line, problem in [(2, "'text' is missing"), (3, "not valid UTF-8"), (4, "invalid JSON")]:
        assert f"{notes_file}:{line}:" in stderr and problem in stderr
    assert "markoer" not in stderr  # never note text in a message


def test_cli_lists_a_note_over_the_limit_as_bad_and_translates_the_rest(tmp_path):
    from klarjournal.pipeline import MAX_NOTE_CHARS

    notes = tmp_path / "notes.jsonl"
    notes.write_text(json.dumps({"id": "long", "text": "x" * (MAX_NOTE_CHARS + 1)}) + "\n"
                     + json.dumps({"id": "ok", "text": "Pt. har dyspnø."}) + "\n", "utf-8")
    out = tmp_path / "out.jsonl"
    result = run(["translate", str(notes), "-o", str(out), "--skip-bad", "--no-model"])
    assert result.returncode == 1
    assert [json.loads(line)["id"] for line in out.read_text("utf-8").splitlines()] == ["ok"]
    assert f"{notes}:1: field 'text' has {MAX_NOTE_CHARS + 1} characters" in result.stderr.decode()
