-- Records whose handling blocked the event loop past the stall window, written by the watchdog
-- thread (the loop itself cannot run). When such a record is read again (after the restart the
-- block forced) it is dead-lettered instead of handled, so it cannot block the service again.
CREATE TABLE loop_suspects (
    topic            text NOT NULL,
    record_partition integer NOT NULL,
    record_offset    bigint NOT NULL,
    event_id         text,
    blocked_seconds  double precision NOT NULL,
    detected_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, record_partition, record_offset)
);
