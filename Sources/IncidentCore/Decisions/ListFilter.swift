// ListIncidents' filters as any door receives them, and the checked filter the store is asked with. Each value is
// checked here so every door refuses the same bad filter with the same field-naming message.
import Foundation

/// A list request as a door received it: names and times as the caller wrote them (empty means "any").
public struct IncidentListRequest: Sendable, Hashable {
    public var severities: [String]
    public var statuses: [String]
    public var categories: [String]
    public var createdAfter: String
    public var createdBefore: String
    public var assignedTeam: String
    public var pageToken: String
    /// 0: the default page size.
    public var pageSize: UInt32

    public init(severities: [String] = [], statuses: [String] = [], categories: [String] = [],
                createdAfter: String = "", createdBefore: String = "", assignedTeam: String = "",
                pageToken: String = "", pageSize: UInt32 = 0) {
        self.severities = severities
        self.statuses = statuses
        self.categories = categories
        self.createdAfter = createdAfter
        self.createdBefore = createdBefore
        self.assignedTeam = assignedTeam
        self.pageToken = pageToken
        self.pageSize = pageSize
    }
}

/// A checked list filter: levels and words apart, statuses parsed, times as dates, the page size bounded.
public struct IncidentListFilter: Sendable, Hashable {
    public var words: [Severity]
    public var levels: [Priority]
    public var statuses: [IncidentStatus]
    public var categories: [String]
    public var createdAfter: Date?
    public var createdBefore: Date?
    public var assignedTeam: String?
    /// The previous page's token, opaque here (the store refuses one it did not give).
    public var cursor: String?
    public var limit: Int

    /// Largest page a list returns, whatever the caller asks for.
    public static let maxPageSize = 1000
    public static let defaultPageSize = 50
    /// Most values one list or stream filter may name.
    public static let maxFilterValues = 64

    /// Checks `request` field by field; the error names the first field to fix.
    public init(_ request: IncidentListRequest) throws(DomainError) {
        try Self.checkCounts([("severities", request.severities.count), ("statuses", request.statuses.count),
                              ("categories", request.categories.count)])
        let severities = try Self.severities(request.severities)
        words = Array(severities.words)
        levels = Array(severities.levels)
        statuses = try request.statuses.map { name throws(DomainError) in
            try IncidentStatus.parse(name, field: "statuses")
        }
        categories = try request.categories.map { category throws(DomainError) in
            guard !category.isEmpty, category.utf8.count <= 128 else {
                throw DomainError(.invalidArgument, "categories: each must be 1 to 128 bytes")
            }
            return category
        }
        createdAfter = try Self.time(request.createdAfter, field: "created_after")
        createdBefore = try Self.time(request.createdBefore, field: "created_before")
        assignedTeam = request.assignedTeam.isEmpty ? nil : request.assignedTeam
        cursor = request.pageToken.isEmpty ? nil : request.pageToken
        limit = request.pageSize == 0 ? Self.defaultPageSize : min(Int(request.pageSize), Self.maxPageSize)
    }

    /// Refuses a filter field naming more than `maxFilterValues` values (list and stream filters alike): a filter
    /// is a short list, not a way to make the server hash megabytes per change.
    public static func checkCounts(_ fields: [(name: String, count: Int)]) throws(DomainError) {
        for field in fields where field.count > maxFilterValues {
            throw DomainError(.invalidArgument, "\(field.name): at most \(maxFilterValues) values")
        }
    }

    /// The `severities` filter field: levels and words, the first unknown name refused naming the field.
    public static func severities(_ names: [String]) throws(DomainError) -> SeverityFilter {
        do {
            return try SeverityFilter(names: names)
        } catch {
            throw DomainError(.invalidArgument, "severities: \(error.problem)")
        }
    }

    /// An RFC 3339 bound, or nil when empty.
    static func time(_ text: String, field: String) throws(DomainError) -> Date? {
        guard !text.isEmpty else { return nil }
        guard let date = EventValidator.parseRFC3339(text) else {
            throw DomainError(.invalidArgument, "\(field): \"\(text.prefix(64))\" is not an RFC 3339 time such as "
                              + "2026-11-23T10:35:00Z")
        }
        return date
    }
}
