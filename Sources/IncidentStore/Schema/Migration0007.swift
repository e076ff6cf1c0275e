// Schema version 7: every timeline entry carries the change-log position of the change that wrote it.

extension Migration {
    /// Timeline positions. Entries are built before their change has a position (the position is taken inside
    /// the write), so the row triggers stamp them: on insert every entry gets the row's position, on update the
    /// appended entries get the row's new position. Entries already stored keep no position (they read as 0):
    /// guessing which change wrote them would be a rewrite of the whole table. The update trigger fires only when
    /// the timeline grew, so bookkeeping updates (event counts) cost nothing more.
    static let v7 = Migration(version: 7, name: "timeline entry positions", sql: #"""
    CREATE FUNCTION im_stamp_timeline_positions() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        v_kept integer := 0;
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            v_kept := jsonb_array_length(OLD.timeline);
        END IF;
        SELECT coalesce(jsonb_agg(CASE WHEN t.ord <= v_kept OR t.entry ? 'position' THEN t.entry
                                       ELSE t.entry || jsonb_build_object('position', NEW.position) END
                                  ORDER BY t.ord), '[]'::jsonb)
        INTO NEW.timeline
        FROM jsonb_array_elements(NEW.timeline) WITH ORDINALITY AS t(entry, ord);
        RETURN NEW;
    END
    $$;

    CREATE TRIGGER incidents_timeline_positions_insert BEFORE INSERT ON incidents
        FOR EACH ROW EXECUTE FUNCTION im_stamp_timeline_positions();
    CREATE TRIGGER incidents_timeline_positions_update BEFORE UPDATE OF timeline ON incidents
        FOR EACH ROW WHEN (jsonb_array_length(NEW.timeline) > jsonb_array_length(OLD.timeline))
        EXECUTE FUNCTION im_stamp_timeline_positions();
    """#)
}
