// Schema version 8: every timeline entry can say which change wrote it.

extension Migration {
    /// Timeline positions. Entries are built before their change has a position (the position is taken inside
    /// the write), so the database supplies it. An update's appended entries are stamped by a row trigger with
    /// the row's new position; it fires only when the timeline grew, so bookkeeping updates (event counts) cost
    /// nothing more. A create's entries are not rewritten: stamping each entry of each insert in plpgsql cost about
    /// 95 µs a row here, against about 2 µs for keeping the create's position in `created_position`, which the
    /// reader gives the entries that carry none. Rows and entries written before this migration have neither and
    /// read as position 0: guessing which change wrote them would rewrite the whole table. Postgres fires BEFORE
    /// triggers in name order: the stamp (`incidents_0_…`) runs before version 7's `incidents_fold_timeline`, so the
    /// entries an update appends are stamped before a fold may move them.
    static let v8 = Migration(version: 8, name: "timeline entry positions", sql: #"""
    ALTER TABLE incidents ADD COLUMN created_position bigint;

    CREATE FUNCTION im_keep_created_position() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.created_position := NEW.position;
        RETURN NEW;
    END
    $$;

    CREATE FUNCTION im_stamp_appended_timeline() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        v_kept integer := jsonb_array_length(OLD.timeline);
    BEGIN
        SELECT coalesce(jsonb_agg(CASE WHEN t.ord <= v_kept OR t.entry ? 'position' THEN t.entry
                                       ELSE t.entry || jsonb_build_object('position', NEW.position) END
                                  ORDER BY t.ord), '[]'::jsonb)
        INTO NEW.timeline
        FROM jsonb_array_elements(NEW.timeline) WITH ORDINALITY AS t(entry, ord);
        RETURN NEW;
    END
    $$;

    CREATE TRIGGER incidents_created_position BEFORE INSERT ON incidents
        FOR EACH ROW EXECUTE FUNCTION im_keep_created_position();
    CREATE TRIGGER incidents_0_timeline_positions BEFORE UPDATE OF timeline ON incidents
        FOR EACH ROW WHEN (jsonb_array_length(NEW.timeline) > jsonb_array_length(OLD.timeline))
        EXECUTE FUNCTION im_stamp_appended_timeline();
    """#)
}
