// The audit log read as an outbound feed: entries after a durable cursor, in sequence order, filtered to the kinds
// a receiver wants, and the cursor moved only after the receiver took them. Used by the Governance audit push.
import IncidentCore

/// One audit-log entry as a feed hands it out. Values are the stored JSON text; the feed's user parses what it needs.
public struct AuditFeedEntry: Sendable, Hashable {
    public var seq: Int64
    public var incidentID: String
    public var actor: String
    /// `created` or `updated`.
    public var action: String
    /// The changed fields before and after, as JSON object text (`{}` when none).
    public var oldValues: String
    public var newValues: String
    /// RFC 3339 UTC with milliseconds, and the same instant in seconds since 1970.
    public var at: String
    public var atEpochSeconds: Double
    /// The entry's chain hash (hex), so an id built from it differs between two databases that reuse a sequence.
    public var hash: String
}

/// Which audit entries a feed wants (the Governance `push_events`).
public struct AuditFeedFilter: Sendable, Hashable {
    public var created = true
    public var resolved = true
    public var closed = true
    public var slaBreached = true
    public var escalated = true

    public init(created: Bool = true, resolved: Bool = true, closed: Bool = true, slaBreached: Bool = true,
                escalated: Bool = true) {
        self.created = created
        self.resolved = resolved
        self.closed = closed
        self.slaBreached = slaBreached
        self.escalated = escalated
    }
}

/// A page of a feed: matching entries after the cursor, and how far the page looked.
public struct AuditFeedPage: Sendable, Hashable {
    public var entries: [AuditFeedEntry]
    /// The sequence the cursor may move to once `entries` are delivered: the last entry's when the page is full,
    /// else the end of the range read (entries in between did not match the filter).
    public var through: Int64
}

extension IncidentStore {
    /// The cursor of feed `name` (0 for a feed never read), created on first use.
    public func feedCursor(_ name: String) async throws -> Int64 {
        let result = try await pool.withConnection { connection in
            try connection.query("""
                INSERT INTO outbound_cursors (name) VALUES ($1) ON CONFLICT (name) DO NOTHING;
                """, [name])
            return try connection.query("SELECT last_seq FROM outbound_cursors WHERE name = $1", [name])
        }
        return try decoding { try result.first!.decode("last_seq") }
    }

    /// Moves the cursor from `from` to `to`; false when it was not at `from` (another replica moved it), in which
    /// case the caller reads the cursor again. The receiver dedups on event id, so a batch two replicas both sent
    /// arrives once in effect.
    public func advanceFeedCursor(_ name: String, from: Int64, to: Int64) async throws -> Bool {
        let result = try await pool.withConnection { connection in
            try connection.query("""
                UPDATE outbound_cursors SET last_seq = $3, updated_at = now()
                WHERE name = $1 AND last_seq = $2 RETURNING last_seq
                """, [name, from, to])
        }
        return result.first != nil
    }

    /// Up to `limit` entries after `cursor` that `filter` wants, looking at most `scan` sequence numbers ahead.
    /// Only committed entries are read: the range ends at the chain head, below which every sequence number that
    /// will ever be visible already is (they are taken under the `chain_head` lock).
    public func auditFeed(after cursor: Int64, filter: AuditFeedFilter, limit: Int,
                          scan: Int64 = 10_000) async throws -> AuditFeedPage {
        let (head, rows) = try await pool.withConnection { connection in
            let head = try connection.query("SELECT audit_seq FROM chain_head WHERE id = 1")
            let upper = min(try head.first!.decode("audit_seq", as: Int64.self), cursor + max(1, scan))
            let rows = try connection.query("""
                SELECT seq, incident_id, actor, action, coalesce(old_value, '{}')::text AS old_values,
                       coalesce(new_value, '{}')::text AS new_values,
                       to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at_text,
                       extract(epoch FROM at)::float8 AS at_epoch, encode(hash, 'hex') AS hash_hex
                FROM audit_log
                WHERE seq > $1 AND seq <= $2
                  AND (($3 AND action = 'created')
                       OR ($4 AND new_value ->> 'status' = 'RESOLVED')
                       OR ($5 AND new_value ->> 'status' = 'CLOSED')
                       OR ($6 AND new_value ? 'sla_breach')
                       OR ($7 AND new_value ? 'escalation_step'))
                ORDER BY seq LIMIT $8
                """, [cursor, upper, filter.created, filter.resolved, filter.closed, filter.slaBreached,
                      filter.escalated, max(1, limit)])
            return (upper, rows)
        }
        return try decoding {
            let entries = try rows.allRows.map { row in
                AuditFeedEntry(
                    seq: try row.decode("seq"), incidentID: try row.decode("incident_id"), actor: try row.decode("actor"),
                    action: try row.decode("action"), oldValues: try row.decode("old_values"),
                    newValues: try row.decode("new_values"), at: try row.decode("at_text"),
                    atEpochSeconds: try row.decode("at_epoch"), hash: try row.decode("hash_hex"))
            }
            let full = entries.count >= max(1, limit)
            return AuditFeedPage(entries: entries, through: full ? entries.last!.seq : max(cursor, head))
        }
    }
}
