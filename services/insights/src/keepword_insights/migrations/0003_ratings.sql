-- Customers' ratings (their latest revision per thread) and the team of the person who replied
-- last on a thread, whose work a rating judges. Threads read before this have no last replier
-- until someone replies again (or the facts are rebuilt).
ALTER TABLE threads ADD COLUMN last_replier_role text;

CREATE TABLE ratings (
    thread_id  text PRIMARY KEY,
    rating     integer NOT NULL,
    revision   integer NOT NULL,
    rated_at   timestamptz NOT NULL
);
CREATE INDEX ratings_rated ON ratings (rated_at);
