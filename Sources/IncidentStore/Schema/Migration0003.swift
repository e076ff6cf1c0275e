// Schema version 3: each change-log position keeps the incident as it was right after that change.

extension Migration {
    /// Feed snapshots. Until now a replayed change carried the incident as it is now, so a stream resumed
    /// after two updates saw the second state twice. An incident row always holds the state of its latest
    /// change (`position`); what is lost is the state of earlier positions when the row moves on. So when an
    /// update moves a row to a new position, the row as it was (the state of the position it leaves) is kept
    /// under that old position, in the same transaction. Creates, the hot path, write nothing more; a reader
    /// takes the snapshot where there is one and the current row otherwise (the latest change of each incident,
    /// and changes older than this migration). A statement-level trigger with transition tables keeps a
    /// many-row update one set-based insert. The encrypted payload is left out: it never changes after the
    /// create and is read from the incident row, as are columns added after a snapshot was written.
    static let v3 = Migration(version: 3, name: "change-log snapshots", sql: #"""
    CREATE TABLE change_snapshots (
        position  bigint PRIMARY KEY,
        incident  jsonb NOT NULL
    );

    -- Only updates that take a new position leave a change behind; other updates (bookkeeping) do not.
    CREATE FUNCTION im_snapshot_left_positions() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO change_snapshots (position, incident)
        SELECT o.position, to_jsonb(o) - 'encrypted_payload'
        FROM im_old_rows o JOIN im_new_rows n ON n.id = o.id
        WHERE n.position <> o.position
        ON CONFLICT (position) DO NOTHING;
        RETURN NULL;
    END
    $$;

    CREATE TRIGGER incidents_snapshot_update AFTER UPDATE ON incidents
        REFERENCING OLD TABLE AS im_old_rows NEW TABLE AS im_new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION im_snapshot_left_positions();
    """#)
}
