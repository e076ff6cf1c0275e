// The Edge Agent WebSocket, `wss://…/ws/events`: a JWT bearer (the `tokens.jwt` verifier) names the identity at the
// upgrade; the server greets with `connection_ack`, answers each `event` (and each event of a gzip `batch`) with
// `ack` or `error`, and closes a connection silent for longer than the idle limit (90 s unless configured).
// Creates run through the one intake, at most `maxInFlight` at once per connection: past that the socket is not
// read (TCP pushes back on the agent), nothing is dropped. A batch's events start most urgent first, so its P0s do
// not queue behind its P4s; a batch that expands past the configured size closes the connection (a gzip bomb).
import CompressNIO
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import IncidentCore
import IncidentServer
import NIOCore
import ProtoWire
import Synchronization

/// The WebSocket's limits.
public struct EdgeAgentSocketSettings: Sendable {
    /// A connection that sends nothing (not even a heartbeat) this long is closed.
    public var idleTimeout: Duration = .seconds(90)
    /// Creates one connection may have waiting on the intake; past it the socket is not read.
    public var maxInFlight = 32
    /// Largest message (frame payload) read, and the largest a batch may expand to once gunzipped.
    public var maxMessageBytes = 1 << 20
    public var maxExpandedBytes = 16 << 20

    public init() {}
}

/// One agent connection's protocol.
struct EdgeAgentSocket: Sendable {
    let intake: IncidentIntake
    let settings: EdgeAgentSocketSettings
    let log: ServerLog
    static let source = "llm-edge-agent"

    /// Adds `/ws/events` to the WebSocket router: only a verified bearer JWT with `event:create` is upgraded.
    func add(to router: Router<DoorContext>) {
        router.ws("/ws/events") { request, _ in
            _ = try self.identity(of: request)
            return .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            let identity = try self.identity(of: context.request)
            try await self.serve(inbound: inbound, outbound: outbound, identity: identity)
        }
    }

    /// A plain (not upgrading) `GET /ws/events` on the HTTP router: hummingbird-websocket answers a refused upgrade
    /// with an empty 400, so this says why (401/403 as JSON), or 426 when the credentials would be accepted.
    func addExplanation(to router: Router<DoorContext>) {
        router.get("/ws/events") { request, _ -> Response in
            _ = try self.identity(of: request)
            throw DoorError(.upgradeRequired, "upgrade_required", "open a WebSocket here (Upgrade: websocket)")
        }
    }

    private func identity(of request: Request) throws -> IdentityPolicy {
        let authorization = request.headers[values: .authorization]
        guard authorization.count == 1, authorization[0].lowercased().hasPrefix("bearer ") else {
            throw DoorError(.unauthorized, "unauthenticated", "send Authorization: Bearer <JWT>")
        }
        let identity = try intake.authorizer.authenticate(peer: nil, authorization: authorization)
        guard identity.permissions.contains(.eventCreate) else {
            throw DoorError(.forbidden, "permission_denied", "identity \(identity.name) lacks the event:create permission")
        }
        return identity
    }

    /// What the reader hands the writer side: when the peer was last heard.
    private final class Activity: Sendable {
        let last = Mutex(ContinuousClock.now)
        func touch() { last.withLock { $0 = .now } }
        var silence: Duration { ContinuousClock.now - last.withLock { $0 } }
    }

    private func serve(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter,
                       identity: IdentityPolicy) async throws {
        let session = UUID().uuidString.lowercased()
        try await outbound.write(.text(Self.object([
            ("type", .string("connection_ack")), ("session_id", .string(session)),
            ("protocol_version", .string("1.0")),
            ("features", .array([.string("batching"), .string("compression"), .string("filtering")])),
        ])))
        log.info("ws session \(session) opened by \(identity.name)")
        let activity = Activity()
        let idle = settings.idleTimeout
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    let silence = activity.silence
                    if silence >= idle {
                        try? await outbound.close(.goingAway, reason: "idle for \(idle.components.seconds) s")
                        return
                    }
                    try await Task.sleep(for: idle - silence)
                }
            }
            group.addTask {
                try await self.read(inbound, outbound: outbound, identity: identity, activity: activity)
            }
            // Whichever ends first (the agent closed, or the idle close went out) ends the other.
            try await group.next()
            group.cancelAll()
        }
        log.info("ws session \(session) closed")
    }

    private func read(_ inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, identity: IdentityPolicy,
                      activity: Activity) async throws {
        try await withThrowingTaskGroup(of: Void.self) { creates in
            var inFlight = 0
            for try await message in inbound.messages(maxSize: settings.maxMessageBytes) {
                activity.touch()
                let events: [Result<JSONObject, DoorError>]
                do {
                    events = try decode(message)
                } catch let bomb as BatchTooLarge {
                    try await outbound.close(.messageTooLarge, reason: bomb.reason)
                    return
                } catch {
                    let refusal = DoorError.from(error, log: log, route: "ws /ws/events")
                    try await outbound.write(.text(Self.error(eventID: "", refusal.message)))
                    continue
                }
                if events.isEmpty {
                    try await outbound.write(.text(Self.object([
                        ("type", .string("heartbeat_ack")), ("timestamp", .string(Date().formatted(.iso8601))),
                    ])))
                    continue
                }
                for item in events {
                    // Bounded: past maxInFlight the loop waits here, so the next message is not read.
                    while inFlight >= settings.maxInFlight {
                        try await creates.next()
                        inFlight -= 1
                    }
                    inFlight += 1
                    creates.addTask {
                        let answer = await self.create(item, identity: identity)
                        try await outbound.write(.text(answer))
                    }
                }
            }
            try await creates.waitForAll()
        }
    }

    /// A gunzipped batch larger than the limit.
    private struct BatchTooLarge: Error {
        var reason: String
    }

    /// The events a message carries, most urgent first; none for a heartbeat. A malformed member event is an
    /// error answer of its own, so the batch's other events still go in.
    private func decode(_ message: WebSocketMessage) throws -> [Result<JSONObject, DoorError>] {
        let bytes: [UInt8]
        switch message {
        case .text(let text): bytes = Array(text.utf8)
        case .binary(let buffer): bytes = Array(buffer.readableBytesView)
        }
        guard case .object(var object) = try JSONText.parse(bytes) else {
            throw DoorError.badRequest("a message is a JSON object with a type")
        }
        let type = Self.member(object, "type")
        object.members.removeAll { $0.name == "type" }
        switch type {
        case "heartbeat":
            return []
        case "event":
            return [.success(object)]
        case "batch":
            guard Self.member(object, "compression") == "gzip" else {
                throw DoorError.badRequest("batch: compression must be gzip")
            }
            guard let compressed = Data(base64Encoded: Self.member(object, "events")) else {
                throw DoorError.badRequest("batch.events: expected base64 of a gzip of a JSON array")
            }
            var buffer = ByteBuffer(bytes: compressed)
            let expanded: ByteBuffer
            do {
                expanded = try buffer.decompress(with: .gzip(), maxSize: settings.maxExpandedBytes)
            } catch let error as CompressNIOError where error == .bufferOverflow {
                throw BatchTooLarge(reason: "batch expands past \(settings.maxExpandedBytes) bytes")
            } catch {
                throw DoorError.badRequest("batch.events: not valid gzip")
            }
            guard case .array(let items) = try JSONText.parse(Array(expanded.readableBytesView)) else {
                throw DoorError.badRequest("batch.events: expected a JSON array")
            }
            let declared = Self.member(object, "count")
            if !declared.isEmpty, Int(declared) != items.count {
                throw DoorError.badRequest("batch.count: says \(declared), the batch holds \(items.count)")
            }
            let config = intake.config
            let ranked = items.map { item -> (Priority, Result<JSONObject, DoorError>) in
                guard case .object(var event) = item else {
                    return (.p4, .failure(DoorError.badRequest("batch: each event is a JSON object")))
                }
                // An agent that buffers the `event` messages it would have sent alone (the guide's agent batches
                // what `sendEvent` was given) may leave their `"type": "event"` in: not an event field, so dropped.
                if Self.member(event, "type") == "event" { event.members.removeAll { $0.name == "type" } }
                let level = SeverityName(Self.member(event, "severity")).map(config.level(for:)) ?? .p4
                return (level, .success(event))
            }
            // Stable: equal levels keep the agent's order.
            return ranked.enumerated().sorted { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }
                .map { $0.element.1 }
        default:
            throw DoorError.badRequest("type: must be event, batch or heartbeat")
        }
    }

    /// One event through the intake, answered `ack` or `error` (never with the event's text beyond its id).
    private func create(_ item: Result<JSONObject, DoorError>, identity: IdentityPolicy) async -> String {
        let object: JSONObject
        switch item {
        case .failure(let refusal): return Self.error(eventID: "", refusal.message)
        case .success(let value): object = value
        }
        let eventID = String(Self.member(object, "event_id").prefix(256))
        do {
            var event = try SourceEventRoute.event(from: object, defaultSource: Self.source)
            event.eventID = event.eventID.isEmpty ? eventID : event.eventID
            let outcome = try await intake.createShedding(event, by: identity, requestBytes: { [] })
            return Self.object([("type", .string("ack")), ("event_id", .string(event.eventID)),
                                ("incident_id", .string(outcome.incidentID.description)),
                                ("status", .string("processed")), ("correlated", .bool(outcome.correlated))])
        } catch {
            return Self.error(eventID: eventID, DoorError.from(error, log: log, route: "ws event").message)
        }
    }

    static func error(eventID: String, _ message: String) -> String {
        object([("type", .string("error")), ("event_id", .string(eventID)), ("message", .string(message))])
    }

    static func member(_ object: JSONObject, _ name: String) -> String {
        switch object.members.last(where: { $0.name == name })?.value {
        case .string(let text)?: text
        case .number(let text)?: text
        default: ""
        }
    }

    static func object(_ members: [(String, JSONValue)]) -> String {
        var writer = JSONWriter()
        JSONText.write(.object(JSONObject(members: members.map { (name: $0.0, value: $0.1) })), to: &writer)
        return writer.result
    }
}
