// Turning domain values into statement parameters and incident rows back into domain values.
import Foundation
import IncidentCore

/// JSON for jsonb columns: sorted keys so equal values compare equal as text and in audit hashes.
enum JSONColumn {
    // Shared: building an encoder or decoder per column was a visible share of a create's CPU. Both are
    // thread-safe once configured (their options are copied under a lock for each call).
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .secondsSince1970
        return encoder
    }()
    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return decoder
    }()

    static func encode<T: Encodable>(_ value: T) throws -> String {
        // Empty collections are common on the hot path and JSONEncoder is not cheap.
        if let collection = value as? any Collection, collection.isEmpty {
            return value is any Sequence & ExpressibleByDictionaryLiteral ? "{}" : "[]"
        }
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        // Empty arrays (no remediation actions, no SLA breaches) are the common case on every read.
        if text == "[]", let empty = (T.self as? any RangeReplaceableCollection.Type)?.init() as? T { return empty }
        return try decoder.decode(type, from: Data(text.utf8))
    }
}

/// The jobs column shape `im_enqueue_jobs` reads.
struct JobRecord: Encodable {
    let kind: String
    let key: String
    let priority: Int
    let delay_ms: Int64
    let max_attempts: Int
    let payload: [String: String]

    init(_ job: JobRequest) {
        kind = job.kind
        key = job.key
        priority = job.priority.rawValue
        let (seconds, attoseconds) = job.delay.components
        delay_ms = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        max_attempts = job.maxAttempts
        payload = job.payload
    }
}

extension CreateIncidentRequest {
    /// The pipelined statement that creates this incident or recognises its replay.
    func statement() throws -> Statement {
        let d = draft
        return Statement("""
            SELECT incident_id, outcome, version, change_position AS position FROM im_create_incident(
                $1::text, $2::text, $3::bytea, $4::text, $5::text, $6::smallint, $7::text, $8::text, $9::text,
                $10::text, $11::text, $12::jsonb, $13::jsonb, $14::jsonb, $15::bytea, $16::text, $17::text,
                $18::text, $19::jsonb, $20::jsonb, $21::jsonb, $22::text, $23::bigint, $24::jsonb)
            """, [
                d.source, d.eventID, ByteaValue(d.contentHash), actor, d.severity.rawValue, d.priority.rawValue,
                d.title, d.description, d.sourceVersion, d.eventType, d.category, try JSONColumn.encode(d.resource),
                try JSONColumn.encode(d.metrics), try JSONColumn.encode(d.tags),
                d.encryptedPayload.map(ByteaValue.init),
                d.requestHash, d.assignedTeam, d.escalationPolicy, try JSONColumn.encode(d.timeline),
                try JSONColumn.encode(d.remediationActions), try JSONColumn.encode(jobs.map(JobRecord.init)),
                correlation?.value, correlation.map { Int64(($0.windowSeconds * 1000).rounded()) },
                try JSONColumn.encode(raiseJobs.map(JobRecord.init)),
            ], preparedAs: "im_create_incident9")
    }
}

/// The incident columns every read selects, timestamps as epoch seconds so decoding ignores session settings.
/// The encrypted payload (up to 1 MiB) is read only when `payload` says from where: most callers may not see it,
/// and reading it for them made a page of 1,000 incidents cost a gigabyte.
func incidentColumns(payload: String? = nil) -> String {
    incidentColumnList.replacingOccurrences(of: "$PAYLOAD", with: payload ?? "NULL::bytea")
}

/// The estimated wire size of a row selected as `i` (payload included only when `payload` is): what byte budgets
/// of pages and feed batches count. Stored sizes (pg_column_size) stand for the jsonb columns; they are compressed,
/// so this undercounts text-heavy rows, but the payload, the column that can be big, is incompressible ciphertext.
func incidentRowBytes(payload: String? = nil) -> String {
    """
    (256 + octet_length(i.title) + octet_length(i.description) + pg_column_size(i.resource) + pg_column_size(i.tags)
     + pg_column_size(i.metrics) + pg_column_size(i.timeline) + pg_column_size(i.remediation_actions)
     + pg_column_size(i.sla_breaches) + coalesce(octet_length(\(payload ?? "NULL::bytea")), 0))
    """
}

private let incidentColumnList = """
    i.id, i.status, i.severity, i.priority, i.title, i.description, i.source, i.source_version, i.event_type,
    i.category, i.resource, i.metrics, i.tags, $PAYLOAD AS encrypted_payload, i.request_hash, i.assigned_team,
    i.escalation_policy, i.event_count, extract(epoch FROM i.created_at) AS created_at,
    extract(epoch FROM i.updated_at) AS updated_at, extract(epoch FROM i.acknowledged_at) AS acknowledged_at,
    extract(epoch FROM i.resolved_at) AS resolved_at, i.version, i.position, i.timeline, i.remediation_actions,
    i.created_at::text AS cursor_time,
    (SELECT e.event_id FROM events e WHERE e.incident_id = i.id ORDER BY e.received_at LIMIT 1) AS event_id,
    i.escalation_step, i.sla_breaches, i.created_position, i.correlation_key,
    extract(epoch FROM coalesce(i.first_event_at, i.created_at)) AS first_event_at,
    extract(epoch FROM coalesce(i.last_event_at, i.created_at)) AS last_event_at, i.related_incidents,
    i.resolution
    """

extension Incident {
    /// Decodes a row selected with `incidentColumns()`.
    init(row: Row) throws {
        func enumValue<T: RawRepresentable>(_ column: String, _ type: T.Type) throws -> T where T.RawValue == String {
            guard let value = T(rawValue: try row.decode(column, as: String.self)) else {
                throw PostgresError(.decoding, message: "column \(column) has an unknown value")
            }
            return value
        }
        guard let id = IncidentID(try row.decode("id", as: String.self)),
              let priority = Priority(rawValue: try row.decode("priority", as: Int.self)) else {
            throw PostgresError(.decoding, message: "incident id or priority out of range")
        }
        self.init(
            id: id, status: try enumValue("status", IncidentStatus.self),
            severity: try enumValue("severity", Severity.self), priority: priority,
            title: try row.decode("title"), description: try row.decode("description"),
            source: try row.decode("source"), sourceVersion: try row.decode("source_version"),
            eventType: try row.decode("event_type"), category: try row.decode("category"),
            resource: try JSONColumn.decode(Resource.self, from: row.decode("resource")),
            metrics: try JSONColumn.decode([String: Double].self, from: row.decode("metrics")),
            tags: try JSONColumn.decode([String: String].self, from: row.decode("tags")),
            encryptedPayload: try row.decodeIfPresent("encrypted_payload", as: ByteaValue.self)?.bytes,
            requestHash: try row.decodeIfPresent("request_hash"), assignedTeam: try row.decode("assigned_team"),
            escalationPolicy: try row.decode("escalation_policy"), eventCount: try row.decode("event_count"),
            createdAt: try row.decode("created_at", as: EpochMicros.self).date,
            updatedAt: try row.decode("updated_at", as: EpochMicros.self).date,
            acknowledgedAt: try row.decodeIfPresent("acknowledged_at", as: EpochMicros.self)?.date,
            resolvedAt: try row.decodeIfPresent("resolved_at", as: EpochMicros.self)?.date,
            version: try row.decode("version"), position: try row.decode("position"),
            timeline: try JSONColumn.decode([TimelineEntry].self, from: row.decode("timeline")),
            remediationActions: try JSONColumn.decode([RemediationAction].self, from: row.decode("remediation_actions")),
            timers: try IncidentTimers(row: row)
        )
        eventID = try row.decodeIfPresent("event_id") ?? ""
        correlationKey = try row.decodeIfPresent("correlation_key") ?? ""
        firstEventAt = try row.decode("first_event_at", as: EpochMicros.self).date
        lastEventAt = try row.decode("last_event_at", as: EpochMicros.self).date
        relatedIncidents = try JSONColumn.decode([String].self, from: row.decode("related_incidents"))
        resolution = try row.decodeIfPresent("resolution", as: String.self).map { text in
            try JSONColumn.decode(ResolutionDetails.self, from: text)
        }
        // The create's entries carry no position of their own (see `Migration.v7`): theirs is the create's.
        if let createdPosition: Int64 = try row.decodeIfPresent("created_position") {
            for index in timeline.indices where timeline[index].position == 0 {
                timeline[index].position = createdPosition
            }
        }
    }
}

extension IncidentTimers {
    /// Decodes the timer columns of a row selected with `incidentColumns()`.
    init(row: Row) throws {
        self.init(escalationStep: try row.decode("escalation_step"),
                  slaBreaches: try JSONColumn.decode([SLABreach].self, from: row.decode("sla_breaches")))
    }
}
