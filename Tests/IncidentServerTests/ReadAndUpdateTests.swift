// GetIncident, UpdateIncident and ListIncidents through the real server and Postgres.
import Foundation
import IncidentAPI
import IncidentCore
import RPC
import Testing

@Suite("GetIncident, UpdateIncident, ListIncidents", .enabled(if: TestDatabase.shouldRun), .serialized)
struct ReadAndUpdateTests {
    @Test("unknown ids are NOT_FOUND, malformed ones INVALID_ARGUMENT")
    func getRefusals() async throws {
        let harness = try await ServiceHarness.start()
        let secops = try harness.client("secops")
        let missing = await status { _ = try await secops.getIncident(.with(id: "INC-20260101-99999"), options: .test) }
        #expect(missing?.code == .notFound)
        for bad in ["", "nope", "INC-2026-1", "INC-20261399-00001"] {
            let malformed = await status { _ = try await secops.getIncident(.with(id: bad), options: .test) }
            #expect(malformed?.code == .invalidArgument, "\(bad)")
            #expect(malformed?.message.hasPrefix("incident_id:") == true)
        }
        await harness.stop()
    }

    @Test("the encrypted payload is returned only to identities holding incident:read_payload")
    func payloadVisibility() async throws {
        let harness = try await ServiceHarness.start()
        let event = Sample.event()
        let created = try await harness.client("llm-shield").createIncident(event, options: .test)
        let forSecops = try await harness.client("secops").getIncident(.with(id: created.incidentId), options: .test)
        #expect(forSecops.encryptedPayload == event.encryptedPayload)
        let forViewer = try await harness.client("viewer").getIncident(.with(id: created.incidentId), options: .test)
        #expect(forViewer.encryptedPayload.isEmpty)
        #expect(forViewer.title == forSecops.title)
        let listed = try await harness.client("viewer").listIncidents(ListIncidentsRequest(), options: .test)
        #expect(listed.incidents.count == 1)
        #expect(listed.incidents.allSatisfy { $0.encryptedPayload.isEmpty })
        await harness.stop()
    }

    @Test("UpdateIncident answers only id, version and position to a caller without incident:read")
    func updateAnswerNeedsReadPermission() async throws {
        var config = ServiceHarness.defaultConfig
        config.identities.append(IdentityPolicy(name: "stranger", permissions: [.incidentUpdate]))
        let harness = try await ServiceHarness.start(config: config)
        let created = try await harness.client("llm-shield").createIncident(Sample.event(), options: .test)
        let answer = try await harness.client("stranger").updateIncident(
            .with(id: created.incidentId, status: "ACKNOWLEDGED"), options: .test)
        var expected = IncidentAPI.Incident()
        expected.id = created.incidentId
        expected.version = created.version + 1
        expected.position = answer.position
        #expect(answer == expected)
        #expect(answer.position > created.position)
        // A reader still gets the whole incident.
        let full = try await harness.client("secops").updateIncident(
            .with(id: created.incidentId, note: "looking"), options: .test)
        #expect(full.title == Sample.event().title && full.status == "ACKNOWLEDGED")
        await harness.stop()
    }

    @Test("request_sha256 is shown only to identities holding incident:read_payload")
    func requestHashVisibility() async throws {
        let harness = try await ServiceHarness.start()
        let created = try await harness.client("llm-shield").createIncident(Sample.event(), options: .test)
        let forSecops = try await harness.client("secops").getIncident(.with(id: created.incidentId), options: .test)
        #expect(forSecops.requestSha256.count == 64)
        let forViewer = try await harness.client("viewer").getIncident(.with(id: created.incidentId), options: .test)
        #expect(forViewer.requestSha256.isEmpty)
        let listed = try await harness.client("viewer").listIncidents(ListIncidentsRequest(), options: .test)
        #expect(listed.incidents.allSatisfy { $0.requestSha256.isEmpty })
        await harness.stop()
    }

    @Test("status walks NEW → ACKNOWLEDGED → IN_PROGRESS → RESOLVED → IN_PROGRESS → RESOLVED → CLOSED")
    func transitions() async throws {
        let harness = try await ServiceHarness.start()
        let created = try await harness.client("llm-shield").createIncident(Sample.event(), options: .test)
        let secops = try harness.client("secops")
        var version = created.version
        for next in ["ACKNOWLEDGED", "in_progress", "RESOLVED", "IN_PROGRESS", "RESOLVED", "CLOSED"] {
            let updated = try await secops.updateIncident(
                .with(id: created.incidentId, status: next, expectedVersion: version), options: .test)
            #expect(updated.status == next.uppercased())
            #expect(updated.version == version + 1)
            version = updated.version
        }
        let final = try await secops.getIncident(.with(id: created.incidentId), options: .test)
        #expect(!final.acknowledgedAt.isEmpty)
        #expect(!final.resolvedAt.isEmpty)
        let changes = final.timeline.filter { $0.kind == "status_changed" }
        #expect(changes.count == 6)
        #expect(changes.allSatisfy { $0.actor == "secops" })
        #expect(changes.last?.message == "RESOLVED → CLOSED")
        await harness.stop()
    }

    @Test("illegal moves are FAILED_PRECONDITION and change nothing", arguments: [
        ["RESOLVED"], ["NEW"], ["CLOSED"], ["ACKNOWLEDGED", "RESOLVED"], ["ACKNOWLEDGED", "NEW"],
    ])
    func illegalMoves(path: [String]) async throws {
        let harness = try await ServiceHarness.start()
        let created = try await harness.client("llm-shield").createIncident(Sample.event(), options: .test)
        let secops = try harness.client("secops")
        for step in path.dropLast() {
            _ = try await secops.updateIncident(.with(id: created.incidentId, status: step), options: .test)
        }
        let before = try await secops.getIncident(.with(id: created.incidentId), options: .test)
        let error = await status {
            _ = try await secops.updateIncident(.with(id: created.incidentId, status: path.last!), options: .test)
        }
        #expect(error?.code == .failedPrecondition)
        #expect(error?.message.hasPrefix("status:") == true)
        let after = try await secops.getIncident(.with(id: created.incidentId), options: .test)
        #expect(after.version == before.version)
        #expect(after.status == before.status)
        await harness.stop()
    }

    @Test("a stale expected_version is ABORTED; 0 means the current one")
    func versionConflict() async throws {
        let harness = try await ServiceHarness.start()
        let created = try await harness.client("llm-shield").createIncident(Sample.event(), options: .test)
        let secops = try harness.client("secops")
        _ = try await secops.updateIncident(.with(id: created.incidentId, note: "looking", expectedVersion: 1),
                                            options: .test)
        let stale = await status {
            _ = try await secops.updateIncident(.with(id: created.incidentId, status: "ACKNOWLEDGED",
                                                      expectedVersion: 1), options: .test)
        }
        #expect(stale?.code == .aborted)
        let current = try await secops.updateIncident(.with(id: created.incidentId, status: "ACKNOWLEDGED"),
                                                      options: .test)
        #expect(current.version == 3)
        await harness.stop()
    }

    @Test("team assignment and a note land on the incident and its timeline with the caller as actor")
    func assignAndNote() async throws {
        let harness = try await ServiceHarness.start()
        let created = try await harness.client("llm-shield").createIncident(Sample.event(), options: .test)
        var request = UpdateIncidentRequest.with(id: created.incidentId, note: "escalating to the model team")
        request.assignedTeam = "ml-platform"
        let updated = try await harness.client("secops").updateIncident(request, options: .test)
        #expect(updated.assignedTeam == "ml-platform")
        #expect(updated.timeline.contains { $0.kind == "assigned" && $0.actor == "secops" })
        #expect(updated.timeline.contains { $0.kind == "note" && $0.message == "escalating to the model team" })
        let nothing = await status {
            _ = try await harness.client("secops").updateIncident(.with(id: created.incidentId), options: .test)
        }
        #expect(nothing?.code == .invalidArgument)
        let missing = await status {
            _ = try await harness.client("secops").updateIncident(.with(id: "INC-20260101-99999", note: "x"),
                                                                  options: .test)
        }
        #expect(missing?.code == .notFound)
        await harness.stop()
    }

    @Test("list pages newest first with a cursor, each incident once, and filters by severity")
    func listPaging() async throws {
        let harness = try await ServiceHarness.start()
        let shield = try harness.client("llm-shield")
        var created: [String] = []
        for index in 0..<5 {
            let response = try await shield.createIncident(
                Sample.event(severity: index.isMultiple(of: 2) ? "high" : "low"), options: .test)
            created.append(response.incidentId)
        }
        let viewer = try harness.client("viewer")
        var seen: [String] = []
        var request = ListIncidentsRequest()
        request.pageSize = 2
        var pages = 0
        repeat {
            let page = try await viewer.listIncidents(request, options: .test)
            #expect(page.incidents.count <= 2)
            seen += page.incidents.map(\.id)
            request.pageToken = page.nextPageToken
            pages += 1
        } while !request.pageToken.isEmpty && pages < 10
        #expect(pages == 3)
        #expect(seen == Array(created.reversed()))

        var high = ListIncidentsRequest()
        high.severities = ["high"]
        let highs = try await viewer.listIncidents(high, options: .test)
        #expect(highs.incidents.map(\.id) == [created[4], created[2], created[0]])

        var badToken = ListIncidentsRequest()
        badToken.pageToken = "garbage"
        let refused = await status { _ = try await viewer.listIncidents(badToken, options: .test) }
        #expect(refused?.code == .invalidArgument)
        await harness.stop()
    }
}

extension UpdateIncidentRequest {
    static func with(id: String, status: String? = nil, note: String = "", expectedVersion: UInt64 = 0)
        -> UpdateIncidentRequest {
        var request = UpdateIncidentRequest()
        request.incidentId = id
        request.status = status
        request.note = note
        request.expectedVersion = expectedVersion
        return request
    }
}
