// Schema version 7: an incident's timeline is capped so its row always fits one GetIncident answer, and the
// encrypted payload is stored without compression attempts.

extension Migration {
    /// Timeline cap. Updates, job outcomes and timers append to the timeline without bound (a note is up to 4 KiB),
    /// so a busy incident could outgrow gRPC's 4 MiB message and become unreadable. A row trigger folds the
    /// timeline when it passes 500 entries or 512 KiB: the first 5 entries (how the incident began) and the newest
    /// entries stay; those between become one `timeline_folded` entry counting them (counts of earlier folds
    /// included). It folds down to 400 entries and 384 KiB, so the next appends do not fold again at once. Nothing
    /// is lost: every appended entry is also in the audit log (`timeline_appended`).
    ///
    /// The payload column was `bytea` from version 1 (libpq sends it as hex text, the server stores raw bytes), so
    /// no conversion is needed. Ciphertext does not compress: `STORAGE EXTERNAL` stops Postgres trying to on every
    /// write, and keeps `octet_length` (the read budgets' size estimate) from decompressing. It only changes how
    /// new values are stored; existing ones stay readable as they are.
    static let v7 = Migration(version: 7, name: "timeline cap, uncompressed payloads", sql: #"""
    ALTER TABLE incidents ALTER COLUMN encrypted_payload SET STORAGE EXTERNAL;

    CREATE FUNCTION im_fold_timeline() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        c_head constant integer := 5;
        c_keep_entries constant integer := 400;
        c_keep_bytes constant integer := 393216;
        v_len integer := jsonb_array_length(NEW.timeline);
        v_head jsonb;
        v_tail jsonb := '[]';
        v_bytes integer;
        v_kept integer := 0;
        v_first_tail integer := v_len;
        v_folded bigint := 0;
        v_entry jsonb;
        v_last_folded jsonb;
        v_i integer;
    BEGIN
        IF v_len <= c_head + 1 THEN
            RETURN NEW;
        END IF;
        SELECT coalesce(jsonb_agg(e ORDER BY n), '[]') INTO v_head
        FROM jsonb_array_elements(NEW.timeline) WITH ORDINALITY AS t(e, n) WHERE n <= c_head;
        -- Room for the head and the fold entry itself.
        v_bytes := octet_length(v_head::text) + 512;
        FOR v_i IN REVERSE v_len - 1 .. c_head LOOP
            v_entry := NEW.timeline -> v_i;
            EXIT WHEN c_head + 1 + v_kept + 1 > c_keep_entries
                   OR v_bytes + octet_length(v_entry::text) + 2 > c_keep_bytes;
            v_bytes := v_bytes + octet_length(v_entry::text) + 2;
            v_kept := v_kept + 1;
            v_first_tail := v_i;
        END LOOP;
        IF v_first_tail <= c_head THEN
            RETURN NEW;
        END IF;
        FOR v_i IN c_head .. v_first_tail - 1 LOOP
            v_entry := NEW.timeline -> v_i;
            v_last_folded := v_entry;
            IF v_entry ->> 'kind' = 'timeline_folded' AND (v_entry ->> 'message') ~ '^[0-9]+ ' THEN
                v_folded := v_folded + substring(v_entry ->> 'message' FROM '^([0-9]+) ')::bigint;
            ELSE
                v_folded := v_folded + 1;
            END IF;
        END LOOP;
        SELECT coalesce(jsonb_agg(e ORDER BY n), '[]') INTO v_tail
        FROM jsonb_array_elements(NEW.timeline) WITH ORDINALITY AS t(e, n) WHERE n > v_first_tail;
        NEW.timeline := v_head || jsonb_build_array(jsonb_build_object(
            'at', v_last_folded -> 'at', 'actor', 'system', 'kind', 'timeline_folded',
            'message', v_folded || ' earlier entries folded to keep the incident within its size cap '
                || '(500 entries, 512 KiB); the audit log keeps every entry')) || v_tail;
        RETURN NEW;
    END
    $$;

    CREATE TRIGGER incidents_fold_timeline BEFORE INSERT OR UPDATE OF timeline ON incidents
        FOR EACH ROW
        WHEN (jsonb_array_length(NEW.timeline) > 500 OR pg_column_size(NEW.timeline) > 524288)
        EXECUTE FUNCTION im_fold_timeline();
    """#)
}
