"""Prometheus metrics: counts, latencies and span figures, never any note text.

Each app gets its own registry so that several apps (tests, workers) never share counters.
Labels hold only route templates, methods, status codes and span kinds/sources: bounded sets
that cannot carry a note's words.
"""

import time
from collections import Counter as Tally
from collections.abc import Iterable, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64)
KINDS = frozenset({"abbreviation", "term", "phrase"})
SOURCES = frozenset({"lexicon", "model", "morphology", "fuzzy"})
LOW_CONFIDENCE = 0.8


def is_low_confidence(span: Mapping[str, Any]) -> bool:
    """The pipeline's own flag, or a confidence under 0.8 (the preview page's threshold too)."""
    return bool(span.get("low_confidence")) or float(span.get("confidence", 1.0)) < LOW_CONFIDENCE


class ServiceMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "klarjournal_http_requests_total", "HTTP requests by route template and status.",
            ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram(
            "klarjournal_http_request_duration_seconds", "Time from request to response end.",
            ["method", "route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.notes = Counter(
            "klarjournal_notes_translated_total", "Notes translated (single, batch and audio).",
            registry=self.registry)
        self.note_errors = Counter(
            "klarjournal_note_errors_total", "Notes refused or failed, by reason.",
            ["reason"], registry=self.registry)
        self.translate_seconds = Histogram(
            "klarjournal_translate_seconds", "Pipeline time per call (a batch is one call).",
            ["call"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.pipeline_batch_notes = Histogram(
            "klarjournal_pipeline_batch_notes", "Notes per pipeline call (concurrent requests "
            "are translated together).", buckets=BATCH_BUCKETS, registry=self.registry)
        self.spans = Counter(
            "klarjournal_spans_total", "Jargon spans rendered, by kind and source.",
            ["kind", "source"], registry=self.registry)
        self.unresolved = Counter(
            "klarjournal_unresolved_total", "Jargon-like surfaces left unexplained.",
            registry=self.registry)
        self.low_confidence = Counter(
            "klarjournal_low_confidence_spans_total", "Spans flagged or below 0.8 confidence.",
            registry=self.registry)
        self.model_status = Gauge(
            "klarjournal_model_status", "1 for the pipeline's current model status.",
            ["status"], registry=self.registry)

    def set_model_status(self, status: str) -> None:
        for name in ("loaded", "degraded", "disabled"):
            self.model_status.labels(status=name).set(1 if name == status else 0)

    def observe_translations(self, results: Iterable[Mapping[str, Any]]) -> None:
        # Tallied first: one labelled increment per (kind, source), not one per span.
        spans: Tally[tuple[str, str]] = Tally()
        notes = unresolved = low_confidence = 0
        for result in results:
            notes += 1
            unresolved += len(result.get("unresolved") or ())
            for span in result.get("spans") or ():
                # Unknown values collapse to "other" so labels stay a bounded set.
                kind = span.get("kind")
                source = span.get("source")
                spans[(kind if kind in KINDS else "other",
                       source if source in SOURCES else "other")] += 1
                if is_low_confidence(span):
                    low_confidence += 1
        self.notes.inc(notes)
        self.unresolved.inc(unresolved)
        self.low_confidence.inc(low_confidence)
        for (kind, source), count in spans.items():
            self.spans.labels(kind=kind, source=source).inc(count)


class MetricsMiddleware:
    """Counts and times every HTTP request under its route template, not its raw path."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = _route_template(scope)
            method = scope["method"]
            self.metrics.requests.labels(method=method, route=route, status=str(status)).inc()
            self.metrics.latency.labels(method=method, route=route).observe(
                time.perf_counter() - started)


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    if route is not None and hasattr(route, "path"):
        return str(route.path)
    # Requests refused before routing (413 on size, 404) still get a bounded label.
    app = scope.get("app")
    for candidate in getattr(getattr(app, "router", None), "routes", ()):
        match, _ = candidate.matches(scope)
        if match is Match.FULL:
            return str(candidate.path)
    return "unmatched"
