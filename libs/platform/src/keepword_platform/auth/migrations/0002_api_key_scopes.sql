-- What a key may do (read, write, decide), the manager a `decide` key decides for, when it stops
-- working, and when it was last used (recorded at most once a minute per key and process).
-- Keys made before scopes existed keep what they could do: every scope.
ALTER TABLE api_keys
    ADD COLUMN scopes       text[] NOT NULL DEFAULT '{read,write,decide}',
    ADD COLUMN manager      text,
    ADD COLUMN expires_at   timestamptz,
    ADD COLUMN last_used_at timestamptz;
-- New keys name their scopes: no default can grant one by accident.
ALTER TABLE api_keys ALTER COLUMN scopes DROP DEFAULT;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_known
    CHECK (cardinality(scopes) > 0 AND scopes <@ ARRAY['read', 'write', 'decide']);
ALTER TABLE api_keys ADD CONSTRAINT api_keys_manager_decides
    CHECK (manager IS NULL OR 'decide' = ANY (scopes));
