"""Cost of the sense ranker: ms per ambiguous span (batched and one at a time) and extra RSS.

Contexts are generated from the lexicon's ambiguous entries (templates of
``klarjournal.models.sense_data``), not read from any test file.

    python bench/model_bench.py [--model PATH] [--spans 200] [--threads 1]
"""

import argparse
import random
import resource
import statistics
import sys
import time
from pathlib import Path


def rss_mb() -> float:
    """Current resident set size in MB (Linux /proc; falls back to the peak)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="checkpoint folder (default: the shipped ranker)")
    parser.add_argument("--spans", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args(argv)

    from klarjournal.lexicon import load_lexicon
    from klarjournal.models.ranker import RankItem, candidate_text
    from klarjournal.models.sense_data import TEMPLATES, template_examples

    lexicon = load_lexicon()
    examples = template_examples(lexicon, 2, random.Random(0), TEMPLATES, [])
    random.Random(1).shuffle(examples)
    examples = (examples * (args.spans // max(1, len(examples)) + 1))[:args.spans]
    items = []
    for example in examples:
        entry = lexicon.entry(example.entry_id)
        assert entry is not None
        items.append(RankItem(example.text, example.start, example.end,
                              [candidate_text(s) for s in entry.all_senses()],
                              example.section, example.specialty))
    import torch  # noqa: F401  (imported before measuring so its own RSS is not counted)

    from klarjournal.models.ranker import SenseRanker

    before = rss_mb()
    started = time.perf_counter()
    ranker = SenseRanker.load(args.model, threads=args.threads)
    load_s = time.perf_counter() - started
    ranker.rank(items[:8])  # warm-up
    after = rss_mb()

    started = time.perf_counter()
    ranker.rank(items, batch_size=args.batch_size)
    batched_ms = (time.perf_counter() - started) * 1000 / len(items)
    single = []
    for item in items[:min(len(items), 100)]:
        started = time.perf_counter()
        ranker.rank([item])
        single.append((time.perf_counter() - started) * 1000)
    candidates = statistics.mean(len(i.candidates) for i in items)
    print(f"model            {ranker.version}")
    print(f"spans            {len(items)} (mean {candidates:.1f} candidates), "
          f"{args.threads} threads")
    print(f"load             {load_s:.2f} s")
    print(f"batched          {batched_ms:.1f} ms/span (batch {args.batch_size} pairs)")
    print(f"single           {statistics.median(single):.1f} ms/span median, "
          f"p95 {sorted(single)[int(0.95 * (len(single) - 1))]:.1f} ms")
    print(f"extra RSS        {after - before:.0f} MB after loading (and one warm-up batch)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
