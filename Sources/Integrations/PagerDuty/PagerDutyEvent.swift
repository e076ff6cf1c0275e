// PagerDuty Events API v2: trigger, acknowledge and resolve, deduplicated on the incident id so a
// retried or repeated page updates one PagerDuty incident instead of opening another.
import Foundation
import IncidentCore

/// Builds Events API v2 requests.
public struct PagerDutyEvents: Sendable {
    /// The Events API v2 endpoint (overridable for tests and proxies).
    public var endpoint: String
    /// Integration keys by priority (the spec's `service_routing`); a priority without a key is not paged.
    public var routingKeys: [Priority: String]

    public init(endpoint: String = "https://events.pagerduty.com/v2/enqueue", routingKeys: [Priority: String]) {
        self.endpoint = endpoint
        self.routingKeys = routingKeys
    }

    /// What a PagerDuty event does.
    public enum Action: String, Sendable {
        case trigger, acknowledge, resolve
    }

    /// PagerDuty's severity for a priority.
    public static func severity(forPriority priority: Priority) -> String {
        switch priority {
        case .p0: "critical"
        case .p1: "error"
        case .p2: "warning"
        case .p3, .p4: "info"
        }
    }

    /// The request for an action on an incident, or `nil` when its priority has no routing key.
    public func request(_ action: Action, for incident: IncidentSummary, attemptKey: String) -> OutboundRequest? {
        guard let key = routingKeys[incident.priority] else { return nil }
        var event: [String: Any] = [
            "routing_key": key,
            "event_action": action.rawValue,
            "dedup_key": incident.id,
        ]
        if action == .trigger {
            event["payload"] = [
                "summary": "[\(incident.priority)] \(incident.title)".prefix(1024).description,
                "source": incident.source,
                "severity": Self.severity(forPriority: incident.priority),
                "timestamp": incident.createdAt,
                "component": incident.eventType,
                "group": incident.team,
                "class": incident.category,
                "custom_details": [
                    "incident_id": incident.id,
                    "status": incident.status,
                    "severity": incident.severity.rawValue,
                    "escalation_policy": incident.escalationPolicy,
                    "description": incident.description,
                ],
            ] as [String: Any]
            event["links"] = [["href": incident.url, "text": "Incident \(incident.id)"]]
            event["client"] = "incident-manager"
            event["client_url"] = incident.url
        }
        let body = (try? JSONSerialization.data(withJSONObject: event, options: [.sortedKeys])) ?? Data()
        return OutboundRequest(
            integration: "pagerduty", url: endpoint, headers: ["Content-Type": "application/json"],
            body: Array(body), idempotencyKey: attemptKey)
    }
}
