-- The record (partition and offset on `topic`) that last claimed each event. A replayed copy of a
-- dead-lettered event (`keepword-replay-of`, at another offset) takes its row over; Kafka
-- redelivering the very record that was dead-lettered does not. Rows from before stay NULL.
ALTER TABLE inbox
    ADD COLUMN record_partition integer,
    ADD COLUMN record_offset    bigint;
