-- Every message that needs nothing but its rows, in one call: a follow-up as
-- inbox_store_follow_up stores it, and now also a first message, which took the store's
-- transaction (a failed follow-up call, BEGIN, the touch, four INSERTs and COMMIT: eight
-- round trips, each statement planned again). A first message creates the conversation
-- (open, unread, unassigned), its lead, its `created` audit row and the message. The
-- function returns no row, and writes nothing, for any message it does not take (one with
-- contact fields to an existing conversation, one to a workspace with webhooks, a visitor's
-- message to an assigned conversation, a repeated external id, a first message whose
-- conversation a concurrent one created meanwhile); the store's transaction takes those.
-- out_created says which kind it stored. A follow-up is stored by inbox_store_follow_up, as
-- before (so binaries of the release before, which call that, store the same). It sends no
-- notification: the store announces messages in batches after their commit.
CREATE OR REPLACE FUNCTION inbox_store_message(
    p_now timestamptz, p_workspace_id uuid, p_ref text, p_role text, p_external_id text,
    p_message_id uuid, p_text text, p_sent_at timestamptz, p_has_contact boolean,
    p_conversation_id uuid, p_workflow_id text, p_channel text, p_page_url text, p_referrer text,
    p_user_agent text, p_ip inet, p_lead_id uuid, p_name text, p_email text, p_phone text,
    p_audit_id uuid, p_audit_after jsonb)
RETURNS TABLE (out_created boolean, out_id uuid, out_workflow_id text, out_workflow_run_id text,
    out_state text, out_pending_until timestamptz, out_assignee_id uuid,
    out_sla_first_response_seconds integer, out_sla_resolution_seconds integer, out_message_id uuid)
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT p_has_contact THEN
        RETURN QUERY SELECT false, f.* FROM inbox_store_follow_up(p_now, p_workspace_id, p_ref, p_role,
            p_external_id, p_message_id, p_text, p_sent_at) AS f;
        IF FOUND THEN
            RETURN;
        END IF;
    END IF;
    IF (SELECT w.has_webhooks FROM workspaces AS w WHERE w.id = p_workspace_id) THEN
        RETURN; -- its events are written by the store's transaction
    END IF;
    INSERT INTO conversations AS c (id, workspace_id, ref, channel, state, unread, created_at,
        last_message_at, page_url, referrer, user_agent, ip, workflow_id, summary_status)
    VALUES (p_conversation_id, p_workspace_id, p_ref, p_channel, 'open', true, p_now, p_now,
        p_page_url, p_referrer, p_user_agent, p_ip, p_workflow_id, 'none')
    ON CONFLICT (workspace_id, ref) DO NOTHING;
    IF NOT FOUND THEN
        RETURN; -- the conversation exists: the store's transaction touches it
    END IF;
    INSERT INTO leads (id, workspace_id, conversation_id, name, email, phone, status, created_at, updated_at)
    VALUES (p_lead_id, p_workspace_id, p_conversation_id, p_name, p_email, p_phone, 'new', p_now, p_now);
    INSERT INTO audit_log (id, workspace_id, conversation_id, actor_name, action, before, after, at)
    VALUES (p_audit_id, p_workspace_id, p_conversation_id, '', 'created', '{}', p_audit_after, p_now);
    INSERT INTO messages (id, conversation_id, external_id, role, text, sent_at)
    VALUES (p_message_id, p_conversation_id, p_external_id, p_role, p_text, p_sent_at);
    RETURN QUERY SELECT true, p_conversation_id, p_workflow_id, ''::text, 'open'::text,
        NULL::timestamptz, NULL::uuid, NULL::integer, NULL::integer, p_message_id;
END
$$;
