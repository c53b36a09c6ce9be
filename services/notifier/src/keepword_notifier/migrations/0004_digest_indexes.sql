-- The digest planner reads a group's held emails by group.
CREATE INDEX sends_group_held ON sends (digest_group) WHERE status = 'held';
