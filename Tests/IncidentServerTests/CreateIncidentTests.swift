// CreateIncident through the real server and Postgres: the answer, idempotent replays, conflicting reuse of
// an event id, and validation errors that name the field.
import Foundation
import IncidentAPI
import RPC
import Testing

@Suite("CreateIncident", .enabled(if: TestDatabase.shouldRun), .serialized)
struct CreateIncidentTests {
    @Test("answers accepted with the id, links from the public URL, priority, version and position")
    func createAnswers() async throws {
        let harness = try await ServiceHarness.start()
        let shield = try harness.client("llm-shield")
        let response = try await shield.createIncident(Sample.event(), options: .test)
        #expect(response.status == "accepted")
        #expect(response.incidentId.hasPrefix("INC-"))
        #expect(response.links["incident"] == "https://incidents.test:9090/incidents/\(response.incidentId)")
        #expect(response.links["api"] == "https://incidents.test:9090/api/v1/incidents/\(response.incidentId)")
        #expect(response.duplicate == false)
        #expect(response.priority == "P0")
        #expect(response.version == 1)
        #expect(response.position >= 1)

        let stored = try await harness.client("secops").getIncident(
            GetIncidentRequest.with(id: response.incidentId), options: .test)
        #expect(stored.title == "Prompt Injection Detected")
        #expect(stored.severity == "P0")
        #expect(stored.eventSeverity == "critical")
        #expect(stored.status == "NEW")
        #expect(stored.source == "llm-shield")
        #expect(stored.resource?.id == "model-gpt4-prod")
        #expect(stored.eventCount == 1)
        #expect(stored.timeline.first?.actor == "llm-shield")
        await harness.stop()
    }

    @Test("the same event again is a replay: the same incident, marked duplicate, counted")
    func replay() async throws {
        let harness = try await ServiceHarness.start()
        let shield = try harness.client("llm-shield")
        let event = Sample.event()
        let first = try await shield.createIncident(event, options: .test)
        let second = try await shield.createIncident(event, options: .test)
        #expect(second.incidentId == first.incidentId)
        #expect(second.duplicate)
        #expect(second.status == "accepted")
        let stored = try await harness.client("secops").getIncident(
            GetIncidentRequest.with(id: first.incidentId), options: .test)
        #expect(stored.eventCount == 2)
        await harness.stop()
    }

    @Test("the same event id with different content is ALREADY_EXISTS naming the existing incident")
    func conflictingReuse() async throws {
        let harness = try await ServiceHarness.start()
        let shield = try harness.client("llm-shield")
        let event = Sample.event()
        let first = try await shield.createIncident(event, options: .test)
        var changed = event
        changed.title = "Something else entirely"
        let error = await status { _ = try await shield.createIncident(changed, options: .test) }
        #expect(error?.code == .alreadyExists)
        #expect(error?.message.contains(first.incidentId) == true)
        let page = try await harness.client("secops").listIncidents(ListIncidentsRequest(), options: .test)
        #expect(page.incidents.map(\.id) == [first.incidentId])
        await harness.stop()
    }

    @Test("concurrent repeats of one event make one incident: one original, the rest duplicates, all counted")
    func concurrentRepeats() async throws {
        let harness = try await ServiceHarness.start()
        let event = Sample.event()
        let answers = try await withThrowingTaskGroup(of: CreateIncidentResponse.self) { group in
            for _ in 0..<12 {
                group.addTask { try await harness.client("llm-shield").createIncident(event, options: .test) }
            }
            var answers: [CreateIncidentResponse] = []
            for try await answer in group { answers.append(answer) }
            return answers
        }
        #expect(Set(answers.map(\.incidentId)).count == 1)
        #expect(answers.filter { !$0.duplicate }.count == 1)
        let stored = try await harness.client("secops").getIncident(.with(id: answers[0].incidentId), options: .test)
        #expect(stored.eventCount == 12)
        await harness.stop()
    }

    @Test("invalid events are INVALID_ARGUMENT naming the field",
          arguments: ["title", "event_id", "source", "severity", "timestamp", "long title"])
    func validation(problem: String) async throws {
        let harness = try await ServiceHarness.start()
        var event = Sample.event()
        var field = problem
        switch problem {
        case "title": event.title = ""
        case "event_id": event.eventId = ""
        case "source": event.source = ""
        case "severity": event.severity = "apocalyptic"
        case "timestamp": event.timestamp = "yesterday"
        default:
            event.title = String(repeating: "x", count: 600)
            field = "title"
        }
        let error = await status { _ = try await harness.client("llm-shield").createIncident(event, options: .test) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.hasPrefix(field + ":") == true, "\(String(describing: error))")
        await harness.stop()
    }
}

extension GetIncidentRequest {
    static func with(id: String) -> GetIncidentRequest {
        var request = GetIncidentRequest()
        request.incidentId = id
        return request
    }
}
