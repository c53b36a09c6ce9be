-- Digests: escalation emails to one manager within a short window go out as one email. Such an
-- email starts `held` with its part of a digest rendered; the sender then releases it on its own
-- or folds it, with the others held for the same manager, into a digest row (`digest_of` points
-- from each member to it). A digest speaks of several threads, so it names none.
ALTER TABLE sends ALTER COLUMN thread_id DROP NOT NULL;
ALTER TABLE sends ADD COLUMN digest_group text;
ALTER TABLE sends ADD COLUMN digest_text text;
ALTER TABLE sends ADD COLUMN digest_html text;
ALTER TABLE sends ADD COLUMN digest_of text REFERENCES sends (idempotency_key);
ALTER TABLE sends DROP CONSTRAINT sends_status_check;
ALTER TABLE sends ADD CONSTRAINT sends_status_check
    CHECK (status IN ('held', 'pending', 'digested', 'sent', 'failed'));
CREATE INDEX sends_held ON sends (next_attempt_at) WHERE status = 'held';
CREATE INDEX sends_group_sent ON sends (digest_group, finished_at)
    WHERE status = 'sent' AND digest_group IS NOT NULL;
CREATE INDEX sends_group_pending ON sends (digest_group)
    WHERE status = 'pending' AND digest_group IS NOT NULL;
CREATE INDEX sends_digest_of ON sends (digest_of) WHERE digest_of IS NOT NULL;
CREATE INDEX sends_waiting ON sends (created_at) WHERE status IN ('held', 'pending');
