"""Soak test of `klarjournal serve`: steady load for a long time, memory sampled over time.

Not for CI: runs --minutes (default 30, the least that says anything) with --clients steady
clients, prints the server's RSS and PSS (all processes) every --every seconds, and at the end
whether memory stayed flat: the last fifth of the samples may exceed the first fifth (after a
warm-up) by at most --tolerance-mb. Also prints the least-squares RSS slope in MB per hour.

    make soak                                          # = the line below
    .venv/bin/python bench/service_soak.py --minutes 30 [--lexicon-only] [--corpus]
"""

import argparse
import asyncio
import os
import secrets
import sys
import time

from service_load import HEADER, Results, Server, build_notes, client_loop, path_env, report_row


async def soak(server: Server, notes: list[bytes], clients: int, seconds: float,
               every: float) -> tuple[Results, list[tuple[float, float, float]]]:
    results = Results()
    started = time.monotonic()
    deadline = started + seconds
    samples: list[tuple[float, float, float]] = []

    async def sample() -> None:
        while time.monotonic() < deadline:
            rss, pss = server.memory_mb()
            elapsed = time.monotonic() - started
            samples.append((elapsed, rss, pss))
            print(f"{elapsed / 60:7.1f} min  RSS {rss:7.0f} MB  PSS {pss:7.0f} MB  "
                  f"requests {len(results.latencies):>9}  errors {results.errors}", flush=True)
            await asyncio.sleep(min(every, max(0.0, deadline - time.monotonic())))

    await asyncio.gather(sample(), *(client_loop(server.port, server.key, notes, deadline,
                                                 results, seed) for seed in range(clients)))
    return results, samples


def slope_mb_per_hour(samples: list[tuple[float, float, float]]) -> float:
    """Least-squares slope of RSS over time."""
    if len(samples) < 2:
        return 0.0
    mean_t = sum(s[0] for s in samples) / len(samples)
    mean_r = sum(s[1] for s in samples) / len(samples)
    spread = sum((s[0] - mean_t) ** 2 for s in samples)
    return sum((s[0] - mean_t) * (s[1] - mean_r) for s in samples) / spread * 3600 if spread else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1, help="default 1, as `serve`")
    parser.add_argument("--lexicon-only", action="store_true",
                        help="serve without the context model (KLARJOURNAL_USE_MODEL=false)")
    parser.add_argument("--corpus", action="store_true",
                        help="evaluation-corpus notes (ask the context model) instead of synthetic")
    parser.add_argument("--every", type=float, default=30, help="seconds between samples")
    parser.add_argument("--tolerance-mb", type=float, default=30)
    args = parser.parse_args()
    if args.minutes < 30:
        print("note: under 30 minutes a soak says little about slow growth", file=sys.stderr)
    if not 1 <= args.clients <= 256 or args.every <= 0:
        parser.error("clients must be 1..256 and --every positive")

    notes = build_notes(200, 150, args.corpus)
    server = Server(args.workers, secrets.token_urlsafe(24), path_env(args.lexicon_only))
    try:
        ready = server.wait_ready()
        print(f"soak: {args.minutes:g} min, {args.clients} clients, {args.workers} worker(s), "
              f"{'corpus' if args.corpus else 'synthetic'} notes, "
              f"model {ready['model_status']}, load average {os.getloadavg()[0]:.1f}",
              flush=True)
        cpu_before = server.cpu_seconds()
        results, samples = asyncio.run(soak(server, notes, args.clients, args.minutes * 60,
                                            args.every))
        cpu = server.cpu_seconds() - cpu_before
    finally:
        server.stop()
    print(HEADER)
    print(report_row(args.clients, results, args.minutes * 60, cpu))
    steady = samples[1:]  # the first sample precedes warm-up allocations
    fifth = max(1, len(steady) // 5)
    first = sum(s[1] for s in steady[:fifth]) / fifth
    last = sum(s[1] for s in steady[-fifth:]) / fifth
    flat = last - first <= args.tolerance_mb
    print(f"RSS first fifth {first:.0f} MB, last fifth {last:.0f} MB, "
          f"growth {last - first:+.0f} MB: {'flat' if flat else 'NOT flat'} "
          f"(tolerance {args.tolerance_mb:g} MB); min {min(s[1] for s in steady):.0f}, "
          f"max {max(s[1] for s in steady):.0f} MB; slope {slope_mb_per_hour(steady):+.1f} MB/h")
    return 0 if flat and results.errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
