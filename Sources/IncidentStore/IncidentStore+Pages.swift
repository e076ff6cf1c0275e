// The jobs an incident has of one kind, with their state: an acknowledgement or resolution must reach every
// PagerDuty alert the incident's pages opened (one per escalation level), and only the queue knows which went out.
import IncidentCore

/// One job of an incident as the queue holds it.
public struct IncidentJob: Sendable, Hashable {
    public var kind: String
    /// The idempotency key without the incident prefix, e.g. `page.trigger:step-1`.
    public var key: String
    /// `ready`, `running`, `done` or `dead`.
    public var state: String
    public var payload: [String: String]
}

extension IncidentStore {
    /// The incident's jobs of `kind`, oldest first.
    public func incidentJobs(kind: String, incidentID: IncidentID) async throws -> [IncidentJob] {
        let result = try await pool.withConnection { connection in
            try connection.query("""
                SELECT kind, idempotency_key, state, payload FROM jobs WHERE incident_id = $1 AND kind = $2
                ORDER BY id
                """, [incidentID.description, kind])
        }
        let prefix = incidentID.description.count + 1
        return try decoding {
            try result.allRows.map { row in
                IncidentJob(kind: try row.decode("kind"),
                            key: String(try row.decode("idempotency_key", as: String.self).dropFirst(prefix)),
                            state: try row.decode("state"),
                            payload: try JSONColumn.decode([String: String].self, from: row.decode("payload")))
            }
        }
    }
}
