-- The facts the indices are computed from. Plain rows, written as events arrive; nothing here
-- depends on the SLA or the calendar, which are applied when the indices are asked for.

-- A customer conversation: who wrote when, and the wait that is open now (if any).
CREATE TABLE threads (
    thread_id          text PRIMARY KEY,
    first_customer_at  timestamptz,
    first_reply_at     timestamptz,
    last_reply_at      timestamptz,
    replies            integer NOT NULL DEFAULT 0,
    customer_messages  integer NOT NULL DEFAULT 0,
    waiting_since      timestamptz,          -- the first customer message nobody answered yet
    unanswered         integer NOT NULL DEFAULT 0,
    answered_before    boolean NOT NULL DEFAULT false,  -- of the open wait
    deposit_amount     numeric(14, 2),
    deposit_currency   text
);
CREATE INDEX threads_waiting ON threads (waiting_since) WHERE waiting_since IS NOT NULL;

-- A wait that a person's reply ended: the customer's first unanswered message to the reply.
CREATE TABLE waits (
    thread_id        text NOT NULL,
    began_at         timestamptz NOT NULL,
    answered_before  boolean NOT NULL,       -- false: a first reply; true: a next reply
    messages         integer NOT NULL,       -- customer messages during the wait
    replied_at       timestamptz NOT NULL,
    replier_email    text NOT NULL,
    replier_role     text NOT NULL,
    PRIMARY KEY (thread_id, began_at)
);
CREATE INDEX waits_began ON waits (began_at);

-- A promise as the ledger last stated it, and what production answered.
CREATE TABLE promises (
    commitment_id  text PRIMARY KEY,
    thread_id      text NOT NULL,
    kind           text NOT NULL,
    maker_email    text NOT NULL,
    maker_role     text NOT NULL,
    made_at        timestamptz NOT NULL,
    status         text NOT NULL,
    at_risk        boolean NOT NULL,
    verdict        text,                     -- production's answer: confirmed/rejected/countered
    changed_at     timestamptz NOT NULL
);
CREATE INDEX promises_made ON promises (made_at);

-- Every move of every promise (its status history).
CREATE TABLE promise_moves (
    event_id       text PRIMARY KEY,
    commitment_id  text NOT NULL,
    at             timestamptz NOT NULL,
    from_status    text,
    to_status      text NOT NULL,
    at_risk        boolean NOT NULL
);
CREATE INDEX promise_moves_commitment ON promise_moves (commitment_id, at);

-- Production's answers as requested (the ledger's moves above are what it made of them).
CREATE TABLE production_answers (
    event_id       text PRIMARY KEY,
    commitment_id  text NOT NULL,
    verdict        text NOT NULL,
    answered_by    text NOT NULL,
    at             timestamptz NOT NULL
);

-- An escalation: why it opened, how high it went, what was decided and how it ended.
CREATE TABLE escalations (
    escalation_id  text PRIMARY KEY,
    thread_id      text NOT NULL,
    rule           text NOT NULL,
    opened_at      timestamptz,
    level          integer NOT NULL,
    decided_at     timestamptz,              -- the first decision that was one (not "handle it")
    option         text,
    decided_by     text,
    resolved_at    timestamptz,
    resolution     text
);
CREATE INDEX escalations_opened ON escalations (opened_at);

-- Each time an escalation went up a level or reminded the top of the chain.
CREATE TABLE escalation_raises (
    event_id       text PRIMARY KEY,
    escalation_id  text NOT NULL,
    level          integer NOT NULL,
    reminder       integer NOT NULL,
    at             timestamptz NOT NULL
);
CREATE INDEX escalation_raises_at ON escalation_raises (at);

-- Every decision a manager took, "handle it" included (it decides nothing: the clock runs on).
CREATE TABLE escalation_decisions (
    event_id       text PRIMARY KEY,
    escalation_id  text NOT NULL,
    option         text NOT NULL,
    decided_by     text NOT NULL,
    refund_amount  numeric(14, 2),
    at             timestamptz NOT NULL
);
CREATE INDEX escalation_decisions_at ON escalation_decisions (at);

-- The outcome of every email the notifier sent or failed to send.
CREATE TABLE notifications (
    event_id        text PRIMARY KEY,
    template        text NOT NULL,
    recipient_role  text NOT NULL,
    sent            boolean NOT NULL,
    at              timestamptz NOT NULL
);
CREATE INDEX notifications_at ON notifications (at);
