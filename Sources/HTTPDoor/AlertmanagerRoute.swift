// Prometheus Alertmanager's webhook (body version 4) at `POST /api/v1/tickets/webhook/prometheus` and
// `/api/v1/webhooks/alertmanager`. Each alert is an event of the `prometheus` source: event_id = fingerprint and
// startsAt (one incident per firing, however often Alertmanager repeats it), severity from `labels.severity`
// through the source's `alert_severity_mapping`, title from `annotations.summary` (else `alertname`), labels as
// tags. A resolved alert resolves its incident through the intake's update, the timeline saying the source
// resolved it. Authentication is the source's API key as Alertmanager's `http_config` sends it: a bearer token,
// basic auth (user = key_id, password = key) or `X-API-Key`.
import Foundation
import HTTPTypes
import Hummingbird
import IncidentCore
import IncidentServer
import NIOCore
import ProtoWire

/// Turns an Alertmanager notification into creates (firing) and source resolves (resolved) through the intake.
struct AlertmanagerRoute: Sendable {
    let intake: IncidentIntake
    let keys: SourceKeys
    let maxBodyBytes: Int
    /// The source name the config block and the events use.
    static let source = "prometheus"
    /// Label values → severity words when the source block names no `alert_severity_mapping`.
    static let defaultSeverities = ["critical": "critical", "page": "critical", "error": "high", "high": "high",
                                    "warning": "medium", "medium": "medium", "low": "low", "info": "info",
                                    "none": "info"]

    func add(to router: Router<DoorContext>) {
        router.post("/api/v1/tickets/webhook/prometheus") { request, _ in try await self.receive(request) }
        router.post("/api/v1/webhooks/alertmanager") { request, _ in try await self.receive(request) }
    }

    private func receive(_ request: Request) async throws -> Response {
        let identity = try keys.identity(for: request, source: Self.source)
        let body = try await IncidentRoutes.body(of: request, limit: maxBodyBytes)
        let notification = try Self.object(try JSONText.parse(body), "body")
        guard let alerts = notification["alerts"], case .array(let items) = alerts else {
            throw DoorError.badRequest("alerts: expected an array of alerts (Alertmanager webhook version 4)")
        }
        var writer = JSONWriter()
        writer.beginObject()
        writer.writeName("status")
        writer.writeString("ok")
        writer.writeName("alerts")
        writer.beginArray()
        for (index, item) in items.enumerated() {
            let alert = try Self.alert(item, index: index, mapping: severityMapping)
            let outcome = try await intake.createShedding(alert.event, by: identity, requestBytes: { [] })
            var state = outcome.duplicate ? "duplicate" : "created"
            if alert.resolved {
                state = try await resolve(outcome.incidentID, alert: alert, by: identity)
            }
            writer.beginObject()
            for (name, value) in [("fingerprint", alert.fingerprint), ("incident_id", outcome.incidentID.description),
                                  ("status", state)] {
                writer.writeName(name)
                writer.writeString(value)
            }
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return IncidentRoutes.json(.ok, writer.result)
    }

    /// Moves the incident to RESOLVED as the source's own resolve; one already resolved or closed stays as it is.
    private func resolve(_ id: IncidentID, alert: Alert, by identity: IdentityPolicy) async throws -> String {
        var change = UpdateChangeRequest(incidentID: id.description, status: IncidentStatus.resolved.rawValue,
                                         note: "alert resolved in Alertmanager" + (alert.endsAt.isEmpty ? "" : " at \(alert.endsAt)"))
        change.resolvedAtSource = true
        do {
            _ = try await intake.update(change, by: identity)
            return "resolved"
        } catch let refusal as DomainError where refusal.code == .failedPrecondition {
            return "already_resolved"
        }
    }

    private var severityMapping: [String: String] {
        let configured = intake.config.sources[Self.source]?.alertSeverityMapping ?? [:]
        return configured.isEmpty ? Self.defaultSeverities : configured
    }

    /// One alert of the notification, checked.
    struct Alert {
        var event: SecurityEvent
        var fingerprint: String
        var resolved: Bool
        var endsAt: String
    }

    static func alert(_ value: JSONValue, index: Int, mapping: [String: String]) throws -> Alert {
        let path = "alerts[\(index)]"
        let members = try object(value, path)
        let labels = try stringMap(members["labels"], "\(path).labels")
        let annotations = try stringMap(members["annotations"], "\(path).annotations")
        let fingerprint = try string(members["fingerprint"], "\(path).fingerprint")
        let startsAt = try string(members["startsAt"], "\(path).startsAt")
        guard !fingerprint.isEmpty else { throw DoorError.badRequest("\(path).fingerprint: is required") }
        guard !startsAt.isEmpty else { throw DoorError.badRequest("\(path).startsAt: is required") }
        let status = try string(members["status"], "\(path).status")
        guard status == "firing" || status == "resolved" else {
            throw DoorError.badRequest("\(path).status: must be firing or resolved")
        }
        let label = labels["severity"]?.lowercased() ?? ""
        let severity = mapping[label] ?? mapping["default"] ?? "medium"
        let alertname = labels["alertname"] ?? ""
        let title = annotations["summary"].flatMap { $0.isEmpty ? nil : $0 } ?? (alertname.isEmpty ? "alert" : alertname)
        // Only what stays the same while the alert fires goes into the event, so the resolve notification finds
        // the firing's incident as a replay (same source, event_id and content).
        let event = SecurityEvent(
            eventID: "\(fingerprint)-\(startsAt)", source: Self.source, timestamp: startsAt, eventType: "alert",
            category: "monitoring", title: title, description: annotations["description"] ?? "",
            severity: severity, resource: Resource(type: "alert", id: fingerprint, name: alertname),
            tags: labels)
        return Alert(event: event, fingerprint: fingerprint, resolved: status == "resolved",
                     endsAt: try string(members["endsAt"], "\(path).endsAt"))
    }

    static func object(_ value: JSONValue, _ path: String) throws -> [String: JSONValue] {
        guard case .object(let object) = value else { throw DoorError.badRequest("\(path): expected a JSON object") }
        var members: [String: JSONValue] = [:]
        for member in object.members { members[member.name] = member.value }
        return members
    }

    static func string(_ value: JSONValue?, _ path: String) throws -> String {
        switch value {
        case nil, .null?: return ""
        case .string(let text)?: return text
        default: throw DoorError.badRequest("\(path): expected a string")
        }
    }

    static func stringMap(_ value: JSONValue?, _ path: String) throws -> [String: String] {
        guard let value, !value.isNull else { return [:] }
        var map: [String: String] = [:]
        for (name, member) in try object(value, path) { map[name] = try string(member, "\(path).\(name)") }
        return map
    }
}
