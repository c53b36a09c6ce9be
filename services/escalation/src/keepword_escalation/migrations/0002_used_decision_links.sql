-- Decision links are single use: the nonce of each link used is kept here.
CREATE TABLE used_decision_links (
    nonce          text PRIMARY KEY,
    escalation_id  text NOT NULL,
    option         text NOT NULL,
    manager        text NOT NULL,
    used_at        timestamptz NOT NULL DEFAULT now()
);
