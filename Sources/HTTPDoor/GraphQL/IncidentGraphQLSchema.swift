// The GraphQL schema LLM-Governance-Core pulls reports through (integration guide §5): `incidents` (a filtered,
// numbered page with Relay-style edges and the total) and `incidentMetrics` (counts and means computed by the
// database). Field names follow the guide verbatim (snake_case on incidents, camelCase elsewhere), so the guide's
// query runs unchanged. Resolvers only translate: the reads and their authorisation are the intake's
// (`IncidentReportReader`), and values leave as plain dictionaries the executor's default resolver reads.
import Foundation
import GraphQL
import IncidentCore
import IncidentServer
import IncidentStore

/// What every resolver of one request shares: the caller's authorised reader.
struct GraphQLRequestContext: Sendable {
    let reader: IncidentReportReader
}

/// A resolver's refusal, worded for the caller: the executor puts `description` into the error's message.
struct GraphQLFieldRefusal: Error, CustomStringConvertible {
    var description: String
}

/// Builds the schema once per door; it holds no per-request state.
enum IncidentGraphQLSchema {
    /// The categories the guide names; the store keeps any text, so outputs stay `String` and only filters (which
    /// the guide writes as bare enum words, `category: [security, compliance]`) use this enum.
    static let categories = ["security", "compliance", "performance", "availability", "reliability", "cost",
                             "quality", "other"]
    /// Page size when `pagination` leaves it out: the list's default.
    static let defaultPageSize = IncidentListFilter.defaultPageSize

    static func make(refusal: @escaping @Sendable (any Error) -> GraphQLFieldRefusal) throws -> GraphQLSchema {
        let dateTime = try GraphQLScalarType(
            name: "DateTime",
            description: "An RFC 3339 UTC timestamp such as 2025-11-01T00:00:00Z.",
            serialize: { value in
                guard let text = value as? String else { throw GraphQLError(message: "DateTime: not a timestamp") }
                return .string(text)
            },
            parseValue: { value in
                guard case .string(let text) = value, parseTimestamp(text) != nil else {
                    throw GraphQLError(message: "DateTime: expected an RFC 3339 timestamp such as 2025-11-01T00:00:00Z")
                }
                return .string(text)
            },
            parseLiteral: { literal in
                guard let string = literal as? StringValue, parseTimestamp(string.value) != nil else {
                    throw GraphQLError(message: "DateTime: expected an RFC 3339 timestamp such as 2025-11-01T00:00:00Z")
                }
                return .string(string.value)
            })
        var severityValues: GraphQLEnumValueMap = [:]
        for level in Priority.allCases {
            severityValues["P\(level.rawValue)"] = GraphQLEnumValue(value: .string("P\(level.rawValue)"))
        }
        let severity = try GraphQLEnumType(
            name: "Severity", description: "Incident level: P0 (most urgent) to P4.", values: severityValues)
        var statusValues: GraphQLEnumValueMap = [:]
        for status in IncidentStatus.allCases { statusValues[status.rawValue] = GraphQLEnumValue(value: .string(status.rawValue)) }
        let status = try GraphQLEnumType(name: "IncidentStatus", description: "Where an incident stands.",
                                         values: statusValues)
        var categoryValues: GraphQLEnumValueMap = [:]
        for category in categories { categoryValues[category] = GraphQLEnumValue(value: .string(category)) }
        let category = try GraphQLEnumType(
            name: "IncidentCategory", description: "A category to filter by (incidents report theirs as text).",
            values: categoryValues)
        let groupBy = try GraphQLEnumType(
            name: "MetricsGroup", description: "A breakdown incidentMetrics computes.",
            values: ["SEVERITY": GraphQLEnumValue(value: .string("SEVERITY")),
                     "CATEGORY": GraphQLEnumValue(value: .string("CATEGORY"))])

        let dateRange = try GraphQLInputObjectType(
            name: "DateRange", description: "Creation times from start to end, both included; either may be left out.",
            fields: ["start": InputObjectField(type: dateTime), "end": InputObjectField(type: dateTime)])
        let filter = try GraphQLInputObjectType(
            name: "IncidentFilter", description: "Incidents created in dateRange, at one of severity, in one of category.",
            fields: [
                "dateRange": InputObjectField(type: dateRange),
                "severity": InputObjectField(type: GraphQLList(GraphQLNonNull(severity))),
                "category": InputObjectField(type: GraphQLList(GraphQLNonNull(category))),
            ])
        let pagination = try GraphQLInputObjectType(
            name: "Pagination",
            description: "Page number (from 1) and size (1 to \(IncidentStore.maxReportPageSize)); `after` (an endCursor) overrides page.",
            fields: [
                "page": InputObjectField(type: GraphQLInt, defaultValue: .int(1)),
                "pageSize": InputObjectField(type: GraphQLInt, defaultValue: .int(defaultPageSize)),
                "after": InputObjectField(type: GraphQLString),
            ])

        let resolution = try GraphQLObjectType(
            name: "Resolution", description: "How an incident was resolved: UpdateIncident's root_cause and actions_taken; null until recorded.",
            fields: ["root_cause": GraphQLField(type: GraphQLString),
                     "actions_taken": GraphQLField(type: GraphQLList(GraphQLNonNull(GraphQLString)))])
        let sla = try GraphQLObjectType(
            name: "SLAStatus", description: "Which SLA clocks ran out, as the SLA timers recorded them.",
            fields: ["acknowledgment_breached": GraphQLField(type: GraphQLNonNull(GraphQLBoolean)),
                     "resolution_breached": GraphQLField(type: GraphQLNonNull(GraphQLBoolean))])
        let incident = try GraphQLObjectType(
            name: "Incident", description: "An incident as reports show it.",
            fields: [
                "id": GraphQLField(type: GraphQLNonNull(GraphQLID)),
                "severity": GraphQLField(type: GraphQLNonNull(severity)),
                "category": GraphQLField(type: GraphQLNonNull(GraphQLString)),
                "status": GraphQLField(type: GraphQLNonNull(status)),
                "created_at": GraphQLField(type: GraphQLNonNull(dateTime)),
                "acknowledged_at": GraphQLField(type: dateTime),
                "resolved_at": GraphQLField(type: dateTime),
                "resolution": GraphQLField(type: resolution),
                "sla": GraphQLField(type: GraphQLNonNull(sla)),
            ])
        let edge = try GraphQLObjectType(
            name: "IncidentEdge", description: "One incident of a page and its cursor.",
            fields: ["node": GraphQLField(type: GraphQLNonNull(incident)),
                     "cursor": GraphQLField(type: GraphQLNonNull(GraphQLString))])
        let pageInfo = try GraphQLObjectType(
            name: "PageInfo", description: "Where the page stands among all matches.",
            fields: ["hasNextPage": GraphQLField(type: GraphQLNonNull(GraphQLBoolean)),
                     "hasPreviousPage": GraphQLField(type: GraphQLNonNull(GraphQLBoolean)),
                     "startCursor": GraphQLField(type: GraphQLString),
                     "endCursor": GraphQLField(type: GraphQLString)])
        let connection = try GraphQLObjectType(
            name: "IncidentConnection", description: "A page of incidents, newest first, and how many matched in all.",
            fields: ["edges": GraphQLField(type: GraphQLNonNull(GraphQLList(GraphQLNonNull(edge)))),
                     "pageInfo": GraphQLField(type: GraphQLNonNull(pageInfo)),
                     "totalCount": GraphQLField(type: GraphQLNonNull(GraphQLInt))])
        let severityCount = try GraphQLObjectType(
            name: "SeverityCount", description: "Incidents at one level.",
            fields: ["severity": GraphQLField(type: GraphQLNonNull(severity)),
                     "count": GraphQLField(type: GraphQLNonNull(GraphQLInt))])
        let categoryCount = try GraphQLObjectType(
            name: "CategoryCount", description: "Incidents in one category.",
            fields: ["category": GraphQLField(type: GraphQLNonNull(GraphQLString)),
                     "count": GraphQLField(type: GraphQLNonNull(GraphQLInt))])
        let metrics = try GraphQLObjectType(
            name: "IncidentMetrics",
            description: "Aggregates over the incidents created in timeRange. MTTR/MTTA in seconds (null when no incident "
                + "was resolved/acknowledged); slaCompliance is the share (0 to 1) with no SLA breach recorded.",
            fields: [
                "totalIncidents": GraphQLField(type: GraphQLNonNull(GraphQLInt)),
                "bySeverity": GraphQLField(type: GraphQLList(GraphQLNonNull(severityCount)),
                                           description: "Null unless groupBy names SEVERITY (or is left out)."),
                "byCategory": GraphQLField(type: GraphQLList(GraphQLNonNull(categoryCount)),
                                           description: "Null unless groupBy names CATEGORY (or is left out)."),
                "averageMTTR": GraphQLField(type: GraphQLFloat),
                "averageMTTA": GraphQLField(type: GraphQLFloat),
                "slaCompliance": GraphQLField(type: GraphQLFloat),
            ])

        let query = try GraphQLObjectType(
            name: "Query",
            fields: [
                // Nullable roots: a refused incidents page leaves incidentMetrics' answer standing (a non-null
                // root's error would null the whole of data).
                "incidents": GraphQLField(
                    type: connection,
                    args: ["filter": GraphQLArgument(type: filter), "pagination": GraphQLArgument(type: pagination)],
                    resolve: { _, args, context, _ in
                        do {
                            return try await incidentsField(args, context: context)
                        } catch {
                            throw refusal(error)
                        }
                    }),
                "incidentMetrics": GraphQLField(
                    type: metrics,
                    args: ["timeRange": GraphQLArgument(type: dateRange),
                           "groupBy": GraphQLArgument(type: GraphQLList(GraphQLNonNull(groupBy))),
                           "filter": GraphQLArgument(type: filter, description: "Narrows further; its dateRange "
                                                         + "is ignored when timeRange is given.")],
                    resolve: { _, args, context, _ in
                        do {
                            return try await metricsField(args, context: context)
                        } catch {
                            throw refusal(error)
                        }
                    }),
            ])
        return try GraphQLSchema(query: query)
    }

    // MARK: - Resolvers

    private static func reader(_ context: any Sendable) throws -> IncidentReportReader {
        guard let context = context as? GraphQLRequestContext else {
            throw GraphQLFieldRefusal(description: "internal error")
        }
        return context.reader
    }

    private static func incidentsField(_ args: Map, context: any Sendable) async throws -> [String: any Sendable] {
        let reader = try reader(context)
        let filter = try reportFilter(args["filter"], range: nil)
        let pagination = args["pagination"]
        let pageSize = pagination["pageSize"].int ?? defaultPageSize
        var offset: Int
        if case .string(let after) = pagination["after"] {
            guard let position = decodeCursor(after) else {
                throw GraphQLFieldRefusal(description: "pagination.after: not a cursor this server gave")
            }
            offset = position
        } else {
            let page = pagination["page"].int ?? 1
            guard page >= 1 else { throw GraphQLFieldRefusal(description: "pagination.page: pages count from 1") }
            // Overflow-checked: a page number past what Int holds is refused, not wrapped.
            let (product, overflow) = (page - 1).multipliedReportingOverflow(by: max(pageSize, 1))
            guard !overflow else { throw GraphQLFieldRefusal(description: "pagination.page: too large") }
            offset = product
        }
        let result = try await reader.incidents(filter, offset: offset, limit: pageSize)
        let edges: [[String: any Sendable]] = result.rows.enumerated().map { index, row in
            ["node": node(row), "cursor": encodeCursor(offset + index + 1)]
        }
        var pageInfo: [String: any Sendable] = [
            "hasNextPage": offset + result.rows.count < result.totalCount,
            "hasPreviousPage": offset > 0,
        ]
        if !result.rows.isEmpty {
            pageInfo["startCursor"] = encodeCursor(offset + 1)
            pageInfo["endCursor"] = encodeCursor(offset + result.rows.count)
        }
        return ["edges": edges, "pageInfo": pageInfo, "totalCount": result.totalCount]
    }

    private static func node(_ row: IncidentReportRow) -> [String: any Sendable] {
        var node: [String: any Sendable] = [
            "id": row.id.description,
            "severity": "P\(row.level.rawValue)",
            "category": row.category,
            "status": row.status.rawValue,
            "created_at": formatTimestamp(row.createdAt),
            "sla": ["acknowledgment_breached": row.acknowledgmentBreached,
                    "resolution_breached": row.resolutionBreached] as [String: any Sendable],
        ]
        // Absent keys read as null (an Optional stored in the dictionary would not).
        if let acknowledged = row.acknowledgedAt { node["acknowledged_at"] = formatTimestamp(acknowledged) }
        if let resolved = row.resolvedAt { node["resolved_at"] = formatTimestamp(resolved) }
        if let resolution = row.resolution {
            node["resolution"] = ["root_cause": resolution.rootCause,
                                  "actions_taken": resolution.actionsTaken] as [String: any Sendable]
        }
        return node
    }

    private static func metricsField(_ args: Map, context: any Sendable) async throws -> [String: any Sendable] {
        let reader = try reader(context)
        let filter = try reportFilter(args["filter"], range: args["timeRange"])
        let groups: Set<String>
        if case .array(let names) = args["groupBy"] {
            groups = Set(names.compactMap(\.string))
        } else {
            groups = ["SEVERITY", "CATEGORY"]
        }
        let summary = try await reader.metrics(filter)
        var result: [String: any Sendable] = ["totalIncidents": summary.totalIncidents]
        if groups.contains("SEVERITY") {
            result["bySeverity"] = summary.byLevel.map {
                ["severity": "P\($0.level.rawValue)", "count": $0.count] as [String: any Sendable]
            }
        }
        if groups.contains("CATEGORY") {
            result["byCategory"] = summary.byCategory.map {
                ["category": $0.category, "count": $0.count] as [String: any Sendable]
            }
        }
        if let mttr = summary.meanSecondsToResolve { result["averageMTTR"] = mttr }
        if let mtta = summary.meanSecondsToAcknowledge { result["averageMTTA"] = mtta }
        if let compliance = summary.slaCompliance { result["slaCompliance"] = compliance }
        return result
    }

    /// The store's filter from an `IncidentFilter` argument; `range` (incidentMetrics' timeRange) wins over its
    /// dateRange.
    private static func reportFilter(_ argument: Map, range: Map?) throws -> IncidentReportFilter {
        var filter = IncidentReportFilter()
        let dates = range.flatMap { $0.isDictionary ? $0 : nil } ?? argument["dateRange"]
        if case .string(let start) = dates["start"] { filter.createdFrom = parseTimestamp(start) }
        if case .string(let end) = dates["end"] { filter.createdTo = parseTimestamp(end) }
        if case .array(let levels) = argument["severity"] {
            filter.levels = levels.compactMap { $0.string.flatMap { Int($0.dropFirst()) }.flatMap { Priority(rawValue: $0) } }
        }
        if case .array(let categories) = argument["category"] {
            filter.categories = categories.compactMap(\.string)
        }
        return filter
    }

    // MARK: - Values

    /// Cursors are the 1-based position of an edge among all matches, opaque to clients (base64 of
    /// `incident:<n>`): a numbered page has no keyset to resume from, and a position survives a page size change.
    static func encodeCursor(_ position: Int) -> String {
        Data("incident:\(position)".utf8).base64EncodedString()
    }

    static func decodeCursor(_ cursor: String) -> Int? {
        guard cursor.utf8.count <= 64, let data = Data(base64Encoded: cursor),
              let text = String(data: data, encoding: .utf8), text.hasPrefix("incident:"),
              let position = Int(text.dropFirst("incident:".count)), position >= 0 else { return nil }
        return position
    }

    static func parseTimestamp(_ text: String) -> Date? {
        guard text.utf8.count <= 64 else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    static func formatTimestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        // Whole seconds read as the guide writes them; stored times keep microseconds, which a report keeps too.
        let whole = date.timeIntervalSince1970.rounded(.down) == date.timeIntervalSince1970
        formatter.formatOptions = whole ? [.withInternetDateTime] : [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
