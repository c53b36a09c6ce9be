-- Reminders sent to the top of the chain for an escalation nobody decides: each one waits twice
-- as long as the one before, so the count is what sets the next wait.
ALTER TABLE escalations ADD COLUMN reminders integer NOT NULL DEFAULT 0;
