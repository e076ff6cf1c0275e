// Schema version 4: the facts the escalation and SLA timers record on an incident, and the one function that
// records them at most once per escalation step and per SLA clock.

extension Migration {
    /// Adds `escalation_step` and `sla_breaches` to incidents (defaults keep older rows valid), an index of jobs
    /// by incident and kind, and `im_record_timer`, the timers' conditional update.
    static let v4 = Migration(version: 4, name: "escalation and SLA timer facts", sql: #"""
    ALTER TABLE incidents ADD COLUMN escalation_step integer NOT NULL DEFAULT 0;
    ALTER TABLE incidents ADD COLUMN sla_breaches jsonb NOT NULL DEFAULT '[]';
    -- "Was this incident paged?" on every acknowledgement and resolution, without scanning the whole queue.
    CREATE INDEX jobs_by_incident_kind ON jobs (incident_id, kind);

    -- Like im_update_incident, for timer jobs: appends timeline entries and enqueues jobs, and records either an
    -- escalation step (p_step) or an SLA breach (p_breach, {clock, dueAt, recordedAt}). A step not above the one
    -- recorded, or a breach of a clock already breached, changes nothing (outcome 'already'), whatever the
    -- version: a timer job that runs twice records its fact once. Other outcomes: recorded, conflict (version is
    -- then the current one), not_found.
    CREATE FUNCTION im_record_timer(
        p_id text, p_expected_version bigint, p_actor text, p_step integer, p_breach jsonb, p_timeline jsonb,
        p_jobs jsonb, OUT outcome text, OUT version bigint, OUT change_position bigint)
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
        version := v_old.version;
        IF (p_step IS NOT NULL AND v_old.escalation_step >= p_step)
           OR (p_breach IS NOT NULL AND EXISTS (
                   SELECT 1 FROM jsonb_array_elements(v_old.sla_breaches) AS b WHERE b->>'clock' = p_breach->>'clock'))
        THEN
            outcome := 'already';
            RETURN;
        END IF;
        IF v_old.version <> p_expected_version THEN
            outcome := 'conflict';
            RETURN;
        END IF;
        IF p_step IS NOT NULL THEN
            v_old_fields := v_old_fields || jsonb_build_object('escalation_step', v_old.escalation_step);
            v_new_fields := v_new_fields || jsonb_build_object('escalation_step', p_step);
        END IF;
        IF p_breach IS NOT NULL THEN
            v_new_fields := v_new_fields || jsonb_build_object('sla_breach', p_breach);
        END IF;
        IF p_timeline IS NOT NULL AND jsonb_array_length(p_timeline) > 0 THEN
            v_new_fields := v_new_fields || jsonb_build_object('timeline_appended', p_timeline);
        END IF;
        version := v_old.version + 1;
        change_position := im_record_change(p_id, 'updated', version, p_actor, v_old_fields, v_new_fields);
        UPDATE incidents SET
            escalation_step = coalesce(p_step, escalation_step),
            sla_breaches = CASE WHEN p_breach IS NULL THEN sla_breaches
                                ELSE sla_breaches || jsonb_build_array(p_breach) END,
            timeline = timeline || coalesce(p_timeline, '[]'),
            updated_at = now(),
            version = im_record_timer.version,
            position = im_record_timer.change_position
        WHERE id = p_id;
        PERFORM im_enqueue_jobs(p_id, coalesce(p_jobs, '[]'));
        outcome := 'recorded';
    END
    $$;
    """#)
}
