-- Signed links used on intake's pages (production's answers, the maker's withdrawals, phone
-- calls logged, customers' ratings): one row per link nonce, so each link acts once. The row is
-- written before the event is published (state 'claimed', with the action the form asked for
-- and the event id derived from the nonce) and marked 'done' once Kafka has the event: a retry
-- after a failed publish republishes the same action under the same event id.
CREATE TABLE link_uses (
    nonce       text PRIMARY KEY,
    purpose     text NOT NULL,               -- the signed_links purpose: answer, call, rating, ...
    subject     text NOT NULL,               -- what the link acts on (a commitment id, ...)
    action      jsonb NOT NULL,              -- what the page's form asked for, as published
    event_id    text NOT NULL,
    state       text NOT NULL DEFAULT 'claimed' CHECK (state IN ('claimed', 'done')),
    claimed_at  timestamptz NOT NULL DEFAULT now(),
    done_at     timestamptz
);
