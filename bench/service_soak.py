"""Soak test of `klarjournal serve`: steady load for a long time, memory sampled over time.

Not for CI: runs --minutes (default 30, the least that says anything) with --clients steady
clients, prints the server's RSS and PSS (all processes) every --every seconds, and at the end
whether memory stayed flat: the last fifth of the samples may exceed the first fifth (after a
warm-up) by at most --tolerance-mb.

    .venv/bin/python bench/service_soak.py --minutes 30
"""

import argparse
import asyncio
import os
import secrets
import sys
import time

from service_load import Results, Server, build_notes, client_loop, report_row


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--every", type=float, default=30, help="seconds between samples")
    parser.add_argument("--tolerance-mb", type=float, default=30)
    args = parser.parse_args()
    if args.minutes < 30:
        print("note: under 30 minutes a soak says little about slow growth", file=sys.stderr)
    if not 1 <= args.clients <= 256 or args.every <= 0:
        parser.error("clients must be 1..256 and --every positive")

    notes = build_notes(200, 150)
    server = Server(args.workers, secrets.token_urlsafe(24))
    try:
        server.wait_ready()
        print(f"soak: {args.minutes:g} min, {args.clients} clients, {args.workers} worker(s)")
        results, samples = asyncio.run(soak(server, notes, args.clients, args.minutes * 60,
                                            args.every))
    finally:
        server.stop()
    print(f"{'clients':>7} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'p99 ms':>8} {'errors':>7}")
    print(report_row(args.clients, results, args.minutes * 60))
    steady = samples[1:]  # the first sample precedes warm-up allocations
    fifth = max(1, len(steady) // 5)
    first = sum(s[1] for s in steady[:fifth]) / fifth
    last = sum(s[1] for s in steady[-fifth:]) / fifth
    flat = last - first <= args.tolerance_mb
    print(f"RSS first fifth {first:.0f} MB, last fifth {last:.0f} MB, "
          f"growth {last - first:+.0f} MB: {'flat' if flat else 'NOT flat'} "
          f"(tolerance {args.tolerance_mb:g} MB)")
    return 0 if flat and results.errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
