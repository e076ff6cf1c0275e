// Schema version 1: incidents, events, change log, audit chain, jobs, and the functions that write them.

extension Migration {
    /// The first schema. Writers of incidents, the change log and the audit chain all lock `chain_head` first:
    /// see `im_begin_changes` for why.
    static let v1 = Migration(version: 1, name: "initial schema", sql: #"""
    CREATE TABLE incident_day_counters (
        day        date PRIMARY KEY,
        last_value integer NOT NULL
    );

    CREATE TABLE incidents (
        id                  text PRIMARY KEY,
        status              text NOT NULL CHECK (status IN ('NEW','ACKNOWLEDGED','IN_PROGRESS','RESOLVED','CLOSED')),
        severity            text NOT NULL CHECK (severity IN ('critical','high','medium','low','info')),
        priority            smallint NOT NULL CHECK (priority BETWEEN 0 AND 4),
        title               text NOT NULL,
        description         text NOT NULL DEFAULT '',
        source              text NOT NULL,
        source_version      text NOT NULL DEFAULT '',
        event_type          text NOT NULL DEFAULT '',
        category            text NOT NULL DEFAULT '',
        resource            jsonb NOT NULL DEFAULT '{}',
        metrics             jsonb NOT NULL DEFAULT '{}',
        tags                jsonb NOT NULL DEFAULT '{}',
        encrypted_payload   bytea,
        request_hash        text,
        assigned_team       text NOT NULL DEFAULT '',
        escalation_policy   text NOT NULL DEFAULT '',
        event_count         integer NOT NULL DEFAULT 1,
        timeline            jsonb NOT NULL DEFAULT '[]',
        remediation_actions jsonb NOT NULL DEFAULT '[]',
        created_at          timestamptz NOT NULL,
        updated_at          timestamptz NOT NULL,
        acknowledged_at     timestamptz,
        resolved_at         timestamptz,
        version             bigint NOT NULL DEFAULT 1,
        position            bigint NOT NULL
    );
    CREATE INDEX incidents_newest ON incidents (created_at DESC, id DESC);

    -- The events that fed incidents; the primary key is the dedupe key. No foreign key: the event row is
    -- written first (it is the claim on the event id) and points at its incident once that exists.
    CREATE TABLE events (
        source       text NOT NULL,
        event_id     text NOT NULL,
        content_hash bytea NOT NULL,
        incident_id  text,
        received_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (source, event_id)
    );

    -- One row per incident change. Positions come from a sequence but only while holding chain_head, so they
    -- become visible in order.
    CREATE SEQUENCE change_positions;
    CREATE TABLE change_log (
        position      bigint PRIMARY KEY,
        incident_id   text NOT NULL,
        kind          text NOT NULL,
        version       bigint NOT NULL,
        committed_at  timestamptz NOT NULL DEFAULT now()
    );

    CREATE SEQUENCE audit_sequence;
    CREATE TABLE audit_log (
        seq          bigint PRIMARY KEY,
        incident_id  text NOT NULL,
        actor        text NOT NULL,
        action       text NOT NULL,
        old_value    jsonb,
        new_value    jsonb,
        at           timestamptz NOT NULL,
        prev_hash    bytea NOT NULL,
        hash         bytea NOT NULL
    );
    CREATE INDEX audit_log_incident ON audit_log (incident_id, seq);

    -- The single row every change-writing transaction locks first; it also holds the audit chain's head so a
    -- deleted tail is detectable.
    CREATE TABLE chain_head (
        id         smallint PRIMARY KEY CHECK (id = 1),
        audit_seq  bigint NOT NULL,
        audit_hash bytea NOT NULL
    );
    INSERT INTO chain_head VALUES (1, 0, decode(repeat('00', 32), 'hex'));

    CREATE TABLE jobs (
        id              bigserial PRIMARY KEY,
        kind            text NOT NULL,
        incident_id     text,
        payload         jsonb NOT NULL DEFAULT '{}',
        priority        smallint NOT NULL CHECK (priority BETWEEN 0 AND 4),
        due_at          timestamptz NOT NULL,
        attempts        integer NOT NULL DEFAULT 0,
        max_attempts    integer NOT NULL CHECK (max_attempts > 0),
        state           text NOT NULL DEFAULT 'ready' CHECK (state IN ('ready','running','done','dead')),
        lease_owner     text,
        lease_until     timestamptz,
        idempotency_key text NOT NULL UNIQUE,
        last_error      text,
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX jobs_claimable ON jobs (priority, due_at) WHERE state IN ('ready', 'running');

    -- Why one lock: positions from concurrent transactions could otherwise commit out of order, and a reader
    -- at position N would skip a lower position that becomes visible later. Holding this row lock until commit
    -- means the next writer takes its positions only after this one is visible (Postgres releases locks after
    -- it marks the transaction committed), so the visible positions are always a prefix. The price, fsyncs of
    -- change writers do not overlap, is paid back by group commit writing a whole batch per transaction.
    -- The same order makes the audit hash chain linear and the per-day incident counter race-free.
    --
    -- While a transaction holds the lock, the chain head and the day counter live in transaction-local
    -- settings (im.*): updating one row hundreds of times in one transaction would lengthen its version chain
    -- with every update. A deferred trigger writes them back once, at commit.
    CREATE FUNCTION im_begin_changes() RETURNS void LANGUAGE plpgsql AS $$
    DECLARE
        v_head chain_head;
        v_last integer;
    BEGIN
        IF coalesce(current_setting('im.locked', true), '') = 'on' THEN
            RETURN;
        END IF;
        SELECT * INTO v_head FROM chain_head WHERE id = 1 FOR UPDATE;
        SELECT last_value INTO v_last FROM incident_day_counters WHERE day = (now() AT TIME ZONE 'UTC')::date;
        PERFORM set_config('im.locked', 'on', true);
        PERFORM set_config('im.audit_hash', encode(v_head.audit_hash, 'hex'), true);
        PERFORM set_config('im.audit_seq', v_head.audit_seq::text, true);
        PERFORM set_config('im.day_counter', coalesce(v_last, 0)::text, true);
        PERFORM set_config('im.flushed', 'no', true);
        -- Delivered at commit, once per transaction: listeners then read the feed from their position.
        PERFORM pg_notify('im_changes', '');
    END
    $$;

    CREATE FUNCTION im_flush_changes() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF current_setting('im.flushed', true) = 'no' THEN
            UPDATE chain_head SET audit_hash = decode(current_setting('im.audit_hash'), 'hex'),
                                  audit_seq = current_setting('im.audit_seq')::bigint
            WHERE id = 1;
            INSERT INTO incident_day_counters AS c (day, last_value)
            VALUES ((now() AT TIME ZONE 'UTC')::date, current_setting('im.day_counter')::integer)
            ON CONFLICT (day) DO UPDATE SET last_value = excluded.last_value;
            PERFORM set_config('im.flushed', 'yes', true);
        END IF;
        RETURN NULL;
    END
    $$;

    CREATE CONSTRAINT TRIGGER change_log_flush AFTER INSERT ON change_log
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION im_flush_changes();

    CREATE FUNCTION im_audit_digest(prev bytea, seq bigint, incident_id text, actor text, action text,
                                    old_value jsonb, new_value jsonb, at timestamptz)
    RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
        SELECT sha256(prev || convert_to(concat_ws(E'\x1f', seq::text, incident_id, actor, action,
            coalesce(old_value::text, ''), coalesce(new_value::text, ''),
            to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')), 'UTF8'))
    $$;

    -- Appends a change-log row and an audit entry chained to the previous one. Returns the position.
    CREATE FUNCTION im_record_change(p_incident text, p_kind text, p_version bigint, p_actor text,
                                     p_old jsonb, p_new jsonb) RETURNS bigint LANGUAGE plpgsql AS $$
    DECLARE
        v_position bigint;
        v_seq bigint;
        v_prev bytea;
        v_hash bytea;
        v_at timestamptz := clock_timestamp();
    BEGIN
        PERFORM im_begin_changes();
        v_position := nextval('change_positions');
        v_seq := nextval('audit_sequence');
        v_prev := decode(current_setting('im.audit_hash'), 'hex');
        v_hash := im_audit_digest(v_prev, v_seq, p_incident, p_actor, p_kind, p_old, p_new, v_at);
        INSERT INTO change_log (position, incident_id, kind, version) VALUES (v_position, p_incident, p_kind, p_version);
        INSERT INTO audit_log (seq, incident_id, actor, action, old_value, new_value, at, prev_hash, hash)
        VALUES (v_seq, p_incident, p_actor, p_kind, p_old, p_new, v_at, v_prev, v_hash);
        PERFORM set_config('im.audit_hash', encode(v_hash, 'hex'), true);
        PERFORM set_config('im.audit_seq', v_seq::text, true);
        RETURN v_position;
    END
    $$;

    -- Jobs given as a JSON array of {kind, key, priority, delay_ms, max_attempts, payload}; idempotency keys are
    -- scoped by incident so a replayed create cannot enqueue twice.
    CREATE FUNCTION im_enqueue_jobs(p_incident text, p_jobs jsonb) RETURNS void LANGUAGE sql AS $$
        INSERT INTO jobs (kind, incident_id, payload, priority, due_at, max_attempts, idempotency_key)
        SELECT j->>'kind', p_incident, coalesce(j->'payload', '{}'), (j->>'priority')::smallint,
               now() + ((j->>'delay_ms')::bigint * interval '1 millisecond'), (j->>'max_attempts')::integer,
               p_incident || ':' || (j->>'key')
        FROM jsonb_array_elements(p_jobs) AS j
        ON CONFLICT (idempotency_key) DO NOTHING
    $$;

    -- Creates the incident for a new (source, event_id), or recognises a replay. Outcomes: created,
    -- duplicate (same content: event_count + 1), conflict (same id, different content: nothing written).
    CREATE FUNCTION im_create_incident(
        p_source text, p_event_id text, p_content_hash bytea, p_actor text, p_severity text, p_priority smallint,
        p_title text, p_description text, p_source_version text, p_event_type text, p_category text,
        p_resource jsonb, p_metrics jsonb, p_tags jsonb, p_payload bytea, p_request_hash text, p_team text,
        p_policy text, p_timeline jsonb, p_actions jsonb, p_jobs jsonb,
        OUT incident_id text, OUT outcome text, OUT version bigint, OUT change_position bigint)
    LANGUAGE plpgsql AS $$
    DECLARE
        v_hash bytea;
        v_count integer;
        v_n integer;
    BEGIN
        PERFORM im_begin_changes();
        -- The event row is the claim on (source, event_id); it names the id the incident will get.
        v_n := current_setting('im.day_counter')::integer + 1;
        incident_id := 'INC-' || to_char((now() AT TIME ZONE 'UTC')::date, 'YYYYMMDD') || '-'
            || CASE WHEN v_n < 100000 THEN lpad(v_n::text, 5, '0') ELSE v_n::text END;
        INSERT INTO events (source, event_id, content_hash, incident_id)
        VALUES (p_source, p_event_id, p_content_hash, incident_id)
        ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
            SELECT e.incident_id, e.content_hash INTO incident_id, v_hash
            FROM events e WHERE e.source = p_source AND e.event_id = p_event_id;
            IF v_hash IS DISTINCT FROM p_content_hash THEN
                outcome := 'conflict';
                RETURN;
            END IF;
            SELECT i.version + 1, i.event_count INTO version, v_count FROM incidents i WHERE i.id = incident_id;
            change_position := im_record_change(incident_id, 'event_repeated', version, p_actor,
                                                jsonb_build_object('event_count', v_count),
                                                jsonb_build_object('event_count', v_count + 1));
            UPDATE incidents i SET event_count = v_count + 1, updated_at = now(),
                                   version = im_create_incident.version, position = change_position
            WHERE i.id = incident_id;
            outcome := 'duplicate';
            RETURN;
        END IF;
        PERFORM set_config('im.day_counter', v_n::text, true);
        version := 1;
        change_position := im_record_change(incident_id, 'created', 1, p_actor, NULL,
                                     jsonb_build_object('status', 'NEW', 'severity', p_severity, 'priority', p_priority));
        INSERT INTO incidents (id, status, severity, priority, title, description, source, source_version,
            event_type, category, resource, metrics, tags, encrypted_payload, request_hash, assigned_team,
            escalation_policy, timeline, remediation_actions, created_at, updated_at, version, position)
        VALUES (incident_id, 'NEW', p_severity, p_priority, p_title, p_description, p_source, p_source_version,
            p_event_type, p_category, p_resource, p_metrics, p_tags, p_payload, p_request_hash, p_team,
            p_policy, p_timeline, p_actions, now(), now(), 1, change_position);
        IF jsonb_array_length(p_jobs) > 0 THEN
            PERFORM im_enqueue_jobs(incident_id, p_jobs);
        END IF;
        outcome := 'created';
    END
    $$;

    -- Group commit's fast path: a whole batch in set-based statements, rows in argument order. When any event
    -- of the batch is already known, or repeats within it, it falls back to im_create_incident per event.
    CREATE FUNCTION im_create_batch(
        p_source text[], p_event_id text[], p_content_hash bytea[], p_actor text[], p_severity text[],
        p_priority smallint[], p_title text[], p_description text[], p_source_version text[], p_event_type text[],
        p_category text[], p_resource jsonb[], p_metrics jsonb[], p_tags jsonb[], p_payload bytea[],
        p_request_hash text[], p_team text[], p_policy text[], p_timeline jsonb[], p_actions jsonb[],
        p_jobs jsonb[])
    RETURNS TABLE (ord integer, incident_id text, outcome text, version bigint, change_position bigint)
    LANGUAGE plpgsql AS $$
    DECLARE
        v_n integer := cardinality(p_event_id);
        v_counter integer;
        v_first_position bigint;
        v_first_seq bigint;
        v_day text := to_char((now() AT TIME ZONE 'UTC')::date, 'YYYYMMDD');
        v_at timestamptz := clock_timestamp();
        v_prev bytea;
        v_prevs bytea[] := '{}';
        v_hashes bytea[] := '{}';
        v_new jsonb;
        i integer;
    BEGIN
        PERFORM im_begin_changes();
        IF v_n = 0 THEN
            RETURN;
        END IF;
        IF (SELECT count(DISTINCT (s, e)) FROM unnest(p_source, p_event_id) AS u(s, e)) < v_n
           OR EXISTS (SELECT 1 FROM unnest(p_source, p_event_id) AS u(s, e)
                      JOIN events ev ON ev.source = u.s AND ev.event_id = u.e) THEN
            FOR i IN 1..v_n LOOP
                RETURN QUERY SELECT i, c.incident_id, c.outcome, c.version, c.change_position
                FROM im_create_incident(p_source[i], p_event_id[i], p_content_hash[i], p_actor[i], p_severity[i],
                    p_priority[i], p_title[i], p_description[i], p_source_version[i], p_event_type[i],
                    p_category[i], p_resource[i], p_metrics[i], p_tags[i], p_payload[i], p_request_hash[i],
                    p_team[i], p_policy[i], p_timeline[i], p_actions[i], p_jobs[i]) AS c;
            END LOOP;
            RETURN;
        END IF;
        -- We hold chain_head, so nobody else draws from these sequences now: reserve n in one step each.
        v_first_position := setval('change_positions', nextval('change_positions') + v_n - 1) - v_n + 1;
        v_first_seq := setval('audit_sequence', nextval('audit_sequence') + v_n - 1) - v_n + 1;
        v_counter := current_setting('im.day_counter')::integer;
        v_prev := decode(current_setting('im.audit_hash'), 'hex');
        FOR i IN 1..v_n LOOP
            v_new := jsonb_build_object('status', 'NEW', 'severity', p_severity[i], 'priority', p_priority[i]);
            v_prevs := v_prevs || v_prev;
            v_prev := im_audit_digest(v_prev, v_first_seq + i - 1,
                'INC-' || v_day || '-' || CASE WHEN v_counter + i < 100000 THEN lpad((v_counter + i)::text, 5, '0')
                                               ELSE (v_counter + i)::text END,
                p_actor[i], 'created', NULL, v_new, v_at);
            v_hashes := v_hashes || v_prev;
        END LOOP;
        CREATE TEMP TABLE IF NOT EXISTS im_batch (
            ord integer, id text, position bigint, seq bigint) ON COMMIT DELETE ROWS;
        DELETE FROM im_batch;
        INSERT INTO im_batch
        SELECT g, 'INC-' || v_day || '-' || CASE WHEN v_counter + g < 100000 THEN lpad((v_counter + g)::text, 5, '0')
                                                 ELSE (v_counter + g)::text END,
               v_first_position + g - 1, v_first_seq + g - 1
        FROM generate_series(1, v_n) AS g;
        INSERT INTO events (source, event_id, content_hash, incident_id)
        SELECT p_source[b.ord], p_event_id[b.ord], p_content_hash[b.ord], b.id FROM im_batch b;
        INSERT INTO change_log (position, incident_id, kind, version)
        SELECT b.position, b.id, 'created', 1 FROM im_batch b;
        INSERT INTO audit_log (seq, incident_id, actor, action, old_value, new_value, at, prev_hash, hash)
        SELECT b.seq, b.id, p_actor[b.ord], 'created', NULL,
               jsonb_build_object('status', 'NEW', 'severity', p_severity[b.ord], 'priority', p_priority[b.ord]),
               v_at, v_prevs[b.ord], v_hashes[b.ord]
        FROM im_batch b;
        INSERT INTO incidents (id, status, severity, priority, title, description, source, source_version,
            event_type, category, resource, metrics, tags, encrypted_payload, request_hash, assigned_team,
            escalation_policy, timeline, remediation_actions, created_at, updated_at, version, position)
        SELECT b.id, 'NEW', p_severity[b.ord], p_priority[b.ord], p_title[b.ord], p_description[b.ord],
            p_source[b.ord], p_source_version[b.ord], p_event_type[b.ord], p_category[b.ord], p_resource[b.ord],
            p_metrics[b.ord], p_tags[b.ord], p_payload[b.ord], p_request_hash[b.ord], p_team[b.ord],
            p_policy[b.ord], p_timeline[b.ord], p_actions[b.ord], now(), now(), 1, b.position
        FROM im_batch b;
        INSERT INTO jobs (kind, incident_id, payload, priority, due_at, max_attempts, idempotency_key)
        SELECT j->>'kind', b.id, coalesce(j->'payload', '{}'), (j->>'priority')::smallint,
               now() + ((j->>'delay_ms')::bigint * interval '1 millisecond'), (j->>'max_attempts')::integer,
               b.id || ':' || (j->>'key')
        FROM im_batch b, jsonb_array_elements(p_jobs[b.ord]) AS j
        ON CONFLICT (idempotency_key) DO NOTHING;
        PERFORM set_config('im.day_counter', (v_counter + v_n)::text, true);
        PERFORM set_config('im.audit_hash', encode(v_prev, 'hex'), true);
        PERFORM set_config('im.audit_seq', (v_first_seq + v_n - 1)::text, true);
        RETURN QUERY SELECT b.ord, b.id, 'created'::text, 1::bigint, b.position FROM im_batch b ORDER BY b.ord;
    END
    $$;

    -- A conditional update. NULL arguments leave a field unchanged; p_timeline is appended. Outcomes: updated,
    -- conflict (version is then the current one), not_found.
    CREATE FUNCTION im_update_incident(
        p_id text, p_expected_version bigint, p_actor text, p_status text, p_team text, p_policy text,
        p_tags jsonb, p_timeline jsonb, p_actions jsonb, p_jobs jsonb,
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
    """#)
}
