// The intake's reporting reads (the GraphQL door): a numbered page of incidents and their metrics. Authorisation
// happens here, once per request: a door asks for a reader, which checks `incident:read` and takes one token of
// the identity's rate limit, and then reads as often as that one request needs (a GraphQL document may ask for
// both queries, several times under aliases) without spending the caller's rate limit per field.
import Foundation
import IncidentCore
import IncidentStore

extension IncidentIntake {
    /// A reader of reports for `identity`, once it holds `incident:read` and is within its rate limit.
    package func reportReader(for identity: IdentityPolicy) throws(DomainError) -> IncidentReportReader {
        try authorizer.authorize(identity, for: .incidentRead)
        return IncidentReportReader(store: store, identity: identity)
    }
}

/// Reports for one authorised caller and request; made only by `IncidentIntake.reportReader(for:)`.
package struct IncidentReportReader: Sendable {
    let store: IncidentStore
    /// Whom the reads are for (kept so a later per-identity restriction has it at hand).
    package let identity: IdentityPolicy

    /// `limit` incidents matching `filter` from position `offset` on (0 is the newest), and the total matched.
    package func incidents(_ filter: IncidentReportFilter, offset: Int, limit: Int) async throws
        -> IncidentReportPage {
        guard offset >= 0 else { throw DomainError(.invalidArgument, "pagination: the position must not be negative") }
        guard (1...IncidentStore.maxReportPageSize).contains(limit) else {
            throw DomainError(.invalidArgument,
                              "pagination.pageSize: must be 1 to \(IncidentStore.maxReportPageSize)")
        }
        try Self.check(filter)
        return try await store.reportIncidents(filter, offset: offset, limit: limit)
    }

    /// The counts and means over the incidents `filter` matches, computed by the database.
    package func metrics(_ filter: IncidentReportFilter) async throws -> IncidentMetricsSummary {
        try Self.check(filter)
        return try await store.incidentMetrics(filter)
    }

    /// The list's own bounds on filters, so a report cannot send the database a larger one than a list can.
    private static func check(_ filter: IncidentReportFilter) throws(DomainError) {
        try IncidentListFilter.checkCounts([("severity", filter.levels.count), ("category", filter.categories.count)])
        if let from = filter.createdFrom, let to = filter.createdTo, from > to {
            throw DomainError(.invalidArgument, "range: start is after end")
        }
        for category in filter.categories where category.isEmpty || category.utf8.count > 128 {
            throw DomainError(.invalidArgument, "category: each must be 1 to 128 bytes")
        }
    }
}
