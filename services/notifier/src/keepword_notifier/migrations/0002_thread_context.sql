-- What the notifier remembers of each thread, to write emails the events alone could not.
CREATE TABLE threads (
    thread_id              text PRIMARY KEY,
    customer               jsonb,
    subject                text,
    last_customer_message  text,
    deposit                jsonb,
    promise                text,
    production_note        text,
    feasible_due_at        timestamptz,
    waiting_since          timestamptz,
    updated_at             timestamptz NOT NULL DEFAULT now()
);
