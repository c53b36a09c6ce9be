-- The promise ledger: each commitment as it stands, and every move it made.
CREATE TABLE commitments (
    commitment_id    text PRIMARY KEY,
    thread_id        text NOT NULL,
    kind             text NOT NULL,
    text             text NOT NULL,
    made_by          jsonb NOT NULL,
    customer         jsonb,
    due_at           timestamptz,
    source           jsonb NOT NULL,
    created_at       timestamptz NOT NULL,
    status           text NOT NULL,
    at_risk          boolean NOT NULL DEFAULT false,
    feasible_due_at  timestamptz,
    production_note  text,
    updated_at       timestamptz NOT NULL
);
CREATE INDEX commitments_thread ON commitments (thread_id);

CREATE TABLE commitment_history (
    id             bigserial PRIMARY KEY,
    commitment_id  text NOT NULL REFERENCES commitments (commitment_id),
    at             timestamptz NOT NULL,
    from_status    text,
    to_status      text NOT NULL,
    at_risk        boolean NOT NULL,
    reason         text NOT NULL,
    event_id       text NOT NULL          -- the status-changed event that announced it
);
CREATE INDEX commitment_history_commitment ON commitment_history (commitment_id, id);
