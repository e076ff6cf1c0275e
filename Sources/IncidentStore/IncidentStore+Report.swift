// Reads for reporting (the GraphQL door, issue 16): a numbered page of incidents with the total that matched, and
// the incidents' metrics over a time range, each one SQL statement. Both read only the columns a report shows, so
// timelines and payloads (the big columns) are never fetched, and both filter on `created_at`, which the
// `incidents_newest` index (created_at DESC, id DESC) serves: no new index is needed.
import Foundation
import IncidentCore

/// What a report page or the metrics cover: incidents created in `[createdFrom, createdTo]` (either end open when
/// nil), at one of `levels` and in one of `categories` (any when empty).
public struct IncidentReportFilter: Sendable, Hashable {
    public var createdFrom: Date?
    public var createdTo: Date?
    public var levels: [Priority]
    public var categories: [String]

    public init(createdFrom: Date? = nil, createdTo: Date? = nil, levels: [Priority] = [], categories: [String] = []) {
        self.createdFrom = createdFrom
        self.createdTo = createdTo
        self.levels = levels
        self.categories = categories
    }
}

/// One incident as a report shows it: where it stands and its clocks, nothing of its text.
public struct IncidentReportRow: Sendable, Hashable {
    public var id: IncidentID
    public var level: Priority
    public var category: String
    public var status: IncidentStatus
    public var createdAt: Date
    public var acknowledgedAt: Date?
    public var resolvedAt: Date?
    /// Whether the timers recorded a breach of the acknowledgement (resolution) SLA clock.
    public var acknowledgmentBreached: Bool
    public var resolutionBreached: Bool
    /// Root cause and actions taken, once recorded (nil before).
    public var resolution: ResolutionDetails? = nil
}

/// A numbered page of report rows (newest first) and how many incidents matched in all.
public struct IncidentReportPage: Sendable, Hashable {
    public var rows: [IncidentReportRow]
    public var totalCount: Int
}

/// Aggregates over the incidents a filter matched.
public struct IncidentMetricsSummary: Sendable {
    public var totalIncidents: Int
    /// Incidents per level, most urgent first; levels with none are left out.
    public var byLevel: [(level: Priority, count: Int)]
    /// Incidents per category, by name; categories with none are left out.
    public var byCategory: [(category: String, count: Int)]
    /// Mean seconds from creation to resolution over the resolved incidents; nil when none is resolved.
    public var meanSecondsToResolve: Double?
    /// Mean seconds from creation to acknowledgement over the acknowledged incidents; nil when none is.
    public var meanSecondsToAcknowledge: Double?
    /// Share (0…1) of the incidents with no SLA breach recorded; nil when there are no incidents.
    public var slaCompliance: Double?
}

extension IncidentStore {
    /// Largest report page: the list's own cap.
    public static let maxReportPageSize = 1000

    /// The filter's `WHERE` clause over `i`, with its binds at $1…$4.
    private static func reportWhere(_ filter: IncidentReportFilter) -> (sql: String, binds: [(any PostgresEncodable)?]) {
        let levels = filter.levels.isEmpty ? nil : TextArray(elements: filter.levels.map { String($0.rawValue) })
        let categories = filter.categories.isEmpty ? nil : TextArray(elements: filter.categories)
        return ("""
            ($1::double precision IS NULL OR i.created_at >= to_timestamp($1))
            AND ($2::double precision IS NULL OR i.created_at <= to_timestamp($2))
            AND ($3::text[] IS NULL OR i.priority = ANY($3::text[]::smallint[]))
            AND ($4::text[] IS NULL OR i.category = ANY($4))
            """,
            [filter.createdFrom.map(EpochMicros.init), filter.createdTo.map(EpochMicros.init), levels, categories])
    }

    /// Page `offset / limit` of the incidents `filter` matches, newest first, with the number matched in all
    /// (counted by the same statement, so page and total agree).
    public func reportIncidents(_ filter: IncidentReportFilter, offset: Int, limit: Int) async throws
        -> IncidentReportPage {
        let (condition, filterBinds) = Self.reportWhere(filter)
        let limit = max(1, min(limit, Self.maxReportPageSize))
        // The count comes from a one-row aggregate joined to the page, so a page past the end still says how
        // many there are (a window count would vanish with the rows).
        let statement = Statement("""
            SELECT total.n AS total_count, page.*
            FROM (SELECT count(*) AS n FROM incidents i WHERE \(condition)) total
            LEFT JOIN LATERAL (
                SELECT i.id, i.priority, i.category, i.status,
                       extract(epoch FROM i.created_at) AS created_epoch,
                       extract(epoch FROM i.acknowledged_at) AS acknowledged_epoch,
                       extract(epoch FROM i.resolved_at) AS resolved_epoch,
                       i.sla_breaches @> '[{"clock":"acknowledge"}]' AS ack_breached,
                       i.sla_breaches @> '[{"clock":"resolve"}]' AS resolve_breached,
                       i.resolution::text AS resolution
                FROM incidents i WHERE \(condition)
                ORDER BY i.created_at DESC, i.id DESC
                OFFSET $5 LIMIT $6
            ) page ON true
            """, filterBinds + [max(0, offset), limit])
        let result = try await pool.withConnection { try $0.run(statement) }
        return try decoding {
            var total = 0
            var rows: [IncidentReportRow] = []
            for row in result.allRows {
                total = try row.decode("total_count")
                guard let idText = try row.decodeIfPresent("id", as: String.self) else { continue }
                guard let id = IncidentID(idText),
                      let level = Priority(rawValue: try row.decode("priority", as: Int.self)),
                      let status = IncidentStatus(rawValue: try row.decode("status", as: String.self)) else {
                    throw PostgresError(.decoding, message: "report row \(idText) does not decode")
                }
                rows.append(IncidentReportRow(
                    id: id, level: level, category: try row.decode("category"), status: status,
                    createdAt: try row.decode("created_epoch", as: EpochMicros.self).date,
                    acknowledgedAt: try row.decodeIfPresent("acknowledged_epoch", as: EpochMicros.self)?.date,
                    resolvedAt: try row.decodeIfPresent("resolved_epoch", as: EpochMicros.self)?.date,
                    acknowledgmentBreached: try row.decode("ack_breached"),
                    resolutionBreached: try row.decode("resolve_breached"),
                    resolution: try row.decodeIfPresent("resolution", as: String.self).map { text in
                        try JSONColumn.decode(ResolutionDetails.self, from: text)
                    }))
            }
            return IncidentReportPage(rows: rows, totalCount: total)
        }
    }

    /// Counts and means over the incidents `filter` matches, in one aggregate statement (grouping sets: the
    /// totals, per level, per category) computed by Postgres; no incident is loaded.
    public func incidentMetrics(_ filter: IncidentReportFilter) async throws -> IncidentMetricsSummary {
        let (condition, binds) = Self.reportWhere(filter)
        let statement = Statement("""
            SELECT GROUPING(i.priority) AS by_level, GROUPING(i.category) AS by_category, i.priority, i.category,
                   count(*) AS n,
                   avg(extract(epoch FROM i.resolved_at - i.created_at)) AS mttr,
                   avg(extract(epoch FROM i.acknowledged_at - i.created_at)) AS mtta,
                   count(*) FILTER (WHERE i.sla_breaches = '[]'::jsonb) AS sla_met
            FROM incidents i
            WHERE \(condition)
            GROUP BY GROUPING SETS ((), (i.priority), (i.category))
            ORDER BY by_level, by_category, i.priority, i.category
            """, binds)
        let result = try await pool.withConnection { try $0.run(statement) }
        return try decoding {
            var summary = IncidentMetricsSummary(totalIncidents: 0, byLevel: [], byCategory: [],
                                                 meanSecondsToResolve: nil, meanSecondsToAcknowledge: nil,
                                                 slaCompliance: nil)
            for row in result.allRows {
                let count: Int = try row.decode("n")
                switch (try row.decode("by_level", as: Int.self), try row.decode("by_category", as: Int.self)) {
                case (1, 1):
                    // The () set: one row, also when nothing matched (count 0, means NULL).
                    summary.totalIncidents = count
                    summary.meanSecondsToResolve = try row.decodeIfPresent("mttr", as: Double.self)
                    summary.meanSecondsToAcknowledge = try row.decodeIfPresent("mtta", as: Double.self)
                    if count > 0 { summary.slaCompliance = Double(try row.decode("sla_met", as: Int.self)) / Double(count) }
                case (0, 1):
                    guard let level = Priority(rawValue: try row.decode("priority", as: Int.self)) else {
                        throw PostgresError(.decoding, message: "metrics: unknown priority")
                    }
                    summary.byLevel.append((level, count))
                default:
                    summary.byCategory.append((try row.decode("category", as: String.self), count))
                }
            }
            return summary
        }
    }
}
