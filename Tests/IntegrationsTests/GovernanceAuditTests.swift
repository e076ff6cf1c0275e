// Audit-log entries as Governance audit events (the guide's §5 body), and when a partial batch falls due.
import Foundation
import IncidentCore
import Testing
@testable import Integrations

@Suite struct GovernanceAuditTests {
    @Test("a resolution becomes incident_resolved with the guide's fields; PII-bearing fields stay home")
    func resolvedEvent() throws {
        let event = try #require(GovernanceAuditEvent.from(
            seq: 42, hash: "ab12cd34ef56789900", incidentID: "INC-20251111-00042", actor: "user-john.doe",
            action: "updated", oldValues: #"{"status": "IN_PROGRESS", "tags": {"user_id": "u-1"}}"#,
            newValues: #"{"status": "RESOLVED", "tags": {"user_id": "u-2"}, "timeline_appended": [{"message": "ip 10.0.0.1"}]}"#,
            at: "2025-11-11T10:45:00.000Z"))
        #expect(event.eventType == .incidentResolved)
        #expect(event.eventID == "audit-42-ab12cd34ef56")
        let json = event.json
        #expect(json["event_type"] as? String == "incident_resolved")
        #expect(json["incident_id"] as? String == "INC-20251111-00042")
        #expect(json["timestamp"] as? String == "2025-11-11T10:45:00.000Z")
        let actor = try #require(json["actor"] as? [String: Any])
        #expect(actor["type"] as? String == "user" && actor["id"] as? String == "user-john.doe")
        let changes = try #require(json["changes"] as? [[String: Any]])
        #expect(changes.count == 1)
        #expect(changes.first?["field"] as? String == "status")
        #expect(changes.first?["old_value"] as? String == "IN_PROGRESS")
        #expect(changes.first?["new_value"] as? String == "RESOLVED")
        let body = String(decoding: try JSONSerialization.data(withJSONObject: json), as: UTF8.self)
        #expect(!body.contains("u-1") && !body.contains("10.0.0.1"))
    }

    @Test("created, closed, SLA breaches and escalations map to their types; other updates are none")
    func otherTypes() {
        func type(_ action: String, _ new: String, old: String = "{}", actor: String = "system") -> GovernanceEventType? {
            GovernanceAuditEvent.from(seq: 1, hash: "00", incidentID: "INC-1", actor: actor, action: action,
                                      oldValues: old, newValues: new, at: "t")?.eventType
        }
        #expect(type("created", #"{"status": "NEW", "severity": "high", "priority": 1}"#) == .incidentCreated)
        #expect(type("updated", #"{"status": "CLOSED"}"#) == .incidentClosed)
        #expect(type("updated", #"{"sla_breach": {"clock": "acknowledgement"}}"#) == .slaBreached)
        #expect(type("updated", #"{"escalation_step": 2}"#, old: #"{"escalation_step": 1}"#) == .escalated)
        #expect(type("updated", #"{"status": "ACKNOWLEDGED"}"#) == nil)
        #expect(type("updated", #"{"timeline_appended": []}"#) == nil)
        let created = GovernanceAuditEvent.from(seq: 1, hash: "00", incidentID: "INC-1", actor: "llm-shield",
                                                action: "created", oldValues: "{}",
                                                newValues: #"{"status": "NEW", "severity": "high", "priority": 1}"#,
                                                at: "t")
        #expect(created?.changes.contains(.init(field: "priority", oldValue: nil, newValue: "P1")) == true)
        let escalated = GovernanceAuditEvent.from(seq: 1, hash: "00", incidentID: "INC-1", actor: "system",
                                                  action: "updated", oldValues: #"{"escalation_step": 0}"#,
                                                  newValues: #"{"escalation_step": 1}"#, at: "t")
        #expect(escalated?.actorType == "system")
        #expect(escalated?.changes == [.init(field: "escalation_step", oldValue: "0", newValue: "1")])
    }

    @Test("a batch is due when full or when its oldest event has waited max_wait; one event alone is the guide's object")
    func batching() throws {
        let push = GovernanceAuditPush(url: "https://g/api/v1/audit-events", apiKey: "k-secret", batchSize: 3,
                                       maxWaitSeconds: 60)
        #expect(!push.isDue(count: 0, oldestAgeSeconds: 1000))
        #expect(!push.isDue(count: 2, oldestAgeSeconds: 59.9))
        #expect(push.isDue(count: 2, oldestAgeSeconds: 60))
        #expect(push.isDue(count: 3, oldestAgeSeconds: 0))
        let events = (1...2).compactMap { seq in
            GovernanceAuditEvent.from(seq: Int64(seq), hash: "ff", incidentID: "INC-\(seq)", actor: "a",
                                      action: "created", oldValues: "{}", newValues: #"{"status": "NEW"}"#, at: "t")
        }
        let request = push.request(events)
        #expect(request.headers["X-API-Key"] == "k-secret")
        #expect(request.url == "https://g/api/v1/audit-events")
        let array = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [[String: Any]])
        #expect(array.map { $0["event_id"] as? String } == ["audit-1-ff", "audit-2-ff"])
        let single = GovernanceAuditPush(url: "u", apiKey: "k", batchSize: 1, maxWaitSeconds: 0).request([events[0]])
        let object = try JSONSerialization.jsonObject(with: Data(single.body)) as? [String: Any]
        #expect(object?["event_id"] as? String == "audit-1-ff")
    }
}
