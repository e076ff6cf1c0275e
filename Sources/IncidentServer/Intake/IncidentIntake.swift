// The one intake every front door (gRPC today; REST, WebSocket, Alertmanager webhooks, CSV next) calls with
// transport-neutral values: authorise → validate → plan (IncidentCore's decisions) → store → answer. Doors only
// authenticate the caller and translate their wire types to and from these values.
import Foundation
import IncidentCore
import IncidentStore
import Synchronization

/// Creates, reads and updates incidents for any front door.
///
/// Admission by priority happens before and around this type, so a P0 overtakes a flood of lower priorities at
/// every place it could queue:
///
///     call ──▶ admission hook ──▶ urgent thread ──▶ intake ──▶ write lanes ──▶ preempting writer ──▶ P0 job worker
///              (CreateAdmission:   (P0 handler     (this)     (P0 lane is     (a P0 cancels the      (pages start on
///               reads severity     skips the                   taken first)    bulk batch in flight   their own thread
///               only; sheds P4…P1  shared executor                            and is written next)   and connection)
///               under load, never  queue)
///               P0)
///
/// The door's admission hook (`CreateAdmission`, on the completion-queue thread) refuses the least urgent levels
/// first once too many handlers are in flight and sends each identity's first P0s to the urgent thread; the
/// store's `PriorityLanes` hand the group-commit writers the most urgent create first, and `BatchPreemption` lets
/// an arriving P0 cancel a bulk batch being written; the job runner's P0 worker starts its page at once. The
/// intake itself only carries the level the decisions gave the event to the store (`CreatePlan.level`).
package final class IncidentIntake: Sendable {
    let store: IncidentStore
    package let config: ServiceConfig
    let decisions: IncidentDecisions
    package let authorizer: Authorizer
    private let log: ServerLog
    /// Cooldowns and blast-radius counts live in the engine, so plans are made one at a time.
    private let rules: Mutex<RulesEngine>

    /// Tries of an update that names no expected version before a concurrent change is reported as ABORTED.
    static let updateAttempts = 5

    /// Creates in flight through `createShedding` (doors without an admission step of their own), and the rule
    /// that refuses the least urgent of them first.
    private let doorCreates = Atomic<Int>(0)
    private let shedding: SheddingThresholds

    /// `sheddingLimit`: door creates in flight at which P1 is refused (P4 at a quarter of it); gRPC's own admission
    /// uses the same limit and rule on the completion-queue thread.
    init(store: IncidentStore, config: ServiceConfig, authorizer: Authorizer, log: ServerLog,
         sheddingLimit: Int = 512) {
        self.shedding = SheddingThresholds(limit: sheddingLimit)
        self.store = store
        self.config = config
        self.decisions = IncidentDecisions(config: config)
        self.authorizer = authorizer
        self.log = log
        self.rules = Mutex(RulesEngine(rules: config.ruleSet))
    }

    // MARK: - Create

    /// Turns `event`, reported by `identity`, into a new incident or counts it on the one it replays.
    /// `requestBytes` are the request as the door received it, asked for only when `include_request_hash` is on.
    package func create(_ event: SecurityEvent, by identity: IdentityPolicy,
                requestBytes: () -> [UInt8]) async throws -> CreateOutcome {
        try authorizer.authorize(identity, for: .eventCreate)
        let valid = try decisions.admit(event, by: identity)
        let bytes = config.security.includeRequestHash ? requestBytes() : nil
        // The plan reserves its cooldowns and blast-radius counts; a replay or a failed write gives them back.
        let plan = rules.withLock {
            decisions.create(valid, by: identity, now: Date(), rules: &$0, requestBytes: bytes)
        }
        let result: CreateIncidentResult
        do {
            result = try await store.createIncident(StoreCreateRequest(
                draft: plan.draft, actor: identity.name, jobs: plan.jobs.map(JobRequest.init),
                correlation: plan.correlation, raiseJobs: plan.raiseJobs.map(JobRequest.init)))
        } catch {
            release(plan.reservation)
            throw error
        }
        // A replay or a folded event started nothing: its cooldowns and blast-radius counts go back.
        if result.duplicate || result.correlated { release(plan.reservation) }
        let id = result.incidentID
        let note = result.duplicate ? " (duplicate)" : result.raised ? " (correlated, raised to \(plan.level))"
            : result.correlated ? " (correlated)" : ""
        log.info("create \(id) by \(identity.name): source \(valid.event.source), event_id \(valid.event.eventID)"
                 + note, ["incident_id": id.description])
        return CreateOutcome(incidentID: id, level: plan.level, duplicate: result.duplicate,
                             correlated: result.correlated, version: result.version, position: result.position)
    }

    /// `create`, shed by priority first: with too many door creates in flight the least urgent levels are refused
    /// (RESOURCE_EXHAUSTED, HTTP 429 with Retry-After), P0 never. For doors that have no admission step of their
    /// own before a request costs a task (HTTP); the level is read as the decisions will read it.
    package func createShedding(_ event: SecurityEvent, by identity: IdentityPolicy,
                                requestBytes: () -> [UInt8]) async throws -> CreateOutcome {
        let level = SeverityName(event.severity).map(config.level(for:)) ?? .p4
        let inFlight = doorCreates.add(1, ordering: .relaxed).oldValue
        defer { doorCreates.subtract(1, ordering: .relaxed) }
        if shedding.refuses(level, inFlight: inFlight) {
            throw DomainError(.resourceExhausted,
                              "server overloaded: \(level) events are refused while \(inFlight) creates are in "
                                  + "flight; P0 is always accepted; retry after 1s", retryAfterSeconds: 1)
        }
        return try await create(event, by: identity, requestBytes: requestBytes)
    }

    private func release(_ reservation: PlanReservation) {
        if !reservation.isEmpty { rules.withLock { $0.release(reservation) } }
    }

    // MARK: - Read

    /// Incident `id` as `identity` may see it (the encrypted payload only with `incident:read_payload`).
    package func incident(_ id: String, by identity: IdentityPolicy) async throws -> IncidentView {
        try authorizer.authorize(identity, for: .incidentRead)
        let id = try IncidentID.parse(id)
        let payload = authorizer.mayReadPayload(identity)
        return .full(try await store.incident(id, includePayload: payload), includesPayload: payload)
    }

    /// One page of incidents matching `request`, as `identity` may see them.
    package func list(_ request: IncidentListRequest, by identity: IdentityPolicy) async throws -> IncidentListPage {
        try authorizer.authorize(identity, for: .incidentRead)
        let filter = try IncidentListFilter(request)
        var query = IncidentQuery(limit: filter.limit)
        query.severities = filter.words
        query.levels = filter.levels
        query.statuses = filter.statuses
        query.categories = filter.categories
        query.createdAfter = filter.createdAfter
        query.createdBefore = filter.createdBefore
        query.assignedTeam = filter.assignedTeam
        query.cursor = filter.cursor
        query.includePayload = authorizer.mayReadPayload(identity)
        do {
            let page = try await store.listIncidents(query)
            return IncidentListPage(incidents: page.incidents, nextCursor: page.nextCursor,
                                    includesPayload: query.includePayload)
        } catch StoreError.invalid {
            throw DomainError(.invalidArgument, "page_token: is not a token this server gave")
        }
    }

    // MARK: - Follow

    /// What `identity` may follow of the change log for `request`: its checked filter, whether it sees encrypted
    /// payloads, and the position after which changes are sent. The door then streams from the change hub.
    func follow(_ request: IncidentStreamRequest, by identity: IdentityPolicy) async throws -> StreamGrant {
        try authorizer.authorize(identity, for: .incidentStream)
        let filter = try IncidentStreamFilter(request)
        // `from_now`: start at the store's head, read after the call began, so every change acknowledged before
        // it is at or below; positions become visible in order, so the usual catch-up from there misses none
        // after. (The hub's own position may still lag behind a change already acknowledged.)
        let since = request.fromNow ? try await store.latestPosition() : max(0, request.sincePosition)
        return StreamGrant(filter: filter, includesPayload: authorizer.mayReadPayload(identity), since: since)
    }

    // MARK: - Events

    /// Events of incident `id` a page at a time (`pageSize` 0 means 100), oldest first, as stored: redacted by the
    /// PII rules in force when each arrived, the way the incident itself is.
    func events(of id: String, pageSize: Int, pageToken: String,
                by identity: IdentityPolicy) async throws -> StoredEventPage {
        try authorizer.authorize(identity, for: .incidentRead)
        let id = try IncidentID.parse(id)
        guard (0...1000).contains(pageSize) else {
            throw DomainError(.invalidArgument, "page_size: at most 1000")
        }
        do {
            return try await store.incidentEvents(of: id, cursor: pageToken.isEmpty ? nil : pageToken,
                                                  limit: pageSize == 0 ? 100 : pageSize)
        } catch StoreError.invalid {
            throw DomainError(.invalidArgument, "page_token: is not a token this server gave")
        }
    }

    // MARK: - Update

    /// Applies `request` by `identity`: checked, decided against the incident as stored, written with its effects
    /// in one transaction. Retried when the incident moved underneath and the caller named no version.
    package func update(_ request: UpdateChangeRequest, by identity: IdentityPolicy) async throws -> IncidentView {
        try authorizer.authorize(identity, for: .incidentUpdate)
        let change = try UpdateChange(request)
        let id = change.incidentID
        var attempt = 0
        while true {
            attempt += 1
            let current = try await store.incident(id)
            let paged = change.status == .acknowledged || change.status == .resolved
                ? try await store.hasJob(kind: JobKind.pageTrigger.rawValue, incidentID: id) : false
            let plan = try decisions.update(current, change, by: identity, now: Date(), paged: paged)
            if plan.changesNothing { return view(of: current, for: identity) }
            do {
                let result = try await store.updateIncident(IncidentUpdate(plan, incidentID: id, actor: identity.name))
                log.info("update \(id) by \(identity.name) to version \(result.version)", ["incident_id": "\(id)"])
                break
            } catch StoreError.versionConflict where change.expectedVersion == nil && attempt < Self.updateAttempts {
                // No version was named: the caller meant "as it is now", and a job (a page's outcome, a timer)
                // changed it between our read and write. Read again and re-check the move against it.
                continue
            }
        }
        let updated = try await store.incident(id, includePayload: authorizer.mayReadPayload(identity))
        return view(of: updated, for: identity)
    }

    /// The incident for callers that may read it; for the others (`incident:update` alone) only its id, version and
    /// position, so an update right cannot be used to read incidents.
    private func view(of incident: Incident, for identity: IdentityPolicy) -> IncidentView {
        guard identity.permissions.contains(.incidentRead) else {
            return .versionOnly(id: incident.id, version: incident.version, position: incident.position)
        }
        return .full(incident, includesPayload: authorizer.mayReadPayload(identity))
    }
}

/// A checked follow request: what a stream sends, with or without payloads, from which position.
struct StreamGrant: Sendable {
    let filter: IncidentStreamFilter
    let includesPayload: Bool
    let since: Int64
}

/// What a create came to: the incident it made (or the one a replay was counted on) and its level.
package struct CreateOutcome: Sendable, Hashable {
    package var incidentID: IncidentID
    package var level: Priority
    /// The event replayed one already taken: counted on the existing incident, nothing new written.
    package var duplicate: Bool
    /// The event folded into the open incident `incidentID` of its correlation key.
    package var correlated = false
    package var version: Int64
    package var position: Int64
}

/// One page of a list, and the token of the next one (nil on the last).
package struct IncidentListPage: Sendable {
    package var incidents: [Incident]
    package var nextCursor: String?
    /// Whether the incidents carry their encrypted payloads.
    package var includesPayload: Bool
}

/// An incident as its caller may see it.
package enum IncidentView: Sendable {
    /// The whole incident; the encrypted payload only when `includesPayload`.
    case full(Incident, includesPayload: Bool)
    /// Only where it stands, for callers without `incident:read`.
    case versionOnly(id: IncidentID, version: Int64, position: Int64)
}
