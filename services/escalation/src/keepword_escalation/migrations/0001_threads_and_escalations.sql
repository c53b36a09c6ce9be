-- Thread clocks: what escalation knows of each customer conversation.
CREATE TABLE threads (
    thread_id         text PRIMARY KEY,
    customer          jsonb NOT NULL,
    deposit           jsonb,
    first_contact_at  timestamptz,
    last_customer_at  timestamptz,
    last_reply_at     timestamptz,
    unanswered        integer NOT NULL DEFAULT 0,
    waiting_since     timestamptz,
    reply_due_at      timestamptz,
    warn_at           timestamptz,
    feasible_due_at   timestamptz,            -- production's latest feasible terms, if countered
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX threads_waiting ON threads (reply_due_at) WHERE unanswered > 0;

-- The timeline of each thread: the evidence an escalation shows a manager.
CREATE TABLE timeline (
    id         bigserial PRIMARY KEY,
    thread_id  text NOT NULL,
    at         timestamptz NOT NULL,
    what       text NOT NULL,
    event_id   text
);
CREATE INDEX timeline_thread ON timeline (thread_id, at);

CREATE TABLE escalations (
    escalation_id   text PRIMARY KEY,
    thread_id       text NOT NULL,
    rule            text NOT NULL,
    level           integer NOT NULL,
    manager_email   text NOT NULL,
    state           text NOT NULL,
    reason          text NOT NULL,
    opened_at       timestamptz NOT NULL,
    decide_by       timestamptz NOT NULL,
    options         jsonb NOT NULL,
    evidence        jsonb NOT NULL,
    decided_option  text,
    decided_by      text,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
-- One active escalation per thread: later rules add evidence to it instead of flooding managers.
CREATE UNIQUE INDEX escalations_one_active ON escalations (thread_id) WHERE state <> 'resolved';
CREATE INDEX escalations_state ON escalations (state, decide_by);
