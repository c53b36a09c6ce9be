-- When an escalation's cause happened, in event time: a reply only settles what came before it.
-- (Topics are not ordered among themselves: a reply read after a promise broke may have been
-- sent before it.)
ALTER TABLE escalations ADD COLUMN caused_at timestamptz;
