// Which changes a StreamIncidents subscriber asked for, parsed once from its request.
import IncidentAPI
import IncidentCore
import RPC

/// Which changes a subscriber asked for; empty lists match everything.
struct StreamFilter: Sendable {
    /// Levels (P0 … P4) and event words (critical … info): an incident matching any of them passes.
    var severities: SeverityFilter
    var categories: Set<String>
    var statuses: Set<String>
    var sources: Set<String>
    var teams: Set<String>
    /// True when every list is empty: the hub then skips the per-change checks for this subscriber.
    let matchesEverything: Bool

    init(_ request: StreamIncidentsRequest) throws(RPCError) {
        do {
            try self.init(checking: request)
        } catch {
            throw RPCError(error)
        }
    }

    private init(checking request: StreamIncidentsRequest) throws(DomainError) {
        try IncidentListFilter.checkCounts([
            ("severities", request.severities.count), ("categories", request.categories.count),
            ("statuses", request.statuses.count), ("sources", request.sources.count),
            ("assigned_teams", request.assignedTeams.count),
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
        teams = Set(request.assignedTeams)
        matchesEverything = severities.isEmpty && statuses.isEmpty && categories.isEmpty && sources.isEmpty
            && teams.isEmpty
    }

    func matches(_ incident: IncidentCore.Incident) -> Bool {
        matchesEverything || (
            severities.matches(level: incident.priority, word: incident.severity)
                && (statuses.isEmpty || statuses.contains(incident.status.rawValue))
                && (categories.isEmpty || categories.contains(incident.category))
                && (sources.isEmpty || sources.contains(incident.source))
                && (teams.isEmpty || teams.contains(incident.assignedTeam)))
    }
}
