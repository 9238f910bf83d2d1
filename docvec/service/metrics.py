"""The service's Prometheus metrics (prometheus_client, a registry per app): requests, errors and
latency per endpoint and search mode, requests in flight, and the publication being served (its
version, row count, age: the freshness lag a RAG team alerts on, and how often it was reloaded)."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from docvec.service.publication import Loaded

# Seconds: a search is tens of milliseconds warm; the tail buckets catch a reload or a cold model.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST
NO_MODE = "none"  # the mode label of endpoints that do not search


class ServiceMetrics:
    """Counters, histograms and gauges of one service instance."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        labels = ("endpoint", "mode")
        self.requests = Counter("docvec_requests", "Requests answered.", (*labels, "status"), registry=self.registry)
        self.errors = Counter(
            "docvec_request_errors",
            "Requests answered with a 4xx or 5xx status.",
            (*labels, "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "docvec_request_duration_seconds",
            "Time to answer a request.",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge("docvec_requests_in_flight", "Requests being answered.", registry=self.registry)
        self.loaded = Gauge("docvec_publication_loaded", "1 when a publication is loaded.", registry=self.registry)
        self.version = Gauge("docvec_publication_version", "Version of the publication served.", registry=self.registry)
        self.rows = Gauge("docvec_publication_rows", "Serving rows of the publication served.", registry=self.registry)
        self.age = Gauge(
            "docvec_publication_age_seconds",
            "Seconds since the served publication was published (freshness lag).",
            registry=self.registry,
        )
        self.reloads = Gauge(
            "docvec_publication_reloads",
            "New publications picked up since the service started.",
            registry=self.registry,
        )

    def observe(self, endpoint: str, mode: str, status: int, seconds: float) -> None:
        """Count one answered request."""
        self.requests.labels(endpoint, mode, str(status)).inc()
        if status >= 400:
            self.errors.labels(endpoint, mode, str(status)).inc()
        self.latency.labels(endpoint, mode).observe(seconds)

    def render(self, loaded: Loaded | None, reloads: int) -> bytes:
        """The Prometheus text exposition, with the publication gauges as of now."""
        self.loaded.set(1 if loaded else 0)
        self.reloads.set(reloads)
        if loaded is not None:
            self.version.set(loaded.version)
            self.rows.set(loaded.row_count)
            self.age.set(loaded.age_seconds(datetime.now(UTC)))
        return generate_latest(self.registry)
