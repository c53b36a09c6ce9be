-- The customer is asked how well we kept our word once per thread: when that happened.
ALTER TABLE threads ADD COLUMN feedback_asked_at timestamptz;

-- Each thread's current rating: a revision read after a newer one is stale and changes nothing.
CREATE TABLE ratings (
    thread_id  text PRIMARY KEY,
    rating     integer NOT NULL,
    revision   integer NOT NULL,
    rated_at   timestamptz NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
