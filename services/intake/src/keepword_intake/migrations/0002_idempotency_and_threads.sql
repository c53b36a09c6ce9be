-- Idempotency-Key: the first answer to a keyed request, so a retry gets it again and publishes
-- nothing new. `response` is planned (ids chosen) before publishing; `completed_at` marks that the
-- broker acknowledged it.
CREATE TABLE idempotency_keys (
    owner         text NOT NULL,            -- the API key's name: keys are scoped per client
    key           text NOT NULL,
    fingerprint   bytea NOT NULL,           -- route + canonical body: the same key with another body is refused
    response      jsonb NOT NULL,
    status_code   integer,
    created_at    timestamptz NOT NULL DEFAULT now(),
    completed_at  timestamptz,
    PRIMARY KEY (owner, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

-- Which thread a commitment belongs to, so production can answer it by id alone.
CREATE TABLE commitment_threads (
    commitment_id  text PRIMARY KEY,
    thread_id      text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- Email Message-IDs seen in each thread: how a reply finds its thread.
CREATE TABLE email_messages (
    message_id  text PRIMARY KEY,
    thread_id   text NOT NULL,
    seen_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX email_messages_thread ON email_messages (thread_id);
