// The IncidentService RPCs: authorize the caller, validate the request, run the domain rules, call the store,
// and answer with the API messages. Store and domain failures become statuses in StatusMapping.swift.
import Foundation
import IncidentAPI
import IncidentCore
import IncidentStore
import RPC
import Synchronization

/// Serves `incident_manager.IncidentService` from an `IncidentStore`.
public final class IncidentServiceHandler: IncidentServiceProvider {
    let store: IncidentStore
    /// The change-log fan-out every StreamIncidents call follows.
    let streams: ChangeHub
    let config: ServiceConfig
    private let log: ServerLog
    private let authorizer: Authorizer
    private let validator = EventValidator()
    private let drafts: DraftBuilder
    /// Cooldowns and blast-radius counts live in the engine, so plans are made one at a time.
    private let engine: Mutex<RulesEngine>
    /// `public_url` without a trailing slash, the base of every answer's links.
    private let publicURL: String
    /// The jobs a new incident starts (pages, notifications, actions, timers).
    private let createJobs: CreateJobs

    /// Largest page ListIncidents returns, whatever the caller asks for.
    static let maxPageSize = 1000
    static let defaultPageSize = 50
    /// Tries of an update that names no expected version before a concurrent change is reported as ABORTED.
    static let updateAttempts = 5
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
        self.drafts = DraftBuilder(security: config.security)
        self.engine = Mutex(RulesEngine(rules: config.ruleSet))
        self.publicURL = config.publicURL.hasSuffix("/") ? String(config.publicURL.dropLast()) : config.publicURL
        self.createJobs = CreateJobs(config: config)
    }

    // MARK: - CreateIncident

    public func createIncident(
        _ request: IncidentAPI.CreateIncidentRequest, context: ServerContext
    ) async throws -> CreateIncidentResponse {
        do {
            let identity = try authorizer.authorize(context, for: .eventCreate)
            let event = try validator.validate(SecurityEvent(request))
            // Dedupe is per (source, event_id): an identity speaking for another source could trigger that
            // source's rules or claim its event ids first, so the real event would be refused as a conflict.
            guard identity.mayReport(source: event.event.source) else {
                throw RPCError(.permissionDenied, "source: identity \"\(identity.name)\" may not report source "
                               + "\"\(event.event.source.prefix(128))\"")
            }
            let priority = config.level(of: event)
            let now = Date()
            // The plan reserves its cooldowns and blast-radius counts; a replay or a failed write gives them back.
            let (plan, reservation) = engine.withLock {
                $0.reservePlan(for: event.facts(priority: priority), now: now.timeIntervalSince1970)
            }
            // The generated provider decodes before calling us, so the request is re-encoded for its hash (only when
            // the hash is kept): our encoder writes fields in number order, so this equals the sender's bytes for
            // canonical encoders.
            let requestBytes = config.security.includeRequestHash ? request.serializedBytes() : nil
            let draft = drafts.draft(from: event, priority: priority, plan: plan, actor: identity.name,
                                     requestBytes: requestBytes, now: now)
            let result: CreateIncidentResult
            do {
                result = try await store.createIncident(StoreCreateRequest(
                    draft: draft, actor: identity.name, jobs: createJobs.jobs(for: draft, plan: plan)))
            } catch {
                if !reservation.isEmpty { engine.withLock { $0.release(reservation) } }
                throw error
            }
            if result.duplicate && !reservation.isEmpty { engine.withLock { $0.release(reservation) } }
            let id = result.incidentID.description
            log.info("create \(id) by \(identity.name): source \(event.event.source), event_id \(event.event.eventID)"
                     + (result.duplicate ? " (duplicate)" : ""), ["incident_id": id])
            var response = CreateIncidentResponse()
            response.status = "accepted"
            response.incidentId = id
            response.message = result.duplicate
                ? "duplicate event: counted on the existing incident \(id)"
                : "incident \(id) created with priority \(priority)"
            response.links = [
                "incident": "\(publicURL)/incidents/\(id)",
                "api": "\(publicURL)/api/v1/incidents/\(id)",
            ]
            response.duplicate = result.duplicate
            response.priority = priority.description
            response.version = UInt64(max(0, result.version))
            response.position = UInt64(max(0, result.position))
            return response
        } catch {
            throw RPCError.from(error, log: log, method: "CreateIncident")
        }
    }

    // MARK: - GetIncident

    public func getIncident(_ request: GetIncidentRequest, context: ServerContext) async throws -> IncidentAPI.Incident {
        do {
            let identity = try authorizer.authorize(context, for: .incidentRead)
            let id = try Self.incidentID(request.incidentId)
            let payload = authorizer.mayReadPayload(identity)
            let incident = try await store.incident(id, includePayload: payload)
            return IncidentAPI.Incident(incident, includePayload: payload)
        } catch {
            throw RPCError.from(error, log: log, method: "GetIncident")
        }
    }

    static func incidentID(_ text: String) throws(RPCError) -> IncidentID {
        guard !text.isEmpty else { throw RPCError(.invalidArgument, "incident_id: is required") }
        guard let id = IncidentID(text) else {
            throw RPCError(.invalidArgument, "incident_id: must look like INC-YYYYMMDD-NNNNN")
        }
        return id
    }

    // MARK: - UpdateIncident

    public func updateIncident(
        _ request: UpdateIncidentRequest, context: ServerContext
    ) async throws -> IncidentAPI.Incident {
        do {
            let identity = try authorizer.authorize(context, for: .incidentUpdate)
            let id = try Self.incidentID(request.incidentId)
            let status = try request.status.map { name throws(RPCError) in try Self.status(named: name) }
            let severity = try request.severity.map { name throws(RPCError) in try Self.severityName(name) }
            let team = try request.assignedTeam.map(Self.teamName)
            let note = request.note.trimmingCharacters(in: .whitespacesAndNewlines)
            guard note.utf8.count <= 4096 else {
                throw RPCError(.invalidArgument, "note: is \(note.utf8.count) bytes; at most 4096")
            }
            guard status != nil || severity != nil || team != nil || !note.isEmpty || !request.actionDecisions.isEmpty
            else {
                throw RPCError(.invalidArgument,
                               "nothing to change: set status, severity, assigned_team, note or action_decisions")
            }

            // Read, check, write; retried when the incident moved underneath and the caller named no version.
            var attempt = 0
            while true {
                attempt += 1
                let current = try await store.incident(id)
                let expected = request.expectedVersion == 0
                    ? current.version : Int64(clamping: request.expectedVersion)
                guard expected == current.version else {
                    throw RPCError(.aborted, "incident \(id) is at version \(current.version), not the expected "
                                   + "\(expected); read it again")
                }
                let now = Date()
                var entries: [IncidentCore.TimelineEntry] = []
                if let status {
                    guard current.status.canMove(to: status) else {
                        throw RPCError(.failedPrecondition,
                                       "status: cannot move from \(current.status.rawValue) to \(status.rawValue)")
                    }
                    entries.append(IncidentCore.TimelineEntry(
                        at: now, actor: identity.name, kind: "status_changed",
                        message: "\(current.status.rawValue) → \(status.rawValue)",
                        details: ["from": current.status.rawValue, "to": status.rawValue]))
                }
                // A level is set as named and keeps the event's word; a word re-maps the level through the
                // configured mapping, as on create. An unchanged severity is no change.
                var newSeverity: Severity?
                if case .word(let word) = severity, word != current.severity { newSeverity = word }
                let targetLevel = severity.map(config.level(for:))
                let newPriority = newSeverity != nil || targetLevel != current.priority ? targetLevel : nil
                if let severity, newSeverity != nil || newPriority != nil {
                    let word = newSeverity ?? current.severity, level = newPriority ?? current.priority
                    let change = "\(current.severity.rawValue) (\(current.priority)) → \(word.rawValue) (\(level))"
                    var details = ["from": current.priority.description, "to": level.description,
                                   "from_event_severity": current.severity.rawValue,
                                   "to_event_severity": word.rawValue]
                    if case .level = severity { details["set"] = "level" } else { details["set"] = "event_severity" }
                    entries.append(IncidentCore.TimelineEntry(
                        at: now, actor: identity.name, kind: "severity_changed", message: change, details: details))
                }
                if let team {
                    entries.append(IncidentCore.TimelineEntry(at: now, actor: identity.name, kind: "assigned",
                                                              message: "assigned to \(team)",
                                                              details: ["from": current.assignedTeam, "to": team]))
                }
                if !note.isEmpty {
                    entries.append(IncidentCore.TimelineEntry(
                        at: now, actor: identity.name, kind: "note", message: note))
                }
                var update = IncidentUpdate(
                    incidentID: id, expectedVersion: expected, actor: identity.name, status: status,
                    assignedTeam: team, timelineEntries: entries, severity: newSeverity, priority: newPriority)
                try await addPipelineEffects(of: request, to: &update, current: current, now: now)
                if update.timelineEntries.isEmpty && status == nil && team == nil {
                    // Only the severity it already has: answer the incident as it is rather than bump its version.
                    return updateAnswer(current, to: identity)
                }
                do {
                    let result = try await store.updateIncident(update)
                    log.info("update \(id) by \(identity.name) to version \(result.version)",
                             ["incident_id": "\(id)"])
                    break
                } catch StoreError.versionConflict
                            where request.expectedVersion == 0 && attempt < Self.updateAttempts {
                    // No version was named: the caller meant "as it is now", and a job (a page's outcome, a timer)
                    // changed it between our read and write. Read again and re-check the move against it.
                    continue
                }
            }
            let updated = try await store.incident(id, includePayload: authorizer.mayReadPayload(identity))
            return updateAnswer(updated, to: identity)
        } catch {
            throw RPCError.from(error, log: log, method: "UpdateIncident")
        }
    }

    /// What UpdateIncident answers: the incident for callers that may read it; for the others (`incident:update`
    /// alone) only its id, version and position, so an update right cannot be used to read incidents.
    private func updateAnswer(_ incident: IncidentCore.Incident, to identity: IdentityPolicy) -> IncidentAPI.Incident {
        guard identity.permissions.contains(.incidentRead) else {
            var minimal = IncidentAPI.Incident()
            minimal.id = incident.id.description
            minimal.version = UInt64(max(0, incident.version))
            minimal.position = UInt64(max(0, incident.position))
            return minimal
        }
        return IncidentAPI.Incident(incident, includePayload: authorizer.mayReadPayload(identity))
    }

    /// Parses `ACKNOWLEDGED`, `acknowledged`, `in-progress`, ... as a status.
    static func status(named name: String, field: String = "status") throws(RPCError) -> IncidentStatus {
        let normalized = name.trimmingCharacters(in: .whitespaces).uppercased()
            .replacingOccurrences(of: "-", with: "_").replacingOccurrences(of: " ", with: "_")
        guard let status = IncidentStatus(rawValue: normalized) else {
            let names = IncidentStatus.allCases.map(\.rawValue).joined(separator: ", ")
            throw RPCError(.invalidArgument, "\(field): \"\(name)\" is not one of \(names)")
        }
        return status
    }

    /// Parses `P1`, `critical`, `High`, ... as a level or an event word.
    static func severityName(_ name: String, field: String = "severity") throws(RPCError) -> SeverityName {
        guard let severity = SeverityName(name) else {
            throw RPCError(.invalidArgument, "\(field): \(UnknownSeverityName(name: name).problem)")
        }
        return severity
    }

    /// The severity filter of a list or stream request.
    static func severityFilter(_ names: [String], field: String = "severities") throws(RPCError) -> SeverityFilter {
        do {
            return try SeverityFilter(names: names)
        } catch {
            throw RPCError(.invalidArgument, "\(field): \(error.problem)")
        }
    }

    static func teamName(_ name: String) throws(RPCError) -> String {
        let team = name.trimmingCharacters(in: .whitespaces)
        guard !team.isEmpty else { throw RPCError(.invalidArgument, "assigned_team: must not be empty") }
        guard team.utf8.count <= 128, !team.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else { throw RPCError(.invalidArgument, "assigned_team: at most 128 bytes, no control characters") }
        return team
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
