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
    package let intake: IncidentIntake
    /// `public_url` without a trailing slash, the base of every answer's links.
    private let publicURL: String

    /// The default of `streamsPerIdentity`.
    public static let defaultStreamsPerIdentity = 4096
    /// StreamIncidents calls each identity may have open.
    let streamQuota: StreamQuota

    /// `streams` is the server's hub (started and stopped with the server); without one the handler makes its
    /// own, started by the first stream.
    /// `streamsPerIdentity`: StreamIncidents calls one identity may have open at once. `sheddingLimit`: the load at
    /// which other doors' creates are shed by priority (the intake's `createShedding`), as gRPC's admission does.
    public init(store: IncidentStore, config: ServiceConfig, log: ServerLog = ServerLog(), streams: ChangeHub? = nil,
                streamsPerIdentity: Int = IncidentServiceHandler.defaultStreamsPerIdentity, sheddingLimit: Int = 512) {
        self.streamQuota = StreamQuota(cap: streamsPerIdentity, what: "StreamIncidents calls per identity "
                                       + "(INCIDENT_STREAMS_PER_IDENTITY)")
        self.store = store
        self.streams = streams ?? ChangeHub(store: store, log: log)
        self.config = config
        self.log = log
        self.authorizer = Authorizer(config: config)
        self.intake = IncidentIntake(store: store, config: config, authorizer: authorizer, log: log,
                                     sheddingLimit: sheddingLimit)
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
                : outcome.correlated ? "event correlated into the open incident \(id)"
                : "incident \(id) created with priority \(outcome.level)"
            response.links = ["incident": "\(publicURL)/incidents/\(id)", "api": "\(publicURL)/api/v1/incidents/\(id)"]
            response.duplicate = outcome.duplicate
            response.correlated = outcome.correlated
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

    // MARK: - ListIncidents

    public func listIncidents(
        _ request: ListIncidentsRequest, context: ServerContext
    ) async throws -> ListIncidentsResponse {
        do {
            let identity = try authorizer.authenticate(context)
            let page = try await intake.list(IncidentListRequest(request), by: identity)
            var response = ListIncidentsResponse()
            response.incidents = page.incidents.map { IncidentAPI.Incident($0, includePayload: page.includesPayload) }
            response.nextPageToken = page.nextCursor ?? ""
            return response
        } catch {
            throw RPCError.from(error, log: log, method: "ListIncidents")
        }
    }

    // MARK: - ListIncidentEvents

    public func listIncidentEvents(
        _ request: ListIncidentEventsRequest, context: ServerContext
    ) async throws -> ListIncidentEventsResponse {
        do {
            let identity = try authorizer.authenticate(context)
            let page = try await intake.events(of: request.incidentId, pageSize: Int(request.pageSize),
                                               pageToken: request.pageToken, by: identity)
            var response = ListIncidentEventsResponse()
            response.events = page.events.map(IncidentAPI.IncidentEvent.init)
            response.nextPageToken = page.nextCursor ?? ""
            return response
        } catch {
            throw RPCError.from(error, log: log, method: "ListIncidentEvents")
        }
    }

    // MARK: - StreamIncidents

    public func streamIncidents(
        _ request: StreamIncidentsRequest, responses: ServerStreamWriter<IncidentAPI.Incident>, context: ServerContext
    ) async throws {
        do {
            let identity = try authorizer.authenticate(context)
            let grant = try await intake.follow(IncidentStreamRequest(request), by: identity)
            try await streamQuota.holding(for: identity.name) {
                log.info("stream opened by \(identity.name) after position \(grant.since)")
                var session = StreamSession(hub: streams, filter: grant.filter, since: grant.since,
                                            includePayload: grant.includesPayload, responses: responses,
                                            context: context)
                try await session.run()
            }
        } catch {
            throw RPCError.from(error, log: log, method: "StreamIncidents")
        }
    }
}
