-- The links of one promise (production's three answers, the maker's two changes) refuse each
-- other once one has acted: looked up by purpose and subject among the links used.
CREATE INDEX link_uses_done_subject ON link_uses (purpose, subject) WHERE state = 'done';
