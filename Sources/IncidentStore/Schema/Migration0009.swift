// Schema version 9: correlation. A keyed event folds into the open incident holding its key within the window;
// the database, not the writer, keeps one incident per key absorbing events.

extension Migration {
    /// Correlation. `correlation_key` stays on an incident for readers; `correlation_slot` says whether it holds
    /// the key: only the holder absorbs events of the key, while it is open. A unique partial index allows one
    /// holder per key, so no interleaving of writers, batches or replicas can have two incidents absorbing one key.
    /// The fold finds the holder with the window and the open statuses in the WHERE of one `SELECT … FOR UPDATE`,
    /// which Postgres re-checks on the newest row version after waiting for a lock: a concurrent resolve or an
    /// expired window is never folded into. A new incident for a key takes the slot from the earlier holder
    /// (expired, resolved or closed) and lists it in `related_incidents`; that one, even reopened, then holds no
    /// slot and cannot collide with the index.
    ///
    /// Events keep a redacted copy of what they said (`events.detail`, built from the same parameters the incident
    /// row is, which the intake redacted) so `ListIncidentEvents` can page through a folded burst. The new
    /// `im_create_incident`/`im_create_batch` take three more arguments (key, window, jobs of a severity raise); the
    /// version-1 functions stay for binaries that still call them during a rolling upgrade.
    ///
    /// The batch keeps its set-based path for every event that cannot fold (no holder of its key, no repeat in the
    /// batch, not a replay), folds the events whose key has an open holder as one group per holder
    /// (`im_fold_group`: one change-log entry, audit entry, snapshot and row update per holder and batch, listing
    /// the group's event ids), and writes only the rest one by one (replays, and a key's first events when it has
    /// no holder yet). Rows come back tagged with their argument position (`ord`). A group's events share one
    /// change: the states between them never existed outside the transaction, so a stream misses nothing.
    static let v9 = Migration(version: 9, name: "correlation", sql: #"""
    ALTER TABLE incidents ADD COLUMN correlation_key text;
    ALTER TABLE incidents ADD COLUMN correlation_slot boolean NOT NULL DEFAULT false;
    ALTER TABLE incidents ADD COLUMN first_event_at timestamptz;
    ALTER TABLE incidents ADD COLUMN last_event_at timestamptz;
    ALTER TABLE incidents ADD COLUMN related_incidents jsonb NOT NULL DEFAULT '[]';
    ALTER TABLE events ADD COLUMN detail jsonb;

    -- One holder per key, whatever its status: only holders absorb (open and within the window), and a new
    -- incident takes the slot from the old holder in the statement that opens it. One index serves both the
    -- uniqueness and the holder lookups, so a keyed create maintains one index more than an unkeyed one.
    CREATE UNIQUE INDEX incidents_one_holder_per_key ON incidents (correlation_key) WHERE correlation_slot;
    -- ListIncidentEvents pages an incident's events in arrival order; a batch's events share received_at.
    CREATE INDEX events_incident_order ON events (incident_id, received_at, source, event_id);
    DROP INDEX events_incident;

    CREATE FUNCTION im_event_detail(p_severity text, p_priority smallint, p_title text, p_description text,
        p_source_version text, p_event_type text, p_category text, p_resource jsonb, p_metrics jsonb, p_tags jsonb)
    RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
        SELECT jsonb_build_object('severity', p_severity, 'priority', p_priority, 'title', p_title,
            'description', p_description, 'source_version', p_source_version, 'event_type', p_event_type,
            'category', p_category, 'resource', p_resource, 'metrics', p_metrics, 'tags', p_tags)
    $$;

    -- Folds events (argument arrays, one element per event, none of them known yet) into the open incident
    -- p_holder, which the caller found holding their key within the window: one change, one audit entry and one
    -- row update for the whole group, however many events it has. Timeline: `correlated: <event_id>` while the
    -- incident has had at most 20 events, then a `correlated_summary` line per minute that counts the rest. The
    -- most urgent event raises a less urgent incident to its level and enqueues its p_raise_jobs. Rows: k (the
    -- event's place in the arrays), outcome (correlated, or correlated_raised for the raising event), version,
    -- change_position.
    CREATE FUNCTION im_fold_group(
        p_holder text, p_source text[], p_event_id text[], p_content_hash bytea[], p_actor text[],
        p_severity text[], p_priority smallint[], p_title text[], p_description text[], p_source_version text[],
        p_event_type text[], p_category text[], p_resource jsonb[], p_metrics jsonb[], p_tags jsonb[],
        p_raise_jobs jsonb[])
    RETURNS TABLE (k integer, outcome text, version bigint, change_position bigint)
    LANGUAGE plpgsql AS $$
    DECLARE
        c_itemized constant integer := 20;
        v_n integer := cardinality(p_event_id);
        v_version bigint;
        v_priority smallint;
        v_severity text;
        v_count integer;
        v_timeline jsonb;
        v_top integer;
        v_raised boolean;
        v_new_version bigint;
        v_position bigint;
        v_old jsonb;
        v_new jsonb;
        v_rest integer := 0;
        v_minute text;
        v_last jsonb;
        v_summary integer;
        v_count_text text;
        v_i integer;
        v_k integer;
    BEGIN
        SELECT i.version, i.priority, i.severity, i.event_count, i.timeline
        INTO v_version, v_priority, v_severity, v_count, v_timeline
        FROM incidents i WHERE i.id = p_holder FOR UPDATE;
        SELECT g INTO v_top FROM generate_series(1, v_n) AS g ORDER BY p_priority[g], g LIMIT 1;
        v_raised := p_priority[v_top] < v_priority;
        v_new_version := v_version + 1;
        v_old := jsonb_build_object('event_count', v_count);
        v_new := jsonb_build_object('event_count', v_count + v_n, 'correlated_event_ids', to_jsonb(p_event_id));
        IF v_raised THEN
            v_old := v_old || jsonb_build_object('severity', v_severity, 'priority', v_priority);
            v_new := v_new || jsonb_build_object('severity', p_severity[v_top], 'priority', p_priority[v_top]);
        END IF;
        v_position := im_record_change(p_holder, 'event_correlated', v_new_version, p_actor[1], v_old, v_new);
        -- A flood must not grow the timeline without bound: the events table keeps every event.
        FOR v_k IN 1..v_n LOOP
            IF v_count + v_k - 1 <= c_itemized THEN
                v_timeline := v_timeline || jsonb_build_array(jsonb_build_object(
                    'at', extract(epoch FROM now()), 'actor', p_actor[v_k], 'kind', 'correlated',
                    'message', 'correlated: ' || p_event_id[v_k], 'position', v_position,
                    'details', jsonb_build_object('event_id', p_event_id[v_k], 'source', p_source[v_k])));
            ELSE
                v_rest := v_rest + 1;
            END IF;
        END LOOP;
        IF v_rest > 0 THEN
            v_minute := to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI"Z"');
            -- This minute's summary, if it is among the newest entries (job outcomes append between folds).
            FOR v_i IN REVERSE jsonb_array_length(v_timeline) - 1 .. greatest(0, jsonb_array_length(v_timeline) - 16)
            LOOP
                v_last := v_timeline -> v_i;
                IF v_last ->> 'kind' = 'correlated_summary' AND v_last -> 'details' ->> 'minute' = v_minute THEN
                    v_summary := v_i;
                    EXIT;
                END IF;
            END LOOP;
            IF v_summary IS NOT NULL THEN
                v_count_text := ((v_last -> 'details' ->> 'count')::integer + v_rest)::text;
                v_timeline := jsonb_set(v_timeline, ARRAY[v_summary::text], v_last
                    || jsonb_build_object('message', v_count_text || ' more events correlated in ' || v_minute,
                                          'position', v_position,
                                          'details', jsonb_build_object('minute', v_minute, 'count', v_count_text)));
            ELSE
                v_timeline := v_timeline || jsonb_build_array(jsonb_build_object(
                    'at', extract(epoch FROM now()), 'actor', 'system', 'kind', 'correlated_summary',
                    'message', v_rest || ' more events correlated in ' || v_minute, 'position', v_position,
                    'details', jsonb_build_object('minute', v_minute, 'count', v_rest::text)));
            END IF;
        END IF;
        IF v_raised THEN
            v_timeline := v_timeline || jsonb_build_array(jsonb_build_object(
                'at', extract(epoch FROM now()), 'actor', p_actor[v_top], 'kind', 'severity_changed',
                'message', v_severity || ' (P' || v_priority || ') → ' || p_severity[v_top] || ' (P'
                    || p_priority[v_top] || ') by correlated event ' || p_event_id[v_top],
                'position', v_position,
                'details', jsonb_build_object('from', 'P' || v_priority, 'to', 'P' || p_priority[v_top],
                    'from_event_severity', v_severity, 'to_event_severity', p_severity[v_top],
                    'set', 'correlated_event', 'event_id', p_event_id[v_top])));
        END IF;
        INSERT INTO events (source, event_id, content_hash, incident_id, detail)
        SELECT p_source[g], p_event_id[g], p_content_hash[g], p_holder,
               im_event_detail(p_severity[g], p_priority[g], p_title[g], p_description[g], p_source_version[g],
                               p_event_type[g], p_category[g], p_resource[g], p_metrics[g], p_tags[g])
        FROM generate_series(1, v_n) AS g;
        UPDATE incidents i SET event_count = i.event_count + v_n, last_event_at = now(), updated_at = now(),
            version = v_new_version, position = v_position, timeline = v_timeline,
            severity = CASE WHEN v_raised THEN p_severity[v_top] ELSE i.severity END,
            priority = CASE WHEN v_raised THEN p_priority[v_top] ELSE i.priority END
        WHERE i.id = p_holder;
        IF v_raised AND jsonb_array_length(coalesce(p_raise_jobs[v_top], '[]')) > 0 THEN
            PERFORM im_enqueue_jobs(p_holder, p_raise_jobs[v_top]);
        END IF;
        RETURN QUERY SELECT g, CASE WHEN v_raised AND g = v_top THEN 'correlated_raised' ELSE 'correlated' END,
                            v_new_version, v_position
                     FROM generate_series(1, v_n) AS g;
    END
    $$;

    -- Outcomes: created, duplicate, conflict (as version 1), correlated (folded into incident_id), and
    -- correlated_raised (folded, and the event raised the incident's level: p_raise_jobs were enqueued).
    CREATE FUNCTION im_create_incident(
        p_source text, p_event_id text, p_content_hash bytea, p_actor text, p_severity text, p_priority smallint,
        p_title text, p_description text, p_source_version text, p_event_type text, p_category text,
        p_resource jsonb, p_metrics jsonb, p_tags jsonb, p_payload bytea, p_request_hash text, p_team text,
        p_policy text, p_timeline jsonb, p_actions jsonb, p_jobs jsonb, p_key text, p_window_ms bigint,
        p_raise_jobs jsonb,
        OUT incident_id text, OUT outcome text, OUT version bigint, OUT change_position bigint)
    LANGUAGE plpgsql AS $$
    DECLARE
        v_hash bytea;
        v_count integer;
        v_n integer;
        v_holder text;
        v_related jsonb;
    BEGIN
        PERFORM im_begin_changes();
        IF p_key IS NOT NULL THEN
            -- The window and the open statuses are checked in the statement that locks the holder.
            SELECT i.id INTO v_holder
            FROM incidents i
            WHERE i.correlation_key = p_key AND i.correlation_slot
              AND i.status IN ('NEW', 'ACKNOWLEDGED', 'IN_PROGRESS')
              AND coalesce(i.last_event_at, i.created_at) > now() - p_window_ms * interval '1 millisecond'
            FOR UPDATE;
        END IF;
        -- A replay is a duplicate before anything folds. Every writer of events holds chain_head
        -- (im_begin_changes), so nobody claims the event between this check and the fold's insert.
        IF v_holder IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM events e WHERE e.source = p_source AND e.event_id = p_event_id) THEN
            SELECT v_holder, f.outcome, f.version, f.change_position
            INTO incident_id, outcome, version, change_position
            FROM im_fold_group(v_holder, ARRAY[p_source], ARRAY[p_event_id], ARRAY[p_content_hash], ARRAY[p_actor],
                ARRAY[p_severity], ARRAY[p_priority], ARRAY[p_title], ARRAY[p_description], ARRAY[p_source_version],
                ARRAY[p_event_type], ARRAY[p_category], ARRAY[p_resource], ARRAY[p_metrics], ARRAY[p_tags],
                ARRAY[p_raise_jobs]) AS f;
            RETURN;
        END IF;
        v_n := current_setting('im.day_counter')::integer + 1;
        incident_id := 'INC-' || to_char((now() AT TIME ZONE 'UTC')::date, 'YYYYMMDD') || '-'
            || CASE WHEN v_n < 100000 THEN lpad(v_n::text, 5, '0') ELSE v_n::text END;
        -- The event row is the claim on (source, event_id).
        INSERT INTO events (source, event_id, content_hash, incident_id, detail)
        VALUES (p_source, p_event_id, p_content_hash, incident_id,
                im_event_detail(p_severity, p_priority, p_title, p_description, p_source_version, p_event_type,
                                p_category, p_resource, p_metrics, p_tags))
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
        IF p_key IS NOT NULL THEN
            -- Earlier holders (window expired, resolved, closed) give up the key; the new incident links them.
            WITH retired AS (
                UPDATE incidents i SET correlation_slot = false
                WHERE i.correlation_key = p_key AND i.correlation_slot RETURNING i.id
            )
            SELECT jsonb_agg(r.id ORDER BY r.id) INTO v_related FROM retired r;
        END IF;
        PERFORM set_config('im.day_counter', v_n::text, true);
        version := 1;
        change_position := im_record_change(incident_id, 'created', 1, p_actor, NULL,
                                     jsonb_build_object('status', 'NEW', 'severity', p_severity, 'priority', p_priority));
        INSERT INTO incidents (id, status, severity, priority, title, description, source, source_version,
            event_type, category, resource, metrics, tags, encrypted_payload, request_hash, assigned_team,
            escalation_policy, timeline, remediation_actions, created_at, updated_at, version, position,
            correlation_key, correlation_slot, first_event_at, last_event_at, related_incidents)
        VALUES (incident_id, 'NEW', p_severity, p_priority, p_title, p_description, p_source, p_source_version,
            p_event_type, p_category, p_resource, p_metrics, p_tags, p_payload, p_request_hash, p_team,
            p_policy, p_timeline, p_actions, now(), now(), 1, change_position,
            p_key, p_key IS NOT NULL, now(), now(), coalesce(v_related, '[]'));
        IF jsonb_array_length(p_jobs) > 0 THEN
            PERFORM im_enqueue_jobs(incident_id, p_jobs);
        END IF;
        outcome := 'created';
    END
    $$;

    CREATE FUNCTION im_create_batch(
        p_source text[], p_event_id text[], p_content_hash bytea[], p_actor text[], p_severity text[],
        p_priority smallint[], p_title text[], p_description text[], p_source_version text[], p_event_type text[],
        p_category text[], p_resource jsonb[], p_metrics jsonb[], p_tags jsonb[], p_payload bytea[],
        p_request_hash text[], p_team text[], p_policy text[], p_timeline jsonb[], p_actions jsonb[],
        p_jobs jsonb[], p_key text[], p_window_ms bigint[], p_raise_jobs jsonb[])
    RETURNS TABLE (ord integer, incident_id text, outcome text, version bigint, change_position bigint)
    LANGUAGE plpgsql AS $$
    DECLARE
        v_n integer := cardinality(p_event_id);
        v_simple integer[];
        v_fold integer[];
        v_group integer[];
        v_holder text;
        v_m integer;
        v_counter integer;
        v_first_position bigint;
        v_first_seq bigint;
        v_day text := to_char((now() AT TIME ZONE 'UTC')::date, 'YYYYMMDD');
        v_at timestamptz := clock_timestamp();
        v_prev bytea;
        v_prevs bytea[] := '{}';
        v_hashes bytea[] := '{}';
        v_new jsonb;
        g integer;
        i integer;
    BEGIN
        PERFORM im_begin_changes();
        IF v_n = 0 THEN
            RETURN;
        END IF;
        -- One pass sorts the batch. Simple: new incidents nothing else in the batch or the database relates to (no
        -- replay, known or repeated in the batch; a key, if any, with no holder that appears once in the batch).
        -- Fold: not a replay, and the key's holder is open and within the event's window.
        WITH u AS (
            SELECT u.s, u.e, u.k, u.w, u.o::integer AS o,
                   count(*) OVER (PARTITION BY u.s, u.e) AS same_event,
                   count(*) OVER (PARTITION BY u.k) AS same_key
            FROM unnest(p_source, p_event_id, p_key, p_window_ms) WITH ORDINALITY AS u(s, e, k, w, o)
        ), c AS (
            SELECT u.o, u.k, u.same_key,
                   u.same_event = 1 AND NOT EXISTS (SELECT 1 FROM events ev WHERE ev.source = u.s AND ev.event_id = u.e)
                       AS fresh,
                   h.id AS holder,
                   h.status IN ('NEW', 'ACKNOWLEDGED', 'IN_PROGRESS')
                       AND coalesce(h.last_event_at, h.created_at) > now() - u.w * interval '1 millisecond' AS absorbs
            FROM u LEFT JOIN incidents h ON u.k IS NOT NULL AND h.correlation_key = u.k AND h.correlation_slot
        )
        SELECT coalesce(array_agg(c.o ORDER BY c.o)
                        FILTER (WHERE c.fresh AND (c.k IS NULL OR (c.same_key = 1 AND c.holder IS NULL))), '{}'),
               coalesce(array_agg(c.o ORDER BY c.o) FILTER (WHERE c.fresh AND c.absorbs), '{}')
        INTO v_simple, v_fold
        FROM c;
        v_m := cardinality(v_simple);
        IF v_m > 0 THEN
            -- We hold chain_head, so nobody else draws from these sequences now: reserve m in one step each.
            v_first_position := setval('change_positions', nextval('change_positions') + v_m - 1) - v_m + 1;
            v_first_seq := setval('audit_sequence', nextval('audit_sequence') + v_m - 1) - v_m + 1;
            v_counter := current_setting('im.day_counter')::integer;
            v_prev := decode(current_setting('im.audit_hash'), 'hex');
            FOR g IN 1..v_m LOOP
                i := v_simple[g];
                v_new := jsonb_build_object('status', 'NEW', 'severity', p_severity[i], 'priority', p_priority[i]);
                v_prevs := v_prevs || v_prev;
                v_prev := im_audit_digest(v_prev, v_first_seq + g - 1,
                    'INC-' || v_day || '-' || CASE WHEN v_counter + g < 100000 THEN lpad((v_counter + g)::text, 5, '0')
                                                   ELSE (v_counter + g)::text END,
                    p_actor[i], 'created', NULL, v_new, v_at);
                v_hashes := v_hashes || v_prev;
            END LOOP;
            CREATE TEMP TABLE IF NOT EXISTS im_batch9 (
                g integer, ord integer, id text, position bigint, seq bigint) ON COMMIT DELETE ROWS;
            DELETE FROM im_batch9;
            INSERT INTO im_batch9
            SELECT x.g, v_simple[x.g],
                   'INC-' || v_day || '-' || CASE WHEN v_counter + x.g < 100000 THEN lpad((v_counter + x.g)::text, 5, '0')
                                                  ELSE (v_counter + x.g)::text END,
                   v_first_position + x.g - 1, v_first_seq + x.g - 1
            FROM generate_series(1, v_m) AS x(g);
            INSERT INTO events (source, event_id, content_hash, incident_id, detail)
            SELECT p_source[b.ord], p_event_id[b.ord], p_content_hash[b.ord], b.id,
                   im_event_detail(p_severity[b.ord], p_priority[b.ord], p_title[b.ord], p_description[b.ord],
                       p_source_version[b.ord], p_event_type[b.ord], p_category[b.ord], p_resource[b.ord],
                       p_metrics[b.ord], p_tags[b.ord])
            FROM im_batch9 b;
            INSERT INTO change_log (position, incident_id, kind, version)
            SELECT b.position, b.id, 'created', 1 FROM im_batch9 b;
            INSERT INTO audit_log (seq, incident_id, actor, action, old_value, new_value, at, prev_hash, hash)
            SELECT b.seq, b.id, p_actor[b.ord], 'created', NULL,
                   jsonb_build_object('status', 'NEW', 'severity', p_severity[b.ord], 'priority', p_priority[b.ord]),
                   v_at, v_prevs[b.g], v_hashes[b.g]
            FROM im_batch9 b;
            INSERT INTO incidents (id, status, severity, priority, title, description, source, source_version,
                event_type, category, resource, metrics, tags, encrypted_payload, request_hash, assigned_team,
                escalation_policy, timeline, remediation_actions, created_at, updated_at, version, position,
                correlation_key, correlation_slot, first_event_at, last_event_at)
            SELECT b.id, 'NEW', p_severity[b.ord], p_priority[b.ord], p_title[b.ord], p_description[b.ord],
                p_source[b.ord], p_source_version[b.ord], p_event_type[b.ord], p_category[b.ord], p_resource[b.ord],
                p_metrics[b.ord], p_tags[b.ord], p_payload[b.ord], p_request_hash[b.ord], p_team[b.ord],
                p_policy[b.ord], p_timeline[b.ord], p_actions[b.ord], now(), now(), 1, b.position,
                p_key[b.ord], p_key[b.ord] IS NOT NULL, now(), now()
            FROM im_batch9 b;
            INSERT INTO jobs (kind, incident_id, payload, priority, due_at, max_attempts, idempotency_key)
            SELECT j->>'kind', b.id, coalesce(j->'payload', '{}'), (j->>'priority')::smallint,
                   now() + ((j->>'delay_ms')::bigint * interval '1 millisecond'), (j->>'max_attempts')::integer,
                   b.id || ':' || (j->>'key')
            FROM im_batch9 b, jsonb_array_elements(p_jobs[b.ord]) AS j
            ON CONFLICT (idempotency_key) DO NOTHING;
            PERFORM set_config('im.day_counter', (v_counter + v_m)::text, true);
            PERFORM set_config('im.audit_hash', encode(v_prev, 'hex'), true);
            PERFORM set_config('im.audit_seq', (v_first_seq + v_m - 1)::text, true);
            RETURN QUERY SELECT b.ord, b.id, 'created'::text, 1::bigint, b.position FROM im_batch9 b ORDER BY b.g;
        END IF;
        -- The folds: one group per holder (im_fold_group), however many of the batch's events fold into it.
        FOR v_holder IN
            SELECT h.id FROM incidents h
            WHERE h.correlation_key IN (SELECT DISTINCT p_key[f] FROM unnest(v_fold) AS f) AND h.correlation_slot
            ORDER BY h.id
        LOOP
            SELECT array_agg(f ORDER BY f) INTO v_group
            FROM unnest(v_fold) AS f
            WHERE p_key[f] = (SELECT h.correlation_key FROM incidents h WHERE h.id = v_holder);
            RETURN QUERY SELECT v_group[g.k], v_holder, g.outcome, g.version, g.change_position
            FROM im_fold_group(v_holder,
                ARRAY(SELECT p_source[f] FROM unnest(v_group) WITH ORDINALITY AS x(f, n) ORDER BY n),
                ARRAY(SELECT p_event_id[f] FROM unnest(v_group) WITH ORDINALITY AS x(f, n) ORDER BY n),
                ARRAY(SELECT p_content_hash[f] FROM unnest(v_group) WITH ORDINALITY AS x(f, n) ORDER BY n),
                ARRAY(SELECT p_actor[f] FROM unnest(v_group) WITH ORDINALITY AS x(f, n) ORDER BY n),
                ARRAY(SELECT p_severity[f] FROM unnest(v_group) WITH ORDINALITY AS x(f, n) ORDER BY n),
                ARRAY(SELECT p_priority[f] FROM unnest(v_group) WITH ORDINALITY AS x(f, n) ORDER BY n),
                ARRAY(SELECT p_title[f] FROM unnest(v_group) WITH ORDINALITY AS x(f, n) ORDER BY n),
                ARRAY(SELECT p_description[f] FROM unnest(v_group) WITH ORDINALITY AS x(f, n) ORDER BY n),
                ARRAY(SELECT p_source_version[f] FROM unnest(v_group) WITH ORDINALITY AS x(f, n) ORDER BY n),
                ARRAY(SELECT p_event_type[f] FROM unnest(v_group) WITH ORDINALITY AS x(f, n) ORDER BY n),
                ARRAY(SELECT p_category[f] FROM unnest(v_group) WITH ORDINALITY AS x(f, n) ORDER BY n),
                ARRAY(SELECT p_resource[f] FROM unnest(v_group) WITH ORDINALITY AS x(f, n) ORDER BY n),
                ARRAY(SELECT p_metrics[f] FROM unnest(v_group) WITH ORDINALITY AS x(f, n) ORDER BY n),
                ARRAY(SELECT p_tags[f] FROM unnest(v_group) WITH ORDINALITY AS x(f, n) ORDER BY n),
                ARRAY(SELECT p_raise_jobs[f] FROM unnest(v_group) WITH ORDINALITY AS x(f, n) ORDER BY n)) AS g;
        END LOOP;
        -- The rest one by one, in argument order, after the set-based ones (their chain state is in im.*).
        FOR i IN 1..v_n LOOP
            CONTINUE WHEN i = ANY(v_simple) OR i = ANY(v_fold);
            RETURN QUERY SELECT i, c.incident_id, c.outcome, c.version, c.change_position
            FROM im_create_incident(p_source[i], p_event_id[i], p_content_hash[i], p_actor[i], p_severity[i],
                p_priority[i], p_title[i], p_description[i], p_source_version[i], p_event_type[i],
                p_category[i], p_resource[i], p_metrics[i], p_tags[i], p_payload[i], p_request_hash[i],
                p_team[i], p_policy[i], p_timeline[i], p_actions[i], p_jobs[i], p_key[i], p_window_ms[i],
                p_raise_jobs[i]) AS c;
        END LOOP;
    END
    $$;
    """#)
}
