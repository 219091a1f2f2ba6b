-- API tokens belong to one membership: a token made in workspace A acts only in A, with the
-- role its user holds there, and removing the member (or the workspace) deletes it with the
-- membership. Before this, a token belonged to a user and opened every workspace they were
-- in, so a token handed out in one workspace opened the others.
ALTER TABLE api_tokens ADD COLUMN workspace_id uuid;
ALTER TABLE api_tokens ADD COLUMN name text NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz;
ALTER TABLE api_tokens ADD COLUMN last_used_at timestamptz;

--bun:split

-- Every token so far was made in the transaction that made its membership (workspace
-- create, member add), so both rows carry that transaction's now(): that is the membership
-- a token was made for. A token whose membership is gone (the member was removed, maybe
-- added again later) has none, and is deleted rather than guessed into a workspace.
UPDATE api_tokens AS t SET workspace_id = m.workspace_id
FROM memberships AS m
WHERE m.user_id = t.user_id AND m.created_at = t.created_at;

DELETE FROM api_tokens WHERE workspace_id IS NULL;

-- Tokens made before expiry existed get the default lifetime (90 days) from now, so that no
-- client stops working on the day of the upgrade.
UPDATE api_tokens SET expires_at = now() + interval '90 days', name = 'made before tokens had names';

ALTER TABLE api_tokens ALTER COLUMN workspace_id SET NOT NULL;
ALTER TABLE api_tokens ALTER COLUMN expires_at SET NOT NULL;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_membership_fkey
    FOREIGN KEY (workspace_id, user_id) REFERENCES memberships (workspace_id, user_id) ON DELETE CASCADE;
CREATE INDEX api_tokens_membership_idx ON api_tokens (workspace_id, user_id, created_at DESC);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

--bun:split

-- An invite sets the password of a person who has none yet, and was made in one workspace
-- (NULL: by an operator on the command line). Accepting it checks again that the person is
-- in no other workspace, so a link handed to one workspace's admin never opens another's.
ALTER TABLE invites ADD COLUMN workspace_id uuid REFERENCES workspaces (id) ON DELETE CASCADE;

-- Unused links made before this: they belong to the workspace of a person in exactly one;
-- anyone else's are withdrawn (a new link is one click for the admin who needs it).
UPDATE invites AS i SET workspace_id = (SELECT m.workspace_id FROM memberships AS m WHERE m.user_id = i.user_id)
WHERE i.used_at IS NULL AND (SELECT count(*) FROM memberships AS m WHERE m.user_id = i.user_id) = 1;
DELETE FROM invites WHERE used_at IS NULL AND workspace_id IS NULL;
