// PagerDuty Events API v2: trigger, acknowledge and resolve, shaped as the integration guide's example (summary
// `P1: <title>`, custom_details with category, resource and metrics, a `View Incident` link). Each alert is
// deduplicated on its own key, so a retried page updates one PagerDuty alert instead of opening another.
import Foundation
import IncidentCore

/// Builds Events API v2 requests.
public struct PagerDutyEvents: Sendable {
    /// The Events API v2 endpoint (overridable for tests and proxies).
    public var endpoint: String
    /// Integration keys by priority (the spec's `service_routing`); a priority without a key is not paged.
    public var routingKeys: [Priority: String]

    public init(endpoint: String = "https://events.pagerduty.com/v2/enqueue", routingKeys: [Priority: String] = [:]) {
        self.endpoint = endpoint
        self.routingKeys = routingKeys
    }

    /// What a PagerDuty event does.
    public enum Action: String, Sendable {
        case trigger, acknowledge, resolve
    }

    /// PagerDuty's severity for a priority, as the guide's example maps it (a P1 is `critical`): P0 and P1
    /// critical, P2 error, P3 warning, P4 info.
    public static func severity(forPriority priority: Priority) -> String {
        switch priority {
        case .p0, .p1: "critical"
        case .p2: "error"
        case .p3: "warning"
        case .p4: "info"
        }
    }

    /// The request for an action on an incident's first alert (dedup key = the incident id), or `nil` when its
    /// priority has no routing key.
    public func request(_ action: Action, for incident: IncidentSummary, attemptKey: String) -> OutboundRequest? {
        guard let key = routingKeys[incident.priority] else { return nil }
        return request(action, for: incident, routingKey: key, dedupKey: incident.id, attemptKey: attemptKey)
    }

    /// The request for an action on one alert of an incident: `dedupKey` names the alert, `routingKey` the
    /// PagerDuty service (and so the people) it pages.
    public func request(_ action: Action, for incident: IncidentSummary, routingKey: String, dedupKey: String,
                        attemptKey: String) -> OutboundRequest {
        var event: [String: Any] = [
            "routing_key": routingKey,
            "event_action": action.rawValue,
            "dedup_key": dedupKey,
        ]
        if action == .trigger {
            event["payload"] = [
                "summary": "\(incident.priority): \(incident.title)".prefix(1024).description,
                "source": incident.source,
                "severity": Self.severity(forPriority: incident.priority),
                "timestamp": incident.createdAt,
                "component": incident.eventType,
                "group": incident.team,
                "class": incident.category,
                "custom_details": [
                    "incident_id": incident.id,
                    "category": incident.category,
                    "resource": incident.resource,
                    "metrics": incident.metrics,
                    "status": incident.status,
                    "event_type": incident.eventType,
                    "escalation_policy": incident.escalationPolicy,
                    "description": incident.description,
                ] as [String: Any],
            ] as [String: Any]
            event["links"] = [["href": incident.url, "text": "View Incident"]]
            event["client"] = "incident-manager"
            event["client_url"] = incident.url
        }
        let body = (try? JSONSerialization.data(withJSONObject: event, options: [.sortedKeys])) ?? Data()
        return OutboundRequest(
            integration: "pagerduty", url: endpoint, headers: ["Content-Type": "application/json"],
            body: Array(body), idempotencyKey: attemptKey)
    }
}
