-- A follow-up message in one call whose statements keep their plans for the session: a
-- follow-up's UPDATE of a table with many indexes was planned again for every message, and
-- the transaction around it cost three more round trips. The store calls it for the
-- messages that need nothing but this (store.storeFollowUp says which); it returns no row,
-- and writes nothing, for any other, which the store's transaction then takes. It sends no
-- notification: a NOTIFY serialises every notifying commit on one lock, held through the
-- commit's WAL flush, and the store announces these messages in batches after their commit.
CREATE OR REPLACE FUNCTION inbox_store_follow_up(
    p_now timestamptz, p_workspace_id uuid, p_ref text, p_role text, p_external_id text,
    p_message_id uuid, p_text text, p_sent_at timestamptz)
RETURNS TABLE (out_id uuid, out_workflow_id text, out_workflow_run_id text, out_state text,
    out_pending_until timestamptz, out_assignee_id uuid, out_sla_first_response_seconds integer,
    out_sla_resolution_seconds integer, out_message_id uuid)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    conv record;
    stored uuid;
BEGIN
    UPDATE conversations AS c SET unread = true, last_message_at = greatest(c.last_message_at, p_now)
    WHERE c.workspace_id = p_workspace_id AND c.ref = p_ref
        AND NOT (SELECT w.has_webhooks FROM workspaces AS w WHERE w.id = c.workspace_id)
        AND (c.assignee_id IS NULL OR p_role <> 'visitor')
        AND NOT EXISTS (SELECT 1 FROM messages AS d WHERE d.conversation_id = c.id AND d.external_id = p_external_id)
    RETURNING c.id, c.workflow_id, c.workflow_run_id, c.state, c.pending_until, c.assignee_id,
        (SELECT s.sla_first_response_seconds FROM workspace_settings AS s WHERE s.workspace_id = c.workspace_id) AS first_response,
        (SELECT s.sla_resolution_seconds FROM workspace_settings AS s WHERE s.workspace_id = c.workspace_id) AS resolution
    INTO conv;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    INSERT INTO messages AS m (id, conversation_id, external_id, role, text, sent_at)
    VALUES (p_message_id, conv.id, p_external_id, p_role, p_text, p_sent_at)
    ON CONFLICT (conversation_id, external_id) DO NOTHING
    RETURNING m.id INTO stored;
    RETURN QUERY SELECT conv.id, conv.workflow_id, conv.workflow_run_id, conv.state, conv.pending_until,
        conv.assignee_id, conv.first_response, conv.resolution, stored;
END
$$;
