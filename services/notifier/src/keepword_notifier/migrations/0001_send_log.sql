-- The send log: one row per email that is due, keyed by (source event, recipient, template), so
-- a redelivered event never sends a second email. The rendered email is stored with the row so a
-- retry sends exactly the same message (same Message-ID).
CREATE TABLE sends (
    idempotency_key   text PRIMARY KEY,
    notification_id   text NOT NULL UNIQUE,
    source_event_id   text NOT NULL,
    thread_id         text NOT NULL,
    template          text NOT NULL,
    recipient         text NOT NULL,
    recipient_role    text NOT NULL,
    message_id        text NOT NULL,
    subject           text NOT NULL,
    body_text         text NOT NULL,
    body_html         text NOT NULL,
    status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts          integer NOT NULL DEFAULT 0,
    last_error        text,
    next_attempt_at   timestamptz NOT NULL DEFAULT now(),
    created_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz
);
CREATE INDEX sends_due ON sends (next_attempt_at) WHERE status = 'pending';
