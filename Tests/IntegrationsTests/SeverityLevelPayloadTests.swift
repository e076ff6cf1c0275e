// Outbound messages say "severity" the way the integration guide does: the level (P0 … P4), with the event's word
// beside it under its own name.
import Foundation
import IncidentCore
@testable import Integrations
import Testing

@Suite struct SeverityLevelPayloadTests {
    /// An incident whose event said `high` but whose configured mapping made it P0, so word and level differ.
    static let remapped: IncidentSummary = {
        var summary = incident
        summary.severity = .high
        summary.priority = .p0
        return summary
    }()

    @Test("the guide's payload template renders {{incident.severity}} as the level")
    func templateSeverityIsTheLevel() throws {
        let template = """
            {"incident": {"id": "{{incident.id}}", "severity": "{{incident.severity}}", \
            "event_severity": "{{incident.event_severity}}", "priority": "{{incident.priority}}"}}
            """
        let hook = Webhook(name: "custom-monitoring-system", url: "http://hooks.test/incidents",
                           triggers: [.incidentCreated: [.p0, .p1]], payloadTemplate: template)
        let request = hook.request(.incidentCreated, for: Self.remapped, timestamp: "2025-11-11T10:35:00Z", now: 1)
        let body = try #require(json(request.body)["incident"] as? [String: Any])
        #expect(body["severity"] as? String == "P0")
        #expect(body["event_severity"] as? String == "high")
        #expect(body["priority"] as? String == "P0")
    }

    @Test("the default webhook body carries the level as severity and the word as event_severity")
    func defaultBodySeverityIsTheLevel() throws {
        let hook = Webhook(name: "siem", url: "http://hooks.test/incidents", triggers: [.incidentCreated: []])
        let request = hook.request(.incidentCreated, for: Self.remapped, timestamp: "2025-11-11T10:35:00Z", now: 1)
        let body = try #require(json(request.body)["incident"] as? [String: Any])
        #expect(body["severity"] as? String == "P0")
        #expect(body["event_severity"] as? String == "high")
    }
}
