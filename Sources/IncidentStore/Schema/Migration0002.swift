// Schema version 2: severity changes through UpdateIncident, list filters' indexes, and the lookup of an
// incident's opening event id.

extension Migration {
    /// Adds an `im_update_incident` that also sets severity and priority (audited like every other field; the
    /// version-1 signature now delegates to it), and indexes what ListIncidents filters on and what GetIncident reads the event id by.
    static let v2 = Migration(version: 2, name: "severity updates, list filter indexes", sql: #"""
    -- The list filters most used on a large table: open incidents of one status, one team's queue. Both keep
    -- the newest-first keyset order so a filtered page is an index range scan.
    CREATE INDEX incidents_status_newest ON incidents (status, created_at DESC, id DESC);
    CREATE INDEX incidents_team_newest ON incidents (assigned_team, created_at DESC, id DESC);
    -- An incident's opening event (its event_id on the API) is found through its events row.
    CREATE INDEX events_incident ON events (incident_id);

    -- A conditional update. NULL arguments leave a field unchanged; p_timeline is appended. Outcomes: updated,
    -- conflict (version is then the current one), not_found. Severity and priority change together: the
    -- priority is the configured mapping of the new severity, chosen by the caller.
    CREATE FUNCTION im_update_incident(
        p_id text, p_expected_version bigint, p_actor text, p_status text, p_team text, p_policy text,
        p_tags jsonb, p_timeline jsonb, p_actions jsonb, p_jobs jsonb, p_severity text, p_priority smallint,
        OUT outcome text, OUT version bigint, OUT change_position bigint)
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

    -- The version-1 signature stays, leaving severity alone, so a replica still running the previous binary
    -- keeps working against this schema during a rolling upgrade.
    CREATE OR REPLACE FUNCTION im_update_incident(
        p_id text, p_expected_version bigint, p_actor text, p_status text, p_team text, p_policy text,
        p_tags jsonb, p_timeline jsonb, p_actions jsonb, p_jobs jsonb,
        OUT outcome text, OUT version bigint, OUT change_position bigint)
    LANGUAGE sql AS $$
        SELECT * FROM im_update_incident(p_id, p_expected_version, p_actor, p_status, p_team, p_policy, p_tags,
                                         p_timeline, p_actions, p_jobs, NULL::text, NULL::smallint)
    $$;
    """#)
}
