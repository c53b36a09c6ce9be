-- The thread's promise in question as the ledger last stated it: escalation events carry it,
-- because their readers may see them before the ledger's own events on another topic.
ALTER TABLE threads ADD COLUMN promise jsonb;
