"""Run the system and its baselines over a corpus, then score them all with the same rules.

A "system" here is any callable turning a batch of notes into translation dicts; the runner only
calls systems and hands their output to the pure scorer. A note a system fails on (an exception,
or an ``original`` that is not the input) is scored as left untouched and listed by id.
"""

import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from klarjournal.evaluation.baselines import DICTIONARY, UNTOUCHED, DictionaryBaseline, untouched
from klarjournal.evaluation.bootstrap import BootstrapResult, bootstrap
from klarjournal.evaluation.corpus_io import GoldNote, LineError
from klarjournal.evaluation.metrics import MAIN_FIGURES, Results, score, summary_dict

PRIMARY = "klarjournal"
NO_MODEL = "klarjournal_no_model"
DESCRIPTIONS = {
    PRIMARY: "klarjournal",
    NO_MODEL: "klarjournal without the context model",
    DICTIONARY: "exact-match dictionary with the same lexicon",
    UNTOUCHED: "the note as written",
}
BATCH = 32
PROGRESS_MIN_NOTES = 100

# texts, ids, specialties -> translation dicts (or objects with to_dict)
System = Callable[[list[str], list[str], list[str | None]], Sequence[Any]]


@dataclass(frozen=True)
class Evaluation:
    primary: str
    systems: dict[str, Results]
    bootstrap: BootstrapResult
    failures: dict[str, list[str]] = field(default_factory=dict)
    line_errors: tuple[LineError, ...] = ()
    versions: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def results(self) -> Results:
        return self.systems[self.primary]

    def to_dict(self) -> dict[str, Any]:
        """The primary system's scores at top level; baselines, intervals and provenance beside."""
        primary = self.results
        baselines = {}
        for name, results in self.systems.items():
            if name == self.primary:
                continue
            baselines[name] = {
                "description": DESCRIPTIONS.get(name, name),
                **summary_dict(results.counts, results.figures),
                "unresolved": results.unresolved,
                "ci": self.bootstrap.intervals[name],
                "system_minus_baseline": {
                    figure: _minus(primary.figures[figure], results.figures[figure])
                    for figure in MAIN_FIGURES},
                "system_minus_baseline_ci": self.bootstrap.differences[name],
            }
        return {
            "system": self.primary,
            **primary.to_dict(),
            "ci": self.bootstrap.intervals[self.primary],
            "bootstrap": {"resamples": self.bootstrap.resamples, "seed": self.bootstrap.seed,
                          "level": self.bootstrap.level, "unit": "note"},
            "baselines": baselines,
            "failed_notes": self.failures,
            "bad_lines": [{"line": e.line, "id": e.id, "reason": e.reason}
                          for e in self.line_errors],
            "versions": self.versions,
            "options": self.options,
        }


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _as_dict(item: Any) -> dict[str, Any]:
    return item.to_dict() if hasattr(item, "to_dict") else dict(item)


def run_system(system: System, notes: Sequence[GoldNote], *, label: str = "",
               progress: bool = False) -> tuple[list[dict[str, Any]], list[str]]:
    """Translation dicts for ``notes`` in order, and the ids of notes the system failed on."""
    predictions: list[dict[str, Any]] = []
    failed: list[str] = []
    bar = tqdm(total=len(notes), desc=label, unit="note", disable=not progress, leave=False)
    try:
        for first in range(0, len(notes), BATCH):
            batch = notes[first:first + BATCH]
            try:
                outputs = [_as_dict(t) for t in system([n.text for n in batch],
                                                       [n.id for n in batch],
                                                       [n.specialty for n in batch])]
            except Exception:  # retry one by one to isolate the note that broke the batch
                outputs = []
                for note in batch:
                    try:
                        outputs.append(_as_dict(system([note.text], [note.id],
                                                       [note.specialty])[0]))
                    except Exception:  # a crash on one note is a result, not the end of the run
                        outputs.append({})
            for note, output in zip(batch, outputs, strict=True):
                if output.get("original") != note.text or not isinstance(output.get("plain"), str):
                    failed.append(note.id)
                    output = untouched(note.text, note.id)
                predictions.append({**output, "id": note.id})
            bar.update(len(batch))
    finally:
        bar.close()
    return predictions, failed


def evaluate(notes: Sequence[GoldNote], systems: Mapping[str, System], *, primary: str,
             resamples: int = 1000, seed: int = 0, progress: bool = False,
             line_errors: Sequence[LineError] = (), versions: Mapping[str, Any] | None = None,
             options: Mapping[str, Any] | None = None) -> Evaluation:
    show = progress and len(notes) >= PROGRESS_MIN_NOTES
    scored: dict[str, Results] = {}
    failures: dict[str, list[str]] = {}
    for name, system in systems.items():
        predictions, failed = run_system(system, notes, label=name, progress=show)
        scored[name] = score(notes, predictions)
        if failed:
            failures[name] = failed
    intervals = bootstrap({name: r.notes for name, r in scored.items()}, primary,
                          resamples=resamples, seed=seed)
    return Evaluation(primary, scored, intervals, failures, tuple(line_errors),
                      dict(versions or {}), dict(options or {}))


def untouched_system(texts: list[str], ids: list[str], _: list[str | None]) -> list[dict]:
    return [untouched(text, note_id) for text, note_id in zip(texts, ids, strict=True)]


def translator_system(translator: Any) -> System:
    def run(texts: list[str], ids: list[str], specialties: list[str | None]) -> list[Any]:
        return translator.translate_many(texts, note_ids=ids, specialties=specialties)
    return run


def dictionary_system(baseline: DictionaryBaseline) -> System:
    def run(texts: list[str], ids: list[str], _: list[str | None]) -> list[dict]:
        return baseline.translate_many(texts, ids)
    return run


def recorded_system(translations: Mapping[str, Mapping[str, Any]]) -> System:
    """Translations made earlier (``klarjournal translate -o``), looked up by note id."""
    def run(texts: list[str], ids: list[str], _: list[str | None]) -> list[Mapping[str, Any]]:
        return [translations[note_id] for note_id in ids]  # a missing id fails that note
    return run


def git_commit() -> dict[str, Any]:
    """The checkout's commit and whether it had uncommitted changes; None outside a checkout."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=here, capture_output=True, text=True, timeout=10,
                               check=True).stdout.strip() != ""
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": dirty}


def load_translators(lexicon_overlays: Sequence[str] = (), model_path: str | None = None,
                     use_model: bool = True) -> tuple[Any, Any | None]:
    """The pipeline (slow: seconds) and, when its model is actually loaded, a model-off twin.

    Without a loaded model the twin would be the primary system again, so it is None.
    """
    from klarjournal.pipeline import load_translator

    translator = load_translator(lexicon_overlays=list(lexicon_overlays), model_path=model_path,
                                 use_model=use_model)
    no_model = None
    if use_model and translator.model_status == "loaded":
        no_model = load_translator(lexicon_overlays=list(lexicon_overlays), use_model=False)
    return translator, no_model


def build_systems(lexicon_overlays: Sequence[str] = (), model_path: str | None = None,
                  use_model: bool = True,
                  recorded: Mapping[str, Mapping[str, Any]] | None = None,
                  ) -> tuple[dict[str, System], dict[str, Any]]:
    """The system, its baselines, and the versions that produced them.

    With ``recorded`` translations the system is those (the pipeline is not built); their
    ``versions`` field says what produced them.
    """
    from klarjournal.lexicon import load_lexicon

    if recorded is not None:
        first = next(iter(recorded.values()), {})
        systems: dict[str, System] = {PRIMARY: recorded_system(recorded)}
        versions = {**dict(first.get("versions") or {}), "model_status": "recorded"}
    else:
        translator, no_model = load_translators(lexicon_overlays, model_path, use_model)
        systems = {PRIMARY: translator_system(translator)}
        if no_model is not None:
            systems[NO_MODEL] = translator_system(no_model)
        versions = {**translator.versions, "model_status": translator.model_status}
    lexicon = load_lexicon(overlays=list(lexicon_overlays))
    systems[DICTIONARY] = dictionary_system(DictionaryBaseline(lexicon))
    systems[UNTOUCHED] = untouched_system
    return systems, {**versions, "baseline_lexicon": lexicon.version, **git_commit()}
