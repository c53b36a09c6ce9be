"""The notifier's Prometheus metrics (served on /metrics with every other service's)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

SENT = Counter(
    "keepword_notifier_sent_total", "Emails the SMTP server accepted (a digest counts once)."
)
FAILED = Counter("keepword_notifier_failed_total", "Emails refused for good, or never sendable.")
RETRIES = Counter("keepword_notifier_retries_total", "Temporary refusals, retried later.")
QUEUE_AGE = Gauge(
    "keepword_notifier_queue_age_seconds", "Age of the oldest email not yet sent (0: none)."
)
DIGESTS = Counter("keepword_notifier_digests_total", "Digests made of held escalation emails.")
DIGESTED = Counter(
    "keepword_notifier_digested_total", "Escalation emails that went out inside a digest."
)
SMTP_SECONDS = Histogram(
    "keepword_notifier_smtp_seconds",
    "Time to hand one email to the SMTP server, whatever its answer.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
