// LLM-Governance-Core's audit push (guide §5): audit-log entries become `{event_id, timestamp, event_type,
// incident_id, actor{type,id,name}, changes[{field, old_value, new_value}]}` and go out in batches to
// `POST …/api/v1/audit-events` with `X-API-Key`. Pure: the pusher in IncidentServer reads the entries and sends.
import Foundation
import IncidentCore

/// One audit event as Governance receives it.
public struct GovernanceAuditEvent: Sendable, Hashable {
    /// One changed field; values are text as the guide shows them (`"RESOLVED"`, `"P1"`), nil for none.
    public struct Change: Sendable, Hashable {
        public var field: String
        public var oldValue: String?
        public var newValue: String?
    }

    /// Stable across retries and restarts (`audit-<seq>-<hash prefix>`): the receiver deduplicates on it.
    public var eventID: String
    public var timestamp: String
    public var eventType: GovernanceEventType
    public var incidentID: String
    /// `system` for the server's own timers and jobs, `integration` for changes that came from Jira or Slack,
    /// `user` for a caller identity (a person or a service's certificate).
    public var actorType: String
    public var actorID: String
    public var changes: [Change]

    /// Fields that are sent: states and routing only. Tags, timeline entries and remediation parameters may hold
    /// PII (user ids, IP addresses) and stay home.
    static let sentFields = ["status", "severity", "priority", "assigned_team", "escalation_policy", "escalation_step"]

    /// The event an audit entry stands for, or nil when it is none of the pushed kinds.
    /// `oldValues`/`newValues` are the entry's JSON objects of changed fields.
    public static func from(seq: Int64, hash: String, incidentID: String, actor: String, action: String,
                            oldValues: String, newValues: String, at: String) -> GovernanceAuditEvent? {
        let old = object(oldValues)
        let new = object(newValues)
        let type: GovernanceEventType
        if action == "created" {
            type = .incidentCreated
        } else if let status = new["status"] as? String, status == "RESOLVED" {
            type = .incidentResolved
        } else if let status = new["status"] as? String, status == "CLOSED" {
            type = .incidentClosed
        } else if new["sla_breach"] != nil {
            type = .slaBreached
        } else if new["escalation_step"] != nil {
            type = .escalated
        } else {
            return nil
        }
        var changes = sentFields.compactMap { field -> Change? in
            guard new[field] != nil else { return nil }
            return Change(field: field, oldValue: text(field, old[field]), newValue: text(field, new[field]))
        }
        if let breach = new["sla_breach"] as? [String: Any] {
            let clock = breach["clock"] as? String ?? "sla"
            changes.append(Change(field: "sla.\(clock)", oldValue: nil, newValue: "breached"))
        }
        let actorType = switch actor {
        case "system": "system"
        case "jira", "slack": "integration"
        default: "user"
        }
        return GovernanceAuditEvent(
            eventID: "audit-\(seq)-\(hash.prefix(12))", timestamp: at, eventType: type, incidentID: incidentID,
            actorType: actorType, actorID: actor, changes: changes)
    }

    /// The guide's JSON object.
    public var json: [String: Any] {
        [
            "event_id": eventID, "timestamp": timestamp, "event_type": eventType.rawValue, "incident_id": incidentID,
            "actor": ["type": actorType, "id": actorID, "name": actorID],
            "changes": changes.map { change in
                ["field": change.field, "old_value": change.oldValue.map { $0 as Any } ?? NSNull(),
                 "new_value": change.newValue.map { $0 as Any } ?? NSNull()] as [String: Any]
            },
        ]
    }

    private static func object(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    /// A stored value as the guide's text: priorities as `P0`…`P4`, numbers and strings as written.
    private static func text(_ field: String, _ value: Any?) -> String? {
        switch value {
        case let string as String: return string
        case let number as NSNumber where field == "priority": return "P\(number.intValue)"
        case let number as NSNumber: return number.stringValue
        default: return nil
        }
    }
}

/// Builds the audit push's requests and decides when a partial batch is due.
public struct GovernanceAuditPush: Sendable {
    /// The URL events are POSTed to (`GovernanceConfig.auditURL`).
    public var url: String
    /// The expanded API key; only ever placed in the `X-API-Key` header.
    public var apiKey: String
    /// Events per request; 1 sends the guide's single object, more send a JSON array of them.
    public var batchSize: Int
    public var maxWaitSeconds: Double
    public var timeoutSeconds: Double

    public init(url: String, apiKey: String, batchSize: Int, maxWaitSeconds: Double, timeoutSeconds: Double = 10) {
        self.url = url
        self.apiKey = apiKey
        self.batchSize = max(1, batchSize)
        self.maxWaitSeconds = maxWaitSeconds
        self.timeoutSeconds = timeoutSeconds
    }

    /// Whether to send now: a full batch at once, a partial one when its oldest event has waited `maxWaitSeconds`.
    public func isDue(count: Int, oldestAgeSeconds: Double) -> Bool {
        count > 0 && (count >= batchSize || oldestAgeSeconds >= maxWaitSeconds)
    }

    /// The request for a batch. Its idempotency key names the range of events, the same on every retry of it.
    public func request(_ events: [GovernanceAuditEvent]) -> OutboundRequest {
        let body: Any = batchSize == 1 && events.count == 1 ? events[0].json : events.map(\.json)
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
        let key = "governance:\(events.first?.eventID ?? "")..\(events.last?.eventID ?? "")"
        return OutboundRequest(
            integration: "governance", url: url,
            headers: ["Content-Type": "application/json", "X-API-Key": apiKey],
            body: Array(data), idempotencyKey: key, timeoutSeconds: timeoutSeconds)
    }
}
