// Schema version 3: each change-log position keeps the incident as it was right after that change.

extension Migration {
    /// Feed snapshots. Until now a replayed change carried the incident as it is now, so a stream resumed
    /// after two updates saw the second state twice. Every write of an incident that takes a new change
    /// position (all of them go through `im_record_change` or `im_create_batch` and set `position`) now also
    /// stores the row, as JSON, under that position, in the same transaction. Statement-level triggers with
    /// transition tables keep group commit's batch insert one set-based statement. The encrypted payload is
    /// left out (it never changes after the create, and is read from the incident row); columns added by later
    /// migrations are missing from older snapshots and likewise fall back to the incident row.
    static let v3 = Migration(version: 3, name: "change-log snapshots", sql: #"""
    CREATE TABLE change_snapshots (
        position  bigint PRIMARY KEY,
        incident  jsonb NOT NULL
    );

    CREATE FUNCTION im_snapshot_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO change_snapshots (position, incident)
        SELECT n.position, to_jsonb(n) - 'encrypted_payload' FROM im_new_rows n
        ON CONFLICT (position) DO UPDATE SET incident = EXCLUDED.incident;
        RETURN NULL;
    END
    $$;

    -- Only writes that took a new position are changes on the feed; other updates (bookkeeping) are not.
    CREATE FUNCTION im_snapshot_updated() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO change_snapshots (position, incident)
        SELECT n.position, to_jsonb(n) - 'encrypted_payload'
        FROM im_new_rows n JOIN im_old_rows o ON o.id = n.id
        WHERE n.position <> o.position
        ON CONFLICT (position) DO UPDATE SET incident = EXCLUDED.incident;
        RETURN NULL;
    END
    $$;

    CREATE TRIGGER incidents_snapshot_insert AFTER INSERT ON incidents
        REFERENCING NEW TABLE AS im_new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION im_snapshot_inserted();
    CREATE TRIGGER incidents_snapshot_update AFTER UPDATE ON incidents
        REFERENCING OLD TABLE AS im_old_rows NEW TABLE AS im_new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION im_snapshot_updated();
    """#)
}
