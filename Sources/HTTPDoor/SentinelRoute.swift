// LLM-Sentinel's door: `POST /api/v1/events/sentinel` with `X-API-Key`, body as the guide's example (and the same
// for any source whose `integrations.<source>` block has API keys, at `/api/v1/events/<source>`). The key is
// checked against the block's `authentication.api_keys` (SHA-256, constant time); the event goes
// through the one intake like a gRPC CreateIncident, its free-form `payload` object kept opaque as the
// encrypted payload is (stored, never logged, shown only to incident:read_payload).
import Foundation
import HTTPTypes
import Hummingbird
import IncidentAPI
import IncidentCore
import IncidentServer
import NIOCore
import ProtoWire

/// Turns a source's API key and JSON event into an intake create and the guide's 202 answer.
struct SourceEventRoute: Sendable {
    let intake: IncidentIntake
    let keys: SourceKeys
    let maxBodyBytes: Int
    /// `public_url` without a trailing slash.
    let publicURL: String

    /// `POST /api/v1/events/{source}`: `sentinel` is the guide's path for `llm-sentinel`; any other source with
    /// API keys in its `integrations.<source>` block posts under its own name.
    func add(to router: Router<DoorContext>) {
        router.post("/api/v1/events/:source") { request, context in
            let name = try context.parameters.require("source")
            return try await self.accept(request, source: name == "sentinel" ? "llm-sentinel" : name)
        }
    }

    private func accept(_ request: Request, source: String) async throws -> Response {
        let identity = try keys.identity(for: request, source: source)
        let body = try await IncidentRoutes.body(of: request, limit: maxBodyBytes)
        let event = try Self.event(fromJSON: body, defaultSource: source)
        let outcome = try await intake.createShedding(event, by: identity, requestBytes: { body })
        let id = outcome.incidentID.description
        var writer = JSONWriter()
        writer.beginObject()
        for (name, value) in [("status", "accepted"), ("event_id", event.eventID), ("incident_id", id),
                              ("message", "Event received and queued for processing")] {
            writer.writeName(name)
            writer.writeString(value)
        }
        // Folded into the open incident of its correlation key (that incident's id above), as gRPC's `correlated`.
        writer.writeName("correlated")
        writer.writeBool(outcome.correlated)
        writer.writeName("links")
        writer.beginObject()
        writer.writeName("incident")
        writer.writeString("\(publicURL)/incidents/\(id)")
        writer.writeName("api")
        writer.writeString("\(publicURL)/api/v1/incidents/\(id)")
        writer.endObject()
        writer.endObject()
        return IncidentRoutes.json(.accepted, writer.result)
    }

    /// The event in a Sentinel-shaped JSON body: CreateIncident's fields in proto3 JSON (unknown ones refused by
    /// name), with `payload` (any JSON object) kept as opaque bytes.
    static func event(fromJSON body: [UInt8], defaultSource: String) throws -> SecurityEvent {
        guard case .object(let object) = try JSONText.parse(body) else {
            throw DoorError.badRequest("body: expected a JSON object")
        }
        return try event(from: object, defaultSource: defaultSource)
    }

    /// The event in one parsed JSON object of Sentinel's shape (the Edge Agent's `event` messages too, their `type`
    /// member left out by the caller).
    static func event(from object: JSONObject, defaultSource: String) throws -> SecurityEvent {
        var object = object
        var payload: [UInt8] = []
        if let index = object.members.firstIndex(where: { $0.name == "payload" }) {
            let member = object.members.remove(at: index).value
            guard case .object = member else { throw DoorError.badRequest("payload: expected a JSON object") }
            var writer = JSONWriter()
            JSONText.write(member, to: &writer)
            payload = Array(writer.result.utf8)
        }
        var message = CreateIncidentRequest()
        try message.decodeJSON(from: object, options: JSONDecodingOptions(recursionLimit: 32))
        if message.source.isEmpty { message.source = defaultSource }
        if !payload.isEmpty { message.encryptedPayload = payload }
        return SecurityEvent(message)
    }
}

/// JSON bodies in and out: ProtoWire's parser (errors name the byte) and a writer for parsed values.
enum JSONText {
    /// The body as JSON, nested at most 32 deep; malformed text is a 400 naming the byte where reading stopped.
    static func parse(_ body: [UInt8]) throws -> JSONValue {
        do {
            return try JSONParser.parse(body, depthLimit: 32)
        } catch {
            throw DoorError.badRequest("body: \(error.description)")
        }
    }

    /// Writes a parsed JSON value back as compact JSON text (numbers as they were written).
    static func write(_ value: JSONValue, to writer: inout JSONWriter) {
        switch value {
        case .null: writer.writeNull()
        case .bool(let flag): writer.writeBool(flag)
        case .number(let text): writer.writeNumber(text)
        case .string(let text): writer.writeString(text)
        case .array(let items):
            writer.beginArray()
            for item in items { write(item, to: &writer) }
            writer.endArray()
        case .object(let object):
            writer.beginObject()
            for member in object.members {
                writer.writeName(member.name)
                write(member.value, to: &writer)
            }
            writer.endObject()
        }
    }
}
