"""`klarjournal bench`: translation speed against a bare Aho-Corasick replacement floor.

Notes of about 150 words are built from the shipped corpus (synthetic notes), so the benchmark
needs no data of its own. Both passes use the same notes and the same lexicon; the floor only
finds lexicon surfaces and replaces them with the first lay reading, which is the least any
lexicon-based translator must do. Figures are printed, never asserted.
"""

import json
import random
import resource
import statistics
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import ahocorasick

from klarjournal.lexicon import Lexicon, load_lexicon
from klarjournal.pipeline.translator import Translator, freeze_loaded_heap, load_translator


def corpus_notes() -> list[str]:
    folder = Path(str(resources.files("klarjournal.evaluation") / "corpus"))
    texts = []
    for path in sorted(folder.glob("*.jsonl")):
        texts += [json.loads(line)["text"] for line in path.read_text("utf-8").splitlines()
                  if line.strip()]
    return texts


def make_notes(count: int, words: int, seed: int) -> list[str]:
    """``count`` notes of about ``words`` words, each stitched from the lines of random corpus
    notes and cut at the line that brings it nearest to ``words`` (whole notes overshoot)."""
    pool, rng, notes = corpus_notes(), random.Random(seed), []
    if not pool:
        raise RuntimeError("no corpus notes found to build benchmark notes from")
    for _ in range(count):
        lines: list[str] = []
        total = 0
        while total < words:
            for line in rng.choice(pool).splitlines():
                size = len(line.split())
                if lines and total + size > words and words - total < total + size - words:
                    break
                lines.append(line)
                total += size
                if total >= words:
                    break
            else:
                continue
            break
        notes.append("\n".join(lines))
    return notes


def aho_corasick_floor(lexicon: Lexicon) -> Callable[[str], str]:
    automaton = ahocorasick.Automaton()
    for entry in lexicon.entries:
        lay = entry.all_senses()[0].lay[0].text
        for surface in entry.surfaces:
            automaton.add_word(surface.lower(), (len(surface), lay))
    automaton.make_automaton()

    def replace(text: str) -> str:
        lowered, pieces, position = text.lower(), [], 0
        for end, (length, lay) in automaton.iter_long(lowered):
            start = end - length + 1
            before = lowered[start - 1] if start else " "
            after = lowered[end + 1] if end + 1 < len(lowered) else " "
            if start < position or before.isalnum() or after.isalnum():
                continue
            pieces += [text[position:start], lay]
            position = end + 1
        return "".join(pieces) + text[position:]

    return replace


def _measure(name: str, notes: list[str], run: Callable[[str], Any]) -> dict[str, Any]:
    """One note at a time: throughput, latency and CPU time (the machine may be shared)."""
    timings = []
    started, cpu_started = time.perf_counter(), time.process_time()
    for note in notes:
        t0 = time.perf_counter()
        run(note)
        timings.append((time.perf_counter() - t0) * 1000)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    words = sum(len(n.split()) for n in notes)
    ordered = sorted(timings)
    return {"name": name, "notes_per_s": len(notes) / elapsed, "words_per_s": words / elapsed,
            "cpu_notes_per_s": len(notes) / cpu,
            "p50_ms": statistics.median(ordered), "p95_ms": ordered[int(0.95 * (len(ordered) - 1))]}


def _measure_batch(name: str, notes: list[str],
                   run: Callable[[list[str]], Any]) -> dict[str, Any]:
    """All notes in one call (no per-note latency)."""
    started, cpu_started = time.perf_counter(), time.process_time()
    run(notes)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    words = sum(len(n.split()) for n in notes)
    return {"name": name, "notes_per_s": len(notes) / elapsed, "words_per_s": words / elapsed,
            "cpu_notes_per_s": len(notes) / cpu, "p50_ms": None, "p95_ms": None}


def component_shares(translator: Translator, notes: list[str]) -> dict[str, float]:
    """Share of pipeline time per component (tokenizer included), on the same notes."""
    spent: dict[str, float] = {"tokenizer": 0.0}
    for note in notes:
        t0 = time.perf_counter()
        doc = translator.nlp.make_doc(note)
        spent["tokenizer"] += time.perf_counter() - t0
        for name, component in translator.nlp.pipeline:
            t0 = time.perf_counter()
            doc = component(doc)
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - t0
    total = sum(spent.values()) or 1.0
    return {name: value / total for name, value in spent.items()}


def run_bench(count: int = 1000, words: int = 150, seed: int = 7,
              use_model: bool = False) -> dict[str, Any]:
    """Cold: the first pass over the notes, one at a time, with the per-word caches empty
    (only one note translated before). Warm: the same notes again, one at a time and then in one
    ``translate_many`` batch, as a service sees words it has seen before. The floor is measured
    the same way in the same run, so the ratio holds on a busy machine."""
    notes = make_notes(count, words, seed)
    translator = load_translator(use_model=use_model)
    floor = aho_corasick_floor(load_lexicon())
    freeze_loaded_heap()  # as the CLI and the service do after loading
    translator.translate(notes[0])  # first-call set-up (not the caches of the other notes)
    cold = _measure("klarjournal cold", notes, translator.translate)
    warm = _measure("klarjournal warm", notes, translator.translate)
    batched = _measure_batch("klarjournal warm batch", notes, translator.translate_many)
    floor(notes[0])
    baseline = _measure("aho-corasick floor", notes, floor)
    return {
        "notes": count, "words_per_note": statistics.mean(len(n.split()) for n in notes),
        "system": cold, "system_warm": warm, "system_batched": batched,
        "system_batched_notes_per_s": batched["notes_per_s"], "floor": baseline,
        "floor_over_system": baseline["notes_per_s"] / cold["notes_per_s"],
        "floor_over_warm": baseline["notes_per_s"] / warm["notes_per_s"],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "component_shares": component_shares(translator, notes[:200]),
        "model": translator.versions["model"], "lexicon": translator.versions["lexicon"],
    }


def format_report(result: dict[str, Any]) -> str:
    lines = [f"{result['notes']} notes, {result['words_per_note']:.0f} words each on average; "
             f"lexicon {result['lexicon']}, model {result['model']}",
             f"{'':24}{'notes/s':>9}{'words/s':>10}{'p50 ms':>8}{'p95 ms':>8}"
             f"{'cpu notes/s':>13}"]
    for row in (result["system"], result["system_warm"], result["system_batched"],
                result["floor"]):
        latency = (f"{row['p50_ms']:8.2f}{row['p95_ms']:8.2f}" if row["p50_ms"] is not None
                   else f"{'-':>8}{'-':>8}")
        lines.append(f"{row['name']:24}{row['notes_per_s']:9.0f}{row['words_per_s']:10.0f}"
                     f"{latency}{row['cpu_notes_per_s']:13.0f}")
    lines.append(f"the floor is {result['floor_over_system']:.1f}x faster than cold, "
                 f"{result['floor_over_warm']:.1f}x than warm; "
                 f"peak RSS {result['peak_rss_mb']:.0f} MB")
    lines.append("where the time goes: " + ", ".join(
        f"{name} {share:.0%}" for name, share in
        sorted(result["component_shares"].items(), key=lambda kv: -kv[1])))
    return "\n".join(lines)
