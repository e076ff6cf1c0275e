// Other tools' webhooks: `POST /api/v1/tickets/webhook/{source}` for any source whose `integrations.<source>` block
// has API keys and a `field_mapping` (event field → JSON pointer into the tool's body). The mapped event goes
// through the intake like any other; a source with no mapping is 404.
import Foundation
import HTTPTypes
import Hummingbird
import IncidentCore
import IncidentServer
import NIOCore
import ProtoWire

/// Maps a tool's JSON body onto an event by the source's JSON pointers and creates it.
struct WebhookRoute: Sendable {
    let intake: IncidentIntake
    let keys: SourceKeys
    let maxBodyBytes: Int
    let publicURL: String

    func add(to router: Router<DoorContext>) {
        router.post("/api/v1/tickets/webhook/:source") { request, context in
            let name = try context.parameters.require("source")
            guard let mapping = intake.config.sources[name]?.fieldMapping, !mapping.isEmpty else {
                throw DoorError(.notFound, "not_found", "no webhook source \"\(name.prefix(64))\" is configured")
            }
            let identity = try keys.identity(for: request, source: name)
            let body = try await IncidentRoutes.body(of: request, limit: maxBodyBytes)
            let event = try Self.event(from: try JSONText.parse(body), mapping: mapping, source: name)
            let outcome = try await intake.createShedding(event, by: identity, requestBytes: { body })
            let id = outcome.incidentID.description
            var writer = JSONWriter()
            writer.beginObject()
            for (key, value) in [("status", "accepted"), ("event_id", event.eventID), ("incident_id", id),
                                 ("duplicate", outcome.duplicate ? "true" : "false")] {
                writer.writeName(key)
                if key == "duplicate" { writer.writeBool(outcome.duplicate) } else { writer.writeString(value) }
            }
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
    }

    /// The event the mapping reads out of `body`; a pointer that finds nothing leaves its field empty (the
    /// validator then names a required one), one that finds an object or array is a 400 naming the field.
    static func event(from body: JSONValue, mapping: [String: String], source: String) throws -> SecurityEvent {
        var fields: [String: String] = [:]
        var tags: [String: String] = [:]
        for (field, pointer) in mapping.sorted(by: { $0.key < $1.key }) {
            guard let value = try JSONPointer.resolve(pointer, in: body) else { continue }
            let text: String
            switch value {
            case .string(let string): text = string
            case .number(let number): text = number
            case .bool(let flag): text = flag ? "true" : "false"
            case .null: continue
            case .array, .object:
                throw DoorError.badRequest("\(field): the value at \(pointer) is not a string or number")
            }
            if field.hasPrefix("tags.") { tags[String(field.dropFirst(5))] = text } else { fields[field] = text }
        }
        return SecurityEvent(
            eventID: fields["event_id"] ?? "", source: source, timestamp: fields["timestamp"] ?? "",
            eventType: fields["event_type"] ?? "", category: fields["category"] ?? "", title: fields["title"] ?? "",
            description: fields["description"] ?? "", severity: fields["severity"] ?? "", tags: tags)
    }
}

/// RFC 6901 JSON pointers (`/alert/labels/0`, `~1` for `/`, `~0` for `~`).
enum JSONPointer {
    /// The value `pointer` names in `document`, or nil when a step finds nothing.
    static func resolve(_ pointer: String, in document: JSONValue) throws -> JSONValue? {
        if pointer.isEmpty { return document }
        guard pointer.hasPrefix("/") else { throw DoorError.badRequest("\(pointer): a JSON pointer starts with /") }
        var current = document
        for raw in pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            let token = raw.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            switch current {
            case .object(let object):
                guard let member = object.members.last(where: { $0.name == token }) else { return nil }
                current = member.value
            case .array(let items):
                guard let index = Int(token), items.indices.contains(index) else { return nil }
                current = items[index]
            default:
                return nil
            }
        }
        return current
    }
}
