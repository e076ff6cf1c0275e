// StreamIncidents: replays the change log after `since_position`, then follows live changes. Reading always
// strictly after the last position sent (the store makes positions visible in order) is what leaves no gap
// and no duplicate at the seam between replay and live.
import IncidentAPI
import IncidentCore
import IncidentStore
import RPC

/// Which changes a subscriber asked for; empty lists match everything.
struct StreamFilter: Sendable {
    var severities: Set<String>
    var categories: Set<String>
    var statuses: Set<String>
    var sources: Set<String>
    var teams: Set<String>

    init(_ request: StreamIncidentsRequest) throws(RPCError) {
        var severities = Set<String>()
        for name in request.severities {
            guard let severity = Severity(rawValue: name.lowercased()) else {
                throw RPCError(.invalidArgument, "severities: \"\(name)\" is not one of \(Severity.allNames)")
            }
            severities.insert(severity.rawValue)
        }
        var statuses = Set<String>()
        for name in request.statuses {
            statuses.insert(try IncidentServiceHandler.status(named: name).rawValue)
        }
        self.severities = severities
        self.statuses = statuses
        categories = Set(request.categories.map { $0.lowercased() })
        sources = Set(request.sources)
        teams = Set(request.assignedTeams)
    }

    func matches(_ incident: IncidentCore.Incident) -> Bool {
        (severities.isEmpty || severities.contains(incident.severity.rawValue))
            && (statuses.isEmpty || statuses.contains(incident.status.rawValue))
            && (categories.isEmpty || categories.contains(incident.category))
            && (sources.isEmpty || sources.contains(incident.source))
            && (teams.isEmpty || teams.contains(incident.assignedTeam))
    }
}

extension IncidentServiceHandler {
    /// Changes read per query while catching up.
    static let streamBatch = 500

    /// Sends every matching change after `since_position`, then live ones, until the caller goes away.
    func followChanges(
        _ request: StreamIncidentsRequest, identity: IdentityPolicy, payload: Bool,
        responses: ServerStreamWriter<IncidentAPI.Incident>, context: ServerContext
    ) async throws {
        let filter = try StreamFilter(request)
        var position = Int64(clamping: request.sincePosition)
        while !context.isCancelled && !Task.isCancelled {
            let batch = try await store.changes(after: position, limit: Self.streamBatch)
            for change in batch {
                position = change.position
                guard filter.matches(change.incident) else { continue }
                var message = IncidentAPI.Incident(change.incident, includePayload: payload)
                // The row is the incident as it is now; the position and version say which change this was.
                message.position = UInt64(max(0, change.position))
                message.version = UInt64(max(0, change.version))
                try await responses.send(message)
            }
            if batch.count == Self.streamBatch { continue }
            // A bounded wait, so a cancelled call is noticed even when nothing changes.
            _ = try await store.waitForChanges(after: position, timeout: .seconds(5))
        }
    }
}
