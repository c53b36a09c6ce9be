-- Cancelling a subject's timers (a promise kept, an escalation resolved) finds them by subject.
CREATE INDEX timers_subject ON timers (subject);
