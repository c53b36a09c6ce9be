-- Durable timers: a row per deadline. Any instance claims due rows with FOR UPDATE SKIP LOCKED,
-- so several instances share them and a restarted one fires what fell due while it was down.
CREATE TABLE timers (
    id        bigserial PRIMARY KEY,
    kind      text NOT NULL,
    subject   text NOT NULL,             -- what the timer is about, e.g. a commitment id
    fire_at   timestamptz NOT NULL,
    payload   jsonb NOT NULL DEFAULT '{}',
    UNIQUE (kind, subject)
);
CREATE INDEX timers_due ON timers (fire_at);
