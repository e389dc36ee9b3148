"""Load benchmark of `klarjournal serve`: throughput, latency and memory on loopback.

Starts the service on a random free loopback port (with a throw-away portal key, so the auth
path is measured too), sends synthetic ~150-word notes from 1, 8 and 32 concurrent keep-alive
clients for --seconds each, and prints req/s, p50/p95/p99 latency, errors, the server's CPU
time per request (all its processes; unlike req/s it hardly depends on what else the machine is
running) and its RSS (all worker processes together) at start and end. The client is a minimal
asyncio HTTP/1.1 client so that it takes as little of the shared CPU as possible.

    .venv/bin/python bench/service_load.py --seconds 60                  # with the context model
    .venv/bin/python bench/service_load.py --seconds 60 --lexicon-only  # USE_MODEL=false
"""

import argparse
import asyncio
import json
import os
import random
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

SENTENCES = [
    "Pt. indlagt med dyspnø og let ødem på UE.",
    "BT {bp1}/{bp2}, puls {pulse}, saturation {sat} % uden ilt.",
    "Ingen tegn på DVT.",
    "Obs. pneumoni, rtg. af thorax bestilt.",
    "Start penicillin {dose} mio IE x 4 p.o. i {days} dage.",
    "Objektivt: St.p. u.a., St.c. regelmæssig aktion, ingen mislyde.",
    "Pt. afebril, T {temp} grader.",
    "Beh. med furosemid {mg} mg i.v. x 1 med god effekt.",
    "Anamnese: hoste og feber i {days} dage, tiltagende åndenød ved anstrengelse.",
    "Tidligere AMI, behandlet med PCI.",
    "Konklusion: Mistanke om KOL i exacerbation, ktr. om {weeks} uger.",
    "Pt. informeret om planen og er indforstået.",
    "Blodprøver: CRP {crp}, leukocytter {leuk}, hgb {hgb}.",
    "Smerter i dxt. hofte, kan ikke støtte på benet.",
    "Der gives paracetamol 1 g x 4 og morfin 5 mg s.c. p.n.",
]


def make_note(rng: random.Random, words: int) -> str:
    parts: list[str] = []
    while sum(len(p.split()) for p in parts) < words:
        parts.append(rng.choice(SENTENCES).format(
            bp1=rng.randint(100, 180), bp2=rng.randint(60, 100), pulse=rng.randint(55, 120),
            sat=rng.randint(88, 99), dose=rng.randint(1, 3), days=rng.randint(2, 10),
            mg=rng.choice([20, 40, 80]), temp=f"{rng.uniform(36.2, 39.5):.1f}".replace(".", ","),
            weeks=rng.randint(1, 8), crp=rng.randint(1, 250), leuk=rng.randint(3, 25),
            hgb=f"{rng.uniform(5.5, 9.5):.1f}".replace(".", ",")))
    return " ".join(parts)


CORPUS = Path(__file__).resolve().parent.parent / "evaluation" / "corpus"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    tree, stack = [], [root]
    while stack:
        pid = stack.pop()
        tree.append(pid)
        stack.extend(children.get(pid, []))
    return tree


def process_tree_cpu_seconds(root: int) -> float:
    """User + system CPU time of ``root`` and its descendants so far."""
    total = 0.0
    for pid in _process_tree(root):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def process_tree_memory_mb(root: int) -> tuple[float, float]:
    """RSS and PSS of ``root`` and all its descendants (uvicorn workers), in MB.

    RSS counts shared library pages (torch, spaCy) once per process; PSS splits them among
    the processes sharing them, so its sum is what the machine really spends."""
    rss_kb = pss_kb = 0
    for pid in _process_tree(root):
        try:
            with open(f"/proc/{pid}/smaps_rollup") as rollup:
                for line in rollup:
                    if line.startswith("Rss:"):
                        rss_kb += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss_kb += int(line.split()[1])
        except OSError:
            continue
    return rss_kb / 1024, pss_kb / 1024


class Server:
    """`klarjournal serve` in a subprocess on loopback, stopped on exit."""

    def __init__(self, workers: int, key: str, extra_env: dict[str, str] | None = None):
        self.port = free_port()
        self.key = key
        executable = Path(sys.executable).with_name("klarjournal")
        command = [str(executable), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                   "--workers", str(workers), "--no-access-log", "--log-level", "warning"]
        env = {**os.environ, "KLARJOURNAL_API_KEYS": f"portal:{key}", **(extra_env or {})}
        self.log = open(f"/tmp/klarjournal-bench-{self.port}.log", "w")
        self.process = subprocess.Popen(command, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 180) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}; "
                                   f"see {self.log.name}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz",
                                            timeout=2) as response:
                    return json.load(response)
            except OSError:
                time.sleep(0.5)
        raise RuntimeError("server did not become ready")

    def memory_mb(self) -> tuple[float, float]:
        return process_tree_memory_mb(self.process.pid)

    def cpu_seconds(self) -> float:
        return process_tree_cpu_seconds(self.process.pid)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)


async def client_loop(port: int, key: str, notes: list[bytes], deadline: float,
                      results: Results, seed: int) -> None:
    """One keep-alive connection sending requests back to back until the deadline."""
    rng = random.Random(seed)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (f"POST /v1/translate HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n")
    try:
        while time.monotonic() < deadline:
            body = rng.choice(notes)
            request = (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body
            started = time.perf_counter()
            try:
                writer.write(request)
                status_line = await reader.readline()
                status = int(status_line.split()[1])
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                await reader.readexactly(length)
            except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
                results.errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            results.latencies.append(time.perf_counter() - started)
            results.statuses[status] = results.statuses.get(status, 0) + 1
            if status != 200:
                results.errors += 1
    finally:
        writer.close()


async def drive(port: int, key: str, notes: list[bytes], clients: int,
                seconds: float) -> tuple[Results, float]:
    results = Results()
    started = time.monotonic()
    deadline = started + seconds
    await asyncio.gather(*(client_loop(port, key, notes, deadline, results, seed)
                           for seed in range(clients)))
    return results, time.monotonic() - started


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


HEADER = (f"{'clients':>7} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'p99 ms':>8} {'errors':>7} {'cpu ms/req':>10}")


def report_row(clients: int, results: Results, elapsed: float,
               server_cpu: float | None = None) -> str:
    ms = [v * 1000 for v in results.latencies]
    cpu = f"{server_cpu * 1000 / len(ms):>10.2f}" if server_cpu is not None and ms else ""
    return (f"{clients:>7} {len(ms):>9} {len(ms) / elapsed:>8.1f} {percentile(ms, 50):>8.1f} "
            f"{percentile(ms, 95):>8.1f} {percentile(ms, 99):>8.1f} {results.errors:>7} {cpu}")


def path_env(lexicon_only: bool) -> dict[str, str]:
    return {"KLARJOURNAL_USE_MODEL": "false"} if lexicon_only else {}


def build_notes(count: int, words: int, corpus: bool = False) -> list[bytes]:
    """Synthetic notes from SENTENCES, or with ``corpus`` the evaluation corpus's hand-written
    notes joined to about ``words`` words each (these ask the context model far more often)."""
    rng = random.Random(7)
    if not corpus:
        return [json.dumps({"text": make_note(rng, words)}).encode() for _ in range(count)]
    texts = []
    for name in ("dev.jsonl", "test.jsonl"):
        with open(CORPUS / name, encoding="utf-8") as lines:
            texts.extend(json.loads(line)["text"] for line in lines if line.strip())
    notes = []
    for _ in range(count):
        parts: list[str] = []
        while sum(len(p.split()) for p in parts) < words:
            parts.append(rng.choice(texts))
        notes.append(json.dumps({"text": "\n\n".join(parts)}).encode())
    return notes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60, help="per concurrency level")
    parser.add_argument("--clients", default="1,8,32", help="comma-separated levels")
    parser.add_argument("--workers", type=int, default=1,
                        help="server worker processes (default 1, as `serve`)")
    parser.add_argument("--lexicon-only", action="store_true",
                        help="serve without the context model (KLARJOURNAL_USE_MODEL=false)")
    parser.add_argument("--words", type=int, default=150, help="words per note")
    parser.add_argument("--corpus", action="store_true",
                        help="notes joined from the evaluation corpus instead of synthetic ones")
    parser.add_argument("--warmup", type=float, default=3, help="seconds before measuring")
    args = parser.parse_args()
    levels = [int(c) for c in args.clients.split(",")]
    if args.seconds <= 0 or min(levels) < 1 or max(levels) > 256:
        parser.error("--seconds must be positive and clients between 1 and 256")

    notes = build_notes(200, args.words, args.corpus)
    server = Server(args.workers, secrets.token_urlsafe(24), path_env(args.lexicon_only))
    try:
        ready = server.wait_ready()
        asyncio.run(drive(server.port, server.key, notes, 4, args.warmup))
        rss_start, pss_start = server.memory_mb()
        print(f"klarjournal service load: {os.cpu_count()} cores, {args.workers} worker(s), "
              f"~{args.words}-word {'corpus' if args.corpus else 'synthetic'} notes, "
              f"{args.seconds:g} s per level, loopback; "
              f"load average {os.getloadavg()[0]:.1f} before")
        print(f"pipeline: {ready['versions']} model {ready['model_status']}")
        print(HEADER)
        for clients in levels:
            cpu_before = server.cpu_seconds()
            results, elapsed = asyncio.run(drive(server.port, server.key, notes, clients,
                                                 args.seconds))
            print(report_row(clients, results, elapsed, server.cpu_seconds() - cpu_before),
                  flush=True)
            if set(results.statuses) - {200}:
                print(f"        statuses: {results.statuses}")
        rss_end, pss_end = server.memory_mb()
        print(f"server memory, all processes: RSS start {rss_start:.0f} MB, end {rss_end:.0f} MB;"
              f" PSS start {pss_start:.0f} MB, end {pss_end:.0f} MB; load average "
              f"{os.getloadavg()[0]:.1f} after")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
