// The IncidentService RPCs, translated: each authenticates the caller (certificate or bearer token), turns the
// generated request into the intake's transport-neutral values, and the outcome back into the API message. Every
// decision lives in IncidentCore (Decisions/) and every create or update goes through `IncidentIntake`; failures
// become statuses in StatusMapping.swift.
import Foundation
import IncidentAPI
import IncidentCore
import IncidentStore
import RPC

/// Serves `incident_manager.IncidentService` from an `IncidentStore`.
public final class IncidentServiceHandler: IncidentServiceProvider {
    let store: IncidentStore
    /// The change-log fan-out every StreamIncidents call follows.
    let streams: ChangeHub
    let config: ServiceConfig
    private let log: ServerLog
    private let authorizer: Authorizer
    /// Where creates, reads and updates are decided and written, for this door and the next ones.
    let intake: IncidentIntake
    /// `public_url` without a trailing slash, the base of every answer's links.
    private let publicURL: String

    /// Largest page ListIncidents returns, whatever the caller asks for.
    static let maxPageSize = 1000
    static let defaultPageSize = 50
    /// Most values one list filter may name.
    static let maxFilterValues = 64
    /// The default of `streamsPerIdentity`.
    public static let defaultStreamsPerIdentity = 4096
    /// StreamIncidents calls each identity may have open.
    let streamQuota: StreamQuota

    /// `streams` is the server's hub (started and stopped with the server); without one the handler makes its
    /// own, started by the first stream.
    /// `streamsPerIdentity`: StreamIncidents calls one identity may have open at once.
    public init(store: IncidentStore, config: ServiceConfig, log: ServerLog = ServerLog(), streams: ChangeHub? = nil,
                streamsPerIdentity: Int = IncidentServiceHandler.defaultStreamsPerIdentity) {
        self.streamQuota = StreamQuota(cap: streamsPerIdentity, what: "StreamIncidents calls per identity "
                                       + "(INCIDENT_STREAMS_PER_IDENTITY)")
        self.store = store
        self.streams = streams ?? ChangeHub(store: store, log: log)
        self.config = config
        self.log = log
        self.authorizer = Authorizer(config: config)
        self.intake = IncidentIntake(store: store, config: config, authorizer: authorizer, log: log)
        self.publicURL = config.publicURL.hasSuffix("/") ? String(config.publicURL.dropLast()) : config.publicURL
    }

    // MARK: - CreateIncident

    public func createIncident(
        _ request: IncidentAPI.CreateIncidentRequest, context: ServerContext
    ) async throws -> CreateIncidentResponse {
        do {
            let identity = try authorizer.authenticate(context)
            // The generated provider decodes before calling us, so the request is re-encoded for its hash: our
            // encoder writes fields in number order, so this equals the sender's bytes for canonical encoders.
            let outcome = try await intake.create(SecurityEvent(request), by: identity,
                                                  requestBytes: { request.serializedBytes() })
            let id = outcome.incidentID.description
            var response = CreateIncidentResponse()
            response.status = "accepted"
            response.incidentId = id
            response.message = outcome.duplicate
                ? "duplicate event: counted on the existing incident \(id)"
                : "incident \(id) created with priority \(outcome.level)"
            response.links = ["incident": "\(publicURL)/incidents/\(id)", "api": "\(publicURL)/api/v1/incidents/\(id)"]
            response.duplicate = outcome.duplicate
            response.priority = outcome.level.description
            response.version = UInt64(max(0, outcome.version))
            response.position = UInt64(max(0, outcome.position))
            return response
        } catch {
            throw RPCError.from(error, log: log, method: "CreateIncident")
        }
    }

    // MARK: - GetIncident

    public func getIncident(_ request: GetIncidentRequest, context: ServerContext) async throws -> IncidentAPI.Incident {
        do {
            let identity = try authorizer.authenticate(context)
            return IncidentAPI.Incident(try await intake.incident(request.incidentId, by: identity))
        } catch {
            throw RPCError.from(error, log: log, method: "GetIncident")
        }
    }

    // MARK: - UpdateIncident

    public func updateIncident(
        _ request: UpdateIncidentRequest, context: ServerContext
    ) async throws -> IncidentAPI.Incident {
        do {
            let identity = try authorizer.authenticate(context)
            return IncidentAPI.Incident(try await intake.update(UpdateChangeRequest(request), by: identity))
        } catch {
            throw RPCError.from(error, log: log, method: "UpdateIncident")
        }
    }

    /// Parses `ACKNOWLEDGED`, `acknowledged`, `in-progress`, ... as a status (list and stream filters).
    static func status(named name: String, field: String = "status") throws(RPCError) -> IncidentStatus {
        do {
            return try IncidentStatus.parse(name, field: field)
        } catch {
            throw RPCError(error)
        }
    }

    /// The severity filter of a list or stream request.
    static func severityFilter(_ names: [String], field: String = "severities") throws(RPCError) -> SeverityFilter {
        do {
            return try SeverityFilter(names: names)
        } catch {
            throw RPCError(.invalidArgument, "\(field): \(error.problem)")
        }
    }

    // MARK: - ListIncidents

    public func listIncidents(
        _ request: ListIncidentsRequest, context: ServerContext
    ) async throws -> ListIncidentsResponse {
        do {
            let identity = try authorizer.authorize(context, for: .incidentRead)
            var query = IncidentQuery(limit: Self.pageSize(request.pageSize))
            for (field, values) in [("severities", request.severities), ("statuses", request.statuses),
                                    ("categories", request.categories)] where values.count > Self.maxFilterValues {
                throw RPCError(.invalidArgument, "\(field): at most \(Self.maxFilterValues) values")
            }
            let severities = try Self.severityFilter(request.severities)
            query.severities = Array(severities.words)
            query.levels = Array(severities.levels)
            query.statuses = try request.statuses.map { name throws(RPCError) in
                try Self.status(named: name, field: "statuses")
            }
            query.categories = try request.categories.map { category throws(RPCError) in
                guard !category.isEmpty, category.utf8.count <= 128 else {
                    throw RPCError(.invalidArgument, "categories: each must be 1 to 128 bytes")
                }
                return category
            }
            query.createdAfter = try Self.time(request.createdAfter, field: "created_after")
            query.createdBefore = try Self.time(request.createdBefore, field: "created_before")
            if !request.assignedTeam.isEmpty { query.assignedTeam = request.assignedTeam }
            if !request.pageToken.isEmpty { query.cursor = request.pageToken }
            let payload = authorizer.mayReadPayload(identity)
            query.includePayload = payload
            let page = try await store.listIncidents(query)
            var response = ListIncidentsResponse()
            response.incidents = page.incidents.map { IncidentAPI.Incident($0, includePayload: payload) }
            response.nextPageToken = page.nextCursor ?? ""
            return response
        } catch let error as StoreError {
            if case .invalid = error { throw RPCError(.invalidArgument, "page_token: is not a token this server gave") }
            throw RPCError.from(error, log: log, method: "ListIncidents")
        } catch {
            throw RPCError.from(error, log: log, method: "ListIncidents")
        }
    }

    static func pageSize(_ requested: UInt32) -> Int {
        requested == 0 ? defaultPageSize : min(Int(requested), maxPageSize)
    }

    /// An RFC 3339 bound, or nil when empty.
    static func time(_ text: String, field: String) throws(RPCError) -> Date? {
        guard !text.isEmpty else { return nil }
        guard let date = EventValidator.parseRFC3339(text) else {
            throw RPCError(.invalidArgument, "\(field): \"\(text.prefix(64))\" is not an RFC 3339 time such as "
                           + "2026-11-23T10:35:00Z")
        }
        return date
    }

    // MARK: - StreamIncidents

    public func streamIncidents(
        _ request: StreamIncidentsRequest, responses: ServerStreamWriter<IncidentAPI.Incident>, context: ServerContext
    ) async throws {
        do {
            let identity = try authorizer.authorize(context, for: .incidentStream)
            try await streamQuota.holding(for: identity.name) {
                log.info("stream opened by \(identity.name) after position \(request.sincePosition)")
                try await followChanges(request, payload: authorizer.mayReadPayload(identity),
                                        responses: responses, context: context)
            }
        } catch {
            throw RPCError.from(error, log: log, method: "StreamIncidents")
        }
    }
}
