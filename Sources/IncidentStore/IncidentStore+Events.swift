// An incident's events, oldest first, a page at a time: the one that opened it and those correlated into it.
import Foundation
import IncidentCore

/// One recorded event of an incident, as the intake stored it (redacted by the PII rules when they are on).
public struct StoredEvent: Sendable, Hashable {
    public var source: String
    public var eventID: String
    public var receivedAt: Date
    /// What the event said; empty fields for events recorded before schema version 9, which kept no copy.
    public var severity: Severity?
    public var priority: Priority?
    public var title = ""
    public var description = ""
    public var sourceVersion = ""
    public var eventType = ""
    public var category = ""
    public var resource = Resource()
    public var metrics: [String: Double] = [:]
    public var tags: [String: String] = [:]
}

/// One page of an incident's events and where the next starts.
public struct StoredEventPage: Sendable, Hashable {
    public var events: [StoredEvent]
    /// Opaque; nil on the last page.
    public var nextCursor: String?
}

/// The `events.detail` column (see `Migration.v9`'s `im_event_detail`).
private struct EventDetail: Decodable {
    var severity: String?
    var priority: Int?
    var title: String?
    var description: String?
    var source_version: String?
    var event_type: String?
    var category: String?
    var resource: Resource?
    var metrics: [String: Double]?
    var tags: [String: String]?
}

extension IncidentStore {
    /// Events of incident `id` after `cursor` (a `nextCursor`; nil for the first page), oldest first, at most
    /// `limit` (1…1000). Throws `notFound` for an unknown incident, `invalid` for a cursor this store did not give.
    public func incidentEvents(of id: IncidentID, cursor: String?, limit: Int) async throws -> StoredEventPage {
        let limit = max(1, min(limit, 1000))
        let after: [String]? = try cursor.map { cursor in
            guard let data = Data(base64Encoded: cursor),
                  let parts = try? JSONSerialization.jsonObject(with: data) as? [String], parts.count == 3 else {
                throw StoreError.invalid(reason: "malformed page cursor")
            }
            return parts
        }
        let result = try await pool.withConnection { connection in
            try connection.query("""
                SELECT e.source, e.event_id, extract(epoch FROM e.received_at) AS received_at,
                       e.received_at::text AS cursor_time, e.detail::text AS detail,
                       EXISTS (SELECT 1 FROM incidents i WHERE i.id = $1) AS known
                FROM (SELECT 1) one
                LEFT JOIN LATERAL (
                    SELECT * FROM events e
                    WHERE e.incident_id = $1
                      AND ($2::timestamptz IS NULL OR (e.received_at, e.source, e.event_id) > ($2::timestamptz, $3, $4))
                    ORDER BY e.received_at, e.source, e.event_id
                    LIMIT $5
                ) e ON true
                """, [id.description, after?[0], after?[1], after?[2], limit + 1])
        }
        return try decoding {
            let rows = result.allRows
            guard let first = rows.first, try first.decode("known", as: Bool.self) else {
                throw StoreError.notFound(incidentID: id.description)
            }
            let present = try rows.filter { try $0.decodeIfPresent("event_id", as: String.self) != nil }
            let events = try present.prefix(limit).map(Self.storedEvent(row:))
            var next: String?
            if present.count > limit, let last = present.prefix(limit).last {
                let parts = [try last.decode("cursor_time", as: String.self), try last.decode("source", as: String.self),
                             try last.decode("event_id", as: String.self)]
                next = try JSONSerialization.data(withJSONObject: parts).base64EncodedString()
            }
            return StoredEventPage(events: events, nextCursor: next)
        }
    }

    private static func storedEvent(row: Row) throws -> StoredEvent {
        var event = StoredEvent(source: try row.decode("source"), eventID: try row.decode("event_id"),
                                receivedAt: try row.decode("received_at", as: EpochMicros.self).date)
        if let text: String = try row.decodeIfPresent("detail") {
            let detail = try JSONColumn.decode(EventDetail.self, from: text)
            event.severity = detail.severity.flatMap(Severity.init(rawValue:))
            event.priority = detail.priority.flatMap(Priority.init(rawValue:))
            event.title = detail.title ?? ""
            event.description = detail.description ?? ""
            event.sourceVersion = detail.source_version ?? ""
            event.eventType = detail.event_type ?? ""
            event.category = detail.category ?? ""
            event.resource = detail.resource ?? Resource()
            event.metrics = detail.metrics ?? [:]
            event.tags = detail.tags ?? [:]
        }
        return event
    }
}
