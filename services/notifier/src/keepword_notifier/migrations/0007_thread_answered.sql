-- When a person's reply last reached the customer: a wait after it is owed the SLA's next_reply
-- (not first_reply), the deadline escalation holds and the acknowledgement promises.
ALTER TABLE threads ADD COLUMN answered_at timestamptz;
