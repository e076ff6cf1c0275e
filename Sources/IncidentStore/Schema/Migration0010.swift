// Schema version 10 (issue 16): durable cursors of outbound feeds read from the audit log (the Governance audit
// push), and resolution details (root cause, actions taken) on incidents, written and audited by the update.

extension Migration {
    /// One row per feed: the last audit sequence number its receiver acknowledged. The audit log is the queue; a
    /// job per event would add a row to every create's transaction on the hot path, while a cursor costs one update
    /// per delivered batch. Audit sequence numbers are taken under the `chain_head` lock and so become visible in
    /// order: everything at or below the committed head is there, and a cursor below it skips nothing.
    ///
    /// `resolution` holds `{root_cause, actions_taken}`. `im_update_incident` gains a 13th argument for it and
    /// audits it like every other field (old and new value in the hash-chained log); the 12-argument version stays
    /// unchanged, so a replica still on the previous binary keeps working during a rolling upgrade.
    /// Self-contained (new objects only, nothing existing altered but one added column), so it can be renumbered
    /// if another v9 lands first (it did: correlation is v9, so this is v10).
    static let v10 = Migration(version: 10, name: "outbound audit feed cursors, resolution details", sql: #"""
    CREATE TABLE outbound_cursors (
        name        text PRIMARY KEY,
        last_seq    bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
        updated_at  timestamptz NOT NULL DEFAULT now()
    );

    ALTER TABLE incidents ADD COLUMN resolution jsonb;

    CREATE FUNCTION im_update_incident(
        p_id text, p_expected_version bigint, p_actor text, p_status text, p_team text, p_policy text,
        p_tags jsonb, p_timeline jsonb, p_actions jsonb, p_jobs jsonb, p_severity text, p_priority smallint,
        p_resolution jsonb, OUT outcome text, OUT version bigint, OUT change_position bigint)
    LANGUAGE plpgsql AS $$
    DECLARE
        v_old incidents;
        v_old_fields jsonb := '{}';
        v_new_fields jsonb := '{}';
    BEGIN
        PERFORM im_begin_changes();
        SELECT * INTO v_old FROM incidents WHERE id = p_id FOR UPDATE;
        IF NOT FOUND THEN
            outcome := 'not_found';
            RETURN;
        END IF;
        IF v_old.version <> p_expected_version THEN
            outcome := 'conflict';
            version := v_old.version;
            RETURN;
        END IF;
        IF p_status IS NOT NULL AND p_status <> v_old.status THEN
            v_old_fields := v_old_fields || jsonb_build_object('status', v_old.status);
            v_new_fields := v_new_fields || jsonb_build_object('status', p_status);
        END IF;
        IF p_severity IS NOT NULL AND p_severity <> v_old.severity THEN
            v_old_fields := v_old_fields || jsonb_build_object('severity', v_old.severity);
            v_new_fields := v_new_fields || jsonb_build_object('severity', p_severity);
        END IF;
        IF p_priority IS NOT NULL AND p_priority <> v_old.priority THEN
            v_old_fields := v_old_fields || jsonb_build_object('priority', v_old.priority);
            v_new_fields := v_new_fields || jsonb_build_object('priority', p_priority);
        END IF;
        IF p_team IS NOT NULL AND p_team <> v_old.assigned_team THEN
            v_old_fields := v_old_fields || jsonb_build_object('assigned_team', v_old.assigned_team);
            v_new_fields := v_new_fields || jsonb_build_object('assigned_team', p_team);
        END IF;
        IF p_policy IS NOT NULL AND p_policy <> v_old.escalation_policy THEN
            v_old_fields := v_old_fields || jsonb_build_object('escalation_policy', v_old.escalation_policy);
            v_new_fields := v_new_fields || jsonb_build_object('escalation_policy', p_policy);
        END IF;
        IF p_tags IS NOT NULL AND p_tags <> v_old.tags THEN
            v_old_fields := v_old_fields || jsonb_build_object('tags', v_old.tags);
            v_new_fields := v_new_fields || jsonb_build_object('tags', p_tags);
        END IF;
        IF p_actions IS NOT NULL AND p_actions <> v_old.remediation_actions THEN
            v_old_fields := v_old_fields || jsonb_build_object('remediation_actions', v_old.remediation_actions);
            v_new_fields := v_new_fields || jsonb_build_object('remediation_actions', p_actions);
        END IF;
        IF p_resolution IS NOT NULL AND p_resolution IS DISTINCT FROM v_old.resolution THEN
            v_old_fields := v_old_fields || jsonb_build_object('resolution', v_old.resolution);
            v_new_fields := v_new_fields || jsonb_build_object('resolution', p_resolution);
        END IF;
        IF p_timeline IS NOT NULL AND jsonb_array_length(p_timeline) > 0 THEN
            v_new_fields := v_new_fields || jsonb_build_object('timeline_appended', p_timeline);
        END IF;
        version := v_old.version + 1;
        change_position := im_record_change(p_id, 'updated', version, p_actor, v_old_fields, v_new_fields);
        UPDATE incidents SET
            status = coalesce(p_status, status),
            severity = coalesce(p_severity, severity),
            priority = coalesce(p_priority, priority),
            assigned_team = coalesce(p_team, assigned_team),
            escalation_policy = coalesce(p_policy, escalation_policy),
            tags = coalesce(p_tags, tags),
            remediation_actions = coalesce(p_actions, remediation_actions),
            resolution = coalesce(p_resolution, resolution),
            timeline = timeline || coalesce(p_timeline, '[]'),
            acknowledged_at = CASE WHEN p_status = 'ACKNOWLEDGED' AND acknowledged_at IS NULL THEN now()
                                   ELSE acknowledged_at END,
            resolved_at = CASE WHEN p_status IN ('RESOLVED', 'CLOSED') AND resolved_at IS NULL THEN now()
                               ELSE resolved_at END,
            updated_at = now(),
            version = im_update_incident.version,
            position = im_update_incident.change_position
        WHERE id = p_id;
        PERFORM im_enqueue_jobs(p_id, coalesce(p_jobs, '[]'));
        outcome := 'updated';
    END
    $$;
    """#)
}
