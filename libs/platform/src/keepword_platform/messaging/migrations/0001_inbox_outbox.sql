-- Inbox: the events this service has handled, written in the same transaction as their effects.
CREATE TABLE inbox (
    event_id      text PRIMARY KEY,
    topic         text NOT NULL,
    outcome       text NOT NULL CHECK (outcome IN ('handled', 'dead_lettered', 'ignored')),
    handled_at    timestamptz NOT NULL DEFAULT now()
);

-- Outbox: records to publish, in order; `published_at` is set once Kafka acknowledged them.
CREATE TABLE outbox (
    id            bigserial PRIMARY KEY,
    event_id      text NOT NULL,
    topic         text NOT NULL,
    key           bytea,
    value         bytea,
    headers       jsonb NOT NULL,          -- [[name, base64 value], ...]
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz
);
CREATE INDEX outbox_pending ON outbox (id) WHERE published_at IS NULL;
