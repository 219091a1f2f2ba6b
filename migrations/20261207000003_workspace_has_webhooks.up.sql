-- Whether the workspace has an enabled webhook endpoint: a lifecycle write reads it with
-- its UPDATE (RETURNING) and skips the webhooks SELECT when it is false. It is kept in the
-- transaction of every change to the workspace's webhooks (store.syncHasWebhooks), under
-- the workspace row's lock, so every replica reads the committed truth.
ALTER TABLE workspaces ADD COLUMN has_webhooks boolean NOT NULL DEFAULT false;

--bun:split

UPDATE workspaces w SET has_webhooks = true
WHERE EXISTS (SELECT 1 FROM webhooks h WHERE h.workspace_id = w.id AND h.enabled);
