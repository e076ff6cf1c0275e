// The per-stream buffer the hub fills, as pure logic: order, the bound, overflow, cancellation and stop.
import Foundation
import IncidentAPI
import IncidentCore
import Testing
@testable import IncidentServer
@testable import IncidentStore

@Suite("StreamSubscriber")
struct StreamSubscriberTests {
    @Test("offers within the bound are taken in order, filtered, and encoded with or without the payload")
    func ordered() async throws {
        var request = StreamIncidentsRequest()
        request.severities = ["high"]
        let subscriber = StreamSubscriber(filter: try IncidentStreamFilter(IncidentStreamRequest(request)), capacity: 4)
        #expect(subscriber.offer([entry(1, .high), entry(2, .low), entry(3, .high)]))
        #expect(subscriber.offer([entry(4, .high)]))
        guard case .entries(let taken) = await subscriber.take() else { Issue.record("no entries"); return }
        #expect(taken.map(\.position) == [1, 3, 4])
        let withPayload = try IncidentAPI.Incident(serializedBytes: taken[0].encoded(includePayload: true).bytes)
        let withoutPayload = try IncidentAPI.Incident(serializedBytes: taken[0].encoded(includePayload: false).bytes)
        #expect(withPayload.position == 1 && withPayload.encryptedPayload == [7, 7])
        #expect(withoutPayload.position == 1 && withoutPayload.encryptedPayload.isEmpty)
        #expect(withoutPayload.id == "INC-20261203-00001")
    }

    @Test("an offer past the bound empties the buffer and ends the subscriber: overflowed, never silently short")
    func overflow() async throws {
        let subscriber = StreamSubscriber(filter: try IncidentStreamFilter(IncidentStreamRequest()), capacity: 3)
        #expect(subscriber.offer([entry(1), entry(2)]))
        #expect(!subscriber.offer([entry(3), entry(4)]))
        #expect(subscriber.hasOverflowed)
        #expect(!subscriber.offer([entry(5)]))
        guard case .overflowed = await subscriber.take() else { Issue.record("not overflowed"); return }
    }

    @Test("the byte bound counts the wire form the stream sends; an offer into an empty buffer always fits")
    func byteBound() async throws {
        let filter = try IncidentStreamFilter(IncidentStreamRequest())
        let large = entry(1, payload: 1000).encoded(includePayload: true).count
        let small = entry(1, payload: 1000).encoded(includePayload: false).count
        #expect(large > small + 1000)
        // Room for two entries with the payload: the third ends the stream.
        let withPayload = StreamSubscriber(filter: filter, capacity: 100, byteCapacity: 2 * large,
                                           includePayload: true)
        #expect(withPayload.offer([entry(1, payload: 1000), entry(2, payload: 1000)]))
        #expect(!withPayload.offer([entry(3, payload: 1000)]))
        guard case .overflowed = await withPayload.take() else { Issue.record("not overflowed"); return }
        // The same bytes hold three entries without the payload; taking empties the count.
        let withoutPayload = StreamSubscriber(filter: filter, capacity: 100, byteCapacity: 2 * large)
        #expect(withoutPayload.offer((1...3).map { entry($0, payload: 1000) }))
        guard case .entries(let taken) = await withoutPayload.take() else { Issue.record("no entries"); return }
        #expect(taken.count == 3)
        // A single fan-out larger than the bound still fits an empty buffer; the next offer does not.
        let many = 2 * large / small + 2
        #expect(withoutPayload.offer((4...Int64(4 + many)).map { entry($0, payload: 1000) }))
        #expect(!withoutPayload.offer([entry(Int64(5 + many), payload: 1000)]))
    }

    @Test("a waiting take wakes for an offer, for the hub stopping (after what is buffered) and for cancellation")
    func wakeUps() async throws {
        let filter = try IncidentStreamFilter(IncidentStreamRequest())
        let woken = StreamSubscriber(filter: filter, capacity: 8)
        let waiting = Task { await woken.take() }
        try await Task.sleep(for: .milliseconds(50))
        #expect(woken.offer([entry(9)]))
        guard case .entries(let entries) = await waiting.value else { Issue.record("no entries"); return }
        #expect(entries.map(\.position) == [9])

        let stopped = StreamSubscriber(filter: filter, capacity: 8)
        #expect(stopped.offer([entry(1)]))
        stopped.stopByHub()
        guard case .entries = await stopped.take() else { Issue.record("buffer lost at stop"); return }
        guard case .hubStopped = await stopped.take() else { Issue.record("not stopped"); return }

        let cancelled = StreamSubscriber(filter: filter, capacity: 8)
        let abandoned = Task { await cancelled.take() }
        try await Task.sleep(for: .milliseconds(50))
        abandoned.cancel()
        guard case .cancelled = await abandoned.value else { Issue.record("not cancelled"); return }
        #expect(!cancelled.offer([entry(2)]))
    }
}

/// A feed entry at `position` for an incident of `severity` carrying a `payload`-byte payload (two by default).
private func entry(_ position: Int64, _ severity: Severity = .high, payload: Int = 2) -> FeedEntry {
    let incident = IncidentCore.Incident(
        id: IncidentID("INC-20261203-00001")!, status: .new, severity: severity, priority: .p1, title: "t",
        description: "", source: "llm-shield", sourceVersion: "", eventType: "", category: "security",
        resource: Resource(), metrics: [:], tags: [:], encryptedPayload: [UInt8](repeating: 7, count: payload),
        requestHash: nil, assignedTeam: "", escalationPolicy: "", eventCount: 1, createdAt: Date(),
        updatedAt: Date(), acknowledgedAt: nil, resolvedAt: nil, version: 1, position: position, timeline: [],
        remediationActions: [])
    return FeedEntry(IncidentChange(position: position, kind: "created", version: 1, committedAt: Date(),
                                    incident: incident))
}
