-- How many times a timer's firing failed; setting (or moving) the timer starts it again at 0.
ALTER TABLE timers ADD COLUMN attempts integer NOT NULL DEFAULT 0;

-- Timers that could not be fired (their handler kept failing, or their data is unusable): kept
-- out of the firing loop, with why, as dead letters are. Ops reads them here; putting one back
-- into `timers` fires it again.
CREATE TABLE timers_set_aside (
    id            bigserial PRIMARY KEY,
    kind          text NOT NULL,
    subject       text NOT NULL,
    fire_at       timestamptz NOT NULL,  -- when it was last due (a retried timer: its last retry)
    payload       jsonb NOT NULL,
    attempts      integer NOT NULL,
    reason        text NOT NULL,
    set_aside_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX timers_set_aside_subject ON timers_set_aside (subject);
