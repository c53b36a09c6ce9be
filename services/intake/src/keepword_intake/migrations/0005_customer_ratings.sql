-- Each thread's rating by its customer, from the rating page: one per thread, changeable for a
-- while after the first one (each change is a new revision). The comment is not kept here: it
-- travels once, on keepword.feedback.v1.
CREATE TABLE customer_ratings (
    thread_id       text PRIMARY KEY,
    rating          integer NOT NULL CHECK (rating BETWEEN 1 AND 5),
    revision        integer NOT NULL CHECK (revision >= 1),
    first_rated_at  timestamptz NOT NULL,
    rated_at        timestamptz NOT NULL
);
