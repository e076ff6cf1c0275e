// What a client compiled from the integration guide reads and sends, through the real server, mTLS and Postgres:
// `severity` is the level (P0 … P4) with the event's word in `event_severity`, filters and updates take both,
// a custom source may send a level, links follow the guide, and timeline entries carry positions and details.
import Foundation
import IncidentAPI
import IncidentCore
@testable import IncidentServer
import RPC
import Testing

@Suite("The integration guide's contract", .enabled(if: TestDatabase.shouldRun), .serialized)
struct SpecContractTests {
    @Test("field 3 is the level, the word is event_severity, priority an alias; links.api is /api/v1")
    func severityIsTheLevel() async throws {
        var config = ServiceHarness.defaultConfig
        config.severityMapping[.high] = .p0
        let harness = try await ServiceHarness.start(config: config)
        let shield = try harness.client("llm-shield")
        let critical = try await shield.createIncident(Sample.event(severity: "critical"), options: .test)
        #expect(critical.links["api"] == "https://incidents.test:9090/api/v1/incidents/\(critical.incidentId)")
        #expect(critical.links["incident"] == "https://incidents.test:9090/incidents/\(critical.incidentId)")
        let high = try await shield.createIncident(Sample.event(severity: "high"), options: .test)
        let secops = try harness.client("secops")
        for (created, word) in [(critical, "critical"), (high, "high")] {
            let incident = try await secops.getIncident(.with(id: created.incidentId), options: .test)
            #expect(incident.severity == "P0", "\(word) is P0 in this config")
            #expect(incident.eventSeverity == word)
            #expect(incident.priority == "P0")
        }
        await harness.stop()
    }

    @Test("a custom source may send a level: the incident gets it, event_severity the default scale's word")
    func customSourceSendsALevel() async throws {
        var config = ServiceHarness.defaultConfig
        config.severityMapping[.medium] = .p0
        let harness = try await ServiceHarness.start(config: config)
        var event = Sample.event(severity: "p2")
        event.source = "custom-monitor"
        // secops may report any source; llm-shield only its own.
        let created = try await harness.client("secops").createIncident(event, options: .test)
        #expect(created.priority == "P2", "a named level is not re-mapped")
        let incident = try await harness.client("secops").getIncident(.with(id: created.incidentId), options: .test)
        #expect(incident.severity == "P2")
        #expect(incident.eventSeverity == "medium")
        #expect(incident.timeline.first?.details["severity"] == "P2")
        #expect(incident.timeline.first?.details["event_severity"] == "medium")
        // The same event again is a replay of it, not a different event reusing its id.
        let again = try await harness.client("secops").createIncident(event, options: .test)
        #expect(again.duplicate && again.incidentId == created.incidentId)
        var bad = Sample.event(severity: "P7")
        bad.source = "custom-monitor"
        let refused = await status { _ = try await harness.client("secops").createIncident(bad, options: .test) }
        #expect(refused?.code == .invalidArgument)
        #expect(refused?.message.contains("severity") == true && refused?.message.contains("P0") == true)
        await harness.stop()
    }

    @Test("list and stream filters take levels and words; bad names are INVALID_ARGUMENT naming severities")
    func filtersTakeLevelsAndWords() async throws {
        var config = ServiceHarness.defaultConfig
        config.severityMapping[.high] = .p0
        let harness = try await ServiceHarness.start(config: config)
        let shield = try harness.client("llm-shield")
        let critical = try await shield.createIncident(Sample.event(severity: "critical"), options: .test)
        let high = try await shield.createIncident(Sample.event(severity: "high"), options: .test)
        let low = try await shield.createIncident(Sample.event(severity: "low"), options: .test)
        let secops = try harness.client("secops")
        func listed(_ severities: [String]) async throws -> Set<String> {
            var request = ListIncidentsRequest()
            request.severities = severities
            return Set(try await secops.listIncidents(request, options: .test).incidents.map(\.id))
        }
        #expect(try await listed(["P0"]) == [critical.incidentId, high.incidentId])
        #expect(try await listed(["critical"]) == [critical.incidentId])
        #expect(try await listed(["p3", "critical"]) == [critical.incidentId, low.incidentId])
        #expect(try await listed([]).count == 3)
        var bad = ListIncidentsRequest()
        bad.severities = ["P9"]
        let refused = await status { _ = try await secops.listIncidents(bad, options: .test) }
        #expect(refused?.code == .invalidArgument)
        #expect(refused?.message.hasPrefix("severities:") == true)

        var request = StreamIncidentsRequest()
        request.severities = ["P0"]
        var seen: [String] = []
        for try await incident in secops.streamIncidents(request, options: CallOptions(timeout: .seconds(60))) {
            seen.append(incident.id)
            #expect(incident.severity == "P0")
            if seen.count == 2 { break }
        }
        #expect(seen == [critical.incidentId, high.incidentId])
        request.severities = ["low"]
        for try await incident in secops.streamIncidents(request, options: CallOptions(timeout: .seconds(60))) {
            #expect(incident.id == low.incidentId)
            break
        }
        await harness.stop()
    }

    @Test("UpdateIncident takes a level (set as given, word kept) or a word (re-mapped)")
    func updateTakesLevelsAndWords() async throws {
        let harness = try await ServiceHarness.start()
        let created = try await harness.client("llm-shield").createIncident(Sample.event(severity: "low"),
                                                                            options: .test)
        let secops = try harness.client("secops")
        var request = UpdateIncidentRequest.with(id: created.incidentId)
        request.severity = "p1"
        let raised = try await secops.updateIncident(request, options: .test)
        #expect(raised.severity == "P1" && raised.eventSeverity == "low" && raised.priority == "P1")
        let change = try #require(raised.timeline.last { $0.kind == "severity_changed" })
        #expect(change.details["from"] == "P3" && change.details["to"] == "P1")
        #expect(change.position == raised.position)
        request.severity = "P1"
        #expect(try await secops.updateIncident(request, options: .test).version == raised.version, "no change")
        request.severity = "critical"
        let critical = try await secops.updateIncident(request, options: .test)
        #expect(critical.severity == "P0" && critical.eventSeverity == "critical")
        await harness.stop()
    }

    @Test("timeline entries carry the position of the change that wrote them and structured details")
    func timelinePositionsAndDetails() async throws {
        let harness = try await ServiceHarness.start()
        let created = try await harness.client("llm-shield").createIncident(Sample.event(), options: .test)
        let secops = try harness.client("secops")
        let acknowledged = try await secops.updateIncident(
            .with(id: created.incidentId, status: "ACKNOWLEDGED", note: "on it"), options: .test)
        var assign = UpdateIncidentRequest.with(id: created.incidentId)
        assign.assignedTeam = "blue-team"
        let assigned = try await secops.updateIncident(assign, options: .test)
        let timeline = assigned.timeline
        let createdEntries = timeline.filter { $0.actor == "llm-shield" || $0.kind == "routed" }
        #expect(!createdEntries.isEmpty)
        #expect(createdEntries.allSatisfy { $0.position == created.position })
        let status = try #require(timeline.first { $0.kind == "status_changed" })
        #expect(status.position == acknowledged.position && status.position > created.position)
        #expect(status.details == ["from": "NEW", "to": "ACKNOWLEDGED"])
        #expect(timeline.first { $0.kind == "note" }?.position == acknowledged.position)
        let team = try #require(timeline.first { $0.kind == "assigned" })
        #expect(team.position == assigned.position && team.details["to"] == "blue-team")
        #expect(timeline.first { $0.kind == "created" }?.details["event_severity"] == "critical")
        // The change feed's replay shows each entry as its change wrote it.
        let changes = try await harness.store.changes(after: 0)
        let atAcknowledge = try #require(changes.first { $0.position == Int64(acknowledged.position) })
        #expect(atAcknowledge.incident.timeline.last?.position == Int64(acknowledged.position))
        await harness.stop()
    }

    @Test("a compensated action has a state of its own")
    func compensatedActionState() {
        #expect(ActionState(.compensated) == .compensated)
        #expect(ActionState(.compensated) != .unspecified)
    }
}
