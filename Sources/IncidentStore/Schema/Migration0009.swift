// Schema version 9: durable cursors of outbound feeds read from the audit log (the Governance audit push).

extension Migration {
    /// One row per feed: the last audit sequence number its receiver acknowledged. The audit log is the queue; a
    /// job per event would add a row to every create's transaction on the hot path, while a cursor costs one update
    /// per delivered batch. Audit sequence numbers are taken under the `chain_head` lock and so become visible in
    /// order: everything at or below the committed head is there, and a cursor below it skips nothing.
    /// Self-contained (one new table, nothing else touched), so it can be renumbered if another v9 lands first.
    static let v9 = Migration(version: 9, name: "outbound audit feed cursors", sql: #"""
    CREATE TABLE outbound_cursors (
        name        text PRIMARY KEY,
        last_seq    bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
        updated_at  timestamptz NOT NULL DEFAULT now()
    );
    """#)
}
