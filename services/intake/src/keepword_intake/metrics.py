"""Prometheus metrics of intake (exposed at /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUESTS = Counter("keepword_intake_requests_total", "API requests answered.", ["route", "status"])
PUBLISH_SECONDS = Histogram(
    "keepword_intake_publish_seconds",
    "Time from handing an event to Kafka until its acknowledgement.",
    ["topic"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
PUBLISH_FAILURES = Counter(
    "keepword_intake_publish_failures_total", "Events Kafka did not acknowledge.", ["topic"]
)
EMAILS = Counter("keepword_intake_emails_total", "Inbound emails, by outcome.", ["outcome"])
