// StreamIncidents' filters as any door receives them, checked once, and the match every change is put through.
import Foundation

/// A follow request as a door received it: names as the caller wrote them (empty lists match everything) and where
/// to start.
public struct IncidentStreamRequest: Sendable, Hashable {
    public var severities: [String]
    public var categories: [String]
    public var statuses: [String]
    public var sources: [String]
    public var teams: [String]
    /// Changes after this change-log position are sent (0: the whole log).
    public var sincePosition: Int64
    /// Start at the store's head instead of `sincePosition`.
    public var fromNow: Bool

    public init(severities: [String] = [], categories: [String] = [], statuses: [String] = [],
                sources: [String] = [], teams: [String] = [], sincePosition: Int64 = 0, fromNow: Bool = false) {
        self.severities = severities
        self.categories = categories
        self.statuses = statuses
        self.sources = sources
        self.teams = teams
        self.sincePosition = sincePosition
        self.fromNow = fromNow
    }
}

/// Which changes a subscriber asked for; empty lists match everything.
public struct IncidentStreamFilter: Sendable {
    /// Levels (P0 … P4) and event words (critical … info): an incident matching any of them passes.
    public var severities: SeverityFilter
    public var categories: Set<String>
    public var statuses: Set<String>
    public var sources: Set<String>
    public var teams: Set<String>
    /// True when every list is empty: the hub then skips the per-change checks for this subscriber.
    public let matchesEverything: Bool

    /// Checks `request`'s lists with the same caps and names as ListIncidents; the error names the field to fix.
    public init(_ request: IncidentStreamRequest) throws(DomainError) {
        try IncidentListFilter.checkCounts([
            ("severities", request.severities.count), ("categories", request.categories.count),
            ("statuses", request.statuses.count), ("sources", request.sources.count),
            ("assigned_teams", request.teams.count),
        ])
        let severities = try IncidentListFilter.severities(request.severities)
        var statuses = Set<String>()
        for name in request.statuses {
            statuses.insert(try IncidentStatus.parse(name).rawValue)
        }
        self.severities = severities
        self.statuses = statuses
        categories = Set(request.categories.map { $0.lowercased() })
        sources = Set(request.sources)
        teams = Set(request.teams)
        matchesEverything = severities.isEmpty && statuses.isEmpty && categories.isEmpty && sources.isEmpty
            && teams.isEmpty
    }

    /// Whether a change that left `incident` as it is goes to this subscriber.
    public func matches(_ incident: Incident) -> Bool {
        matchesEverything || (
            severities.matches(level: incident.priority, word: incident.severity)
                && (statuses.isEmpty || statuses.contains(incident.status.rawValue))
                && (categories.isEmpty || categories.contains(incident.category))
                && (sources.isEmpty || sources.contains(incident.source))
                && (teams.isEmpty || teams.contains(incident.assignedTeam)))
    }
}
