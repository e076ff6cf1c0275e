// Generic webhooks: configured triggers, a payload template, bearer auth and a signature.
import Foundation
import IncidentCore
import ProtoWire

/// The events a webhook can subscribe to.
public enum WebhookTrigger: String, Sendable, CaseIterable {
    case incidentCreated = "incident_created"
    case incidentResolved = "incident_resolved"
    case slaBreached = "sla_breached"
    case escalated
}

/// One configured webhook.
public struct Webhook: Sendable {
    public var name: String
    public var url: String
    /// Triggers and, per trigger, the priorities it fires for (empty: all).
    public var triggers: [WebhookTrigger: Set<Priority>]
    public var headers: [String: String]
    /// `{{incident.id}}`-style placeholders; `nil` sends the default JSON body.
    public var payloadTemplate: String?
    public var bearerToken: String?
    public var signer: MessageSigner?
    public var timeoutSeconds: Double

    public init(
        name: String, url: String, triggers: [WebhookTrigger: Set<Priority>], headers: [String: String] = [:],
        payloadTemplate: String? = nil, bearerToken: String? = nil, signer: MessageSigner? = nil,
        timeoutSeconds: Double = 10
    ) {
        self.name = name
        self.url = url
        self.triggers = triggers
        self.headers = headers
        self.payloadTemplate = payloadTemplate
        self.bearerToken = bearerToken
        self.signer = signer
        self.timeoutSeconds = timeoutSeconds
    }

    /// Whether the webhook wants this trigger for an incident of this priority.
    public func fires(on trigger: WebhookTrigger, priority: Priority) -> Bool {
        guard let priorities = triggers[trigger] else { return false }
        return priorities.isEmpty || priorities.contains(priority)
    }

    /// The request for a trigger; `now` is seconds since 1970 (the signature's timestamp).
    public func request(_ trigger: WebhookTrigger, for incident: IncidentSummary, timestamp: String, now: Int) -> OutboundRequest {
        let values: [String: String] = [
            "event_type": trigger.rawValue, "timestamp": timestamp,
            "incident.id": incident.id, "incident.title": incident.title, "incident.description": incident.description,
            "incident.severity": incident.priority.description, "incident.event_severity": incident.severity.rawValue,
            "incident.priority": incident.priority.description,
            "incident.status": incident.status, "incident.category": incident.category,
            "incident.source": incident.source, "incident.team": incident.team, "incident.url": incident.url,
        ]
        let body: [UInt8]
        if let template = payloadTemplate {
            body = Array(PayloadTemplate.render(template, values: values).utf8)
        } else {
            let object: [String: Any] = [
                "event_type": trigger.rawValue, "timestamp": timestamp,
                "incident": ["id": incident.id, "title": incident.title, "severity": incident.priority.description,
                             "event_severity": incident.severity.rawValue,
                             "priority": incident.priority.description, "status": incident.status,
                             "category": incident.category, "url": incident.url],
            ]
            body = Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data())
        }
        var headers = headers
        if headers["Content-Type"] == nil { headers["Content-Type"] = "application/json" }
        if let token = bearerToken { headers["Authorization"] = "Bearer \(token)" }
        if let signer { headers.merge(signer.signatureHeaders(body: body, timestamp: now)) { _, new in new } }
        return OutboundRequest(
            integration: "webhook:\(name)", url: url, headers: headers, body: body,
            idempotencyKey: "\(incident.id)/\(trigger.rawValue)/\(name)", timeoutSeconds: timeoutSeconds)
    }
}

/// `{{name}}` substitution for JSON templates; values are JSON-string-escaped so event text cannot
/// break out of the string it is placed in.
public enum PayloadTemplate {
    public static func render(_ template: String, values: [String: String]) -> String {
        var output = ""
        var rest = template[...]
        while let open = rest.range(of: "{{") {
            output += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                rest = rest[open.lowerBound...]
                break
            }
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            output += JSONWriter.escaped(values[name] ?? "")
            rest = rest[close.upperBound...]
        }
        return output + rest
    }
}
