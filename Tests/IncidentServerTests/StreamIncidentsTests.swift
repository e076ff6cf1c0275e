// StreamIncidents against the real server: history replay then live changes with concurrent writers, no gap
// and no duplicate at the seam, filters, permission, a thousand live streams on one hub, slow consumers ended
// with the position to resume from, and streams cut mid-flight and resumed.
import Foundation
import IncidentAPI
import IncidentServer
import RPC
import Testing

@Suite("StreamIncidents", .enabled(if: TestDatabase.shouldRun), .serialized)
struct StreamIncidentsTests {
    @Test("replays history, then follows live creates from concurrent writers: each change once, in order")
    func replayThenLive() async throws {
        let harness = try await ServiceHarness.start()
        let shield = try harness.client("llm-shield")
        var expected = Set<String>()
        for _ in 0..<5 { expected.insert(try await shield.createIncident(Sample.event(), options: .test).incidentId) }

        let stream = try harness.client("viewer").streamIncidents(
            StreamIncidentsRequest(), options: CallOptions(timeout: .seconds(120)))
        // Writers race the subscriber's switch from replay to live.
        let writers = Task {
            try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        var ids: [String] = []
                        for _ in 0..<5 { ids.append(try await shield.createIncident(Sample.event(), options: .test).incidentId) }
                        return ids.joined(separator: ",")
                    }
                }
                var all: [String] = []
                for try await ids in group { all += ids.split(separator: ",").map(String.init) }
                return all
            }
        }
        var received: [IncidentAPI.Incident] = []
        for try await incident in stream {
            received.append(incident)
            if received.count == 25 { break }
        }
        expected.formUnion(try await writers.value)
        #expect(expected.count == 25)
        #expect(Set(received.map(\.id)) == expected)
        let positions = received.map(\.position)
        #expect(positions == positions.sorted() && Set(positions).count == positions.count)
        await harness.stop()
    }

    @Test("since_position skips what was seen; filters apply to replay and live alike")
    func sinceAndFilters() async throws {
        let harness = try await ServiceHarness.start()
        let shield = try harness.client("llm-shield")
        let first = try await shield.createIncident(Sample.event(severity: "low"), options: .test)
        let second = try await shield.createIncident(Sample.event(severity: "high"), options: .test)
        let third = try await shield.createIncident(Sample.event(severity: "low"), options: .test)

        var request = StreamIncidentsRequest()
        request.sincePosition = first.position
        request.severities = ["low"]
        let stream = try harness.client("secops").streamIncidents(request, options: CallOptions(timeout: .seconds(120)))
        let fourth = try await shield.createIncident(Sample.event(severity: "low"), options: .test)
        var ids: [String] = []
        for try await incident in stream {
            ids.append(incident.id)
            if ids.count == 2 { break }
        }
        #expect(ids == [third.incidentId, fourth.incidentId])
        #expect(!ids.contains(second.incidentId))
        await harness.stop()
    }

    @Test("identities without incident:stream are PERMISSION_DENIED; bad filters INVALID_ARGUMENT")
    func refusals() async throws {
        let harness = try await ServiceHarness.start()
        let denied = await status {
            for try await _ in try harness.client("llm-shield").streamIncidents(StreamIncidentsRequest(), options: .test) {}
        }
        #expect(denied?.code == .permissionDenied)
        var bad = StreamIncidentsRequest()
        bad.statuses = ["SLEEPING"]
        let invalid = await status {
            for try await _ in try harness.client("viewer").streamIncidents(bad, options: .test) {}
        }
        #expect(invalid?.code == .invalidArgument)
        await harness.stop()
    }

    @Test("streams joining while writers run, from old positions, across several replay batches: every position once")
    func seamUnderConcurrentWriters() async throws {
        // Small batches so replay, join and the fill up to the hub's position all take several rounds.
        let harness = try await ServiceHarness.start(streams: ChangeHub.Configuration(subscriberBuffer: 4096, batchSize: 7))
        let shield = try harness.client("llm-shield")
        for _ in 0..<30 { _ = try await shield.createIncident(Sample.event(), options: .test) }
        let writers = Task { try await createConcurrently(shield, count: 160, writers: 8) }
        // Subscribers start at different moments and from different positions while the writers run.
        var readers: [Task<[UInt64], any Error>] = []
        for since: UInt64 in [0, 3, 17, 29] {
            let client = try harness.client("viewer")
            readers.append(Task { try await positions(of: client, since: since, until: { $0 >= 190 }) })
            try await Task.sleep(for: .milliseconds(40))
        }
        try await writers.value
        let all = try await harness.store.changes(after: 0, limit: 1000).map { UInt64($0.position) }
        #expect(all.count == 190)
        for (since, reader) in zip([UInt64(0), 3, 17, 29], readers) {
            let got = try await reader.value
            #expect(got == all.filter { $0 > since }, "stream since \(since)")
        }
        await harness.stop()
    }

    @Test("1,000 concurrent streams on one hub each receive every change: none missing, none twice")
    func thousandStreams() async throws {
        let harness = try await ServiceHarness.start()
        let shield = try harness.client("llm-shield")
        let streams = 1000
        let changes = 40
        // Ten connections, a hundred streams each.
        let clients = try (0..<10).map { _ in try harness.client("viewer") }
        let counts = try await withThrowingTaskGroup(of: [UInt64].self) { group in
            for index in 0..<streams {
                let client = clients[index % clients.count]
                group.addTask { try await positions(of: client, since: 0, count: changes) }
            }
            // Every stream live on the hub before anything changes: from here on, no stream reads the store.
            try await waitUntil { harness.streams.subscriberCount == streams }
            try await createConcurrently(shield, count: changes, writers: 4)
            var received: [[UInt64]] = []
            for try await positions in group { received.append(positions) }
            return received
        }
        let expected = try await harness.store.changes(after: 0, limit: 1000).map { UInt64($0.position) }
        #expect(expected.count == changes)
        let deliveries = counts.reduce(0) { $0 + $1.count }
        let complete = counts.filter { $0 == expected }.count
        #expect(deliveries == streams * changes)
        #expect(complete == streams, "\(streams - complete) streams missed or repeated a change")
        // Every stream has ended: the hub holds none of them.
        try await waitUntil { harness.streams.subscriberCount == 0 }
        await harness.stop()
    }

    @Test("a live filter sees only matching changes, updates included")
    func liveFilters() async throws {
        let harness = try await ServiceHarness.start()
        let shield = try harness.client("llm-shield")
        let secops = try harness.client("secops")
        var request = StreamIncidentsRequest()
        request.statuses = ["ACKNOWLEDGED"]
        request.severities = ["high"]
        let stream = try harness.client("viewer").streamIncidents(request, options: CallOptions(timeout: .seconds(60)))
        let reader = Task {
            var ids: [String] = []
            for try await incident in stream {
                ids.append(incident.id + ":" + incident.status)
                if ids.count == 1 { break }
            }
            return ids
        }
        try await waitUntil { harness.streams.subscriberCount == 1 }
        let low = try await shield.createIncident(Sample.event(severity: "low"), options: .test)
        let high = try await shield.createIncident(Sample.event(severity: "high"), options: .test)
        var ack = UpdateIncidentRequest()
        ack.status = "ACKNOWLEDGED"
        ack.incidentId = low.incidentId
        _ = try await secops.updateIncident(ack, options: .test)
        ack.incidentId = high.incidentId
        _ = try await secops.updateIncident(ack, options: .test)
        #expect(try await reader.value == [high.incidentId + ":ACKNOWLEDGED"])
        await harness.stop()
    }

    @Test("a replayed change carries the incident as that change left it, not as it is now")
    func replaySnapshots() async throws {
        let harness = try await ServiceHarness.start()
        let shield = try harness.client("llm-shield")
        let secops = try harness.client("secops")
        let event = Sample.event()
        let created = try await shield.createIncident(event, options: .test)
        _ = try await shield.createIncident(event, options: .test)  // the same event again: event_count 2
        for status in ["ACKNOWLEDGED", "IN_PROGRESS"] {
            var update = UpdateIncidentRequest()
            update.incidentId = created.incidentId
            update.status = status
            _ = try await secops.updateIncident(update, options: .test)
        }
        var request = StreamIncidentsRequest()
        request.sincePosition = created.position - 1
        var seen: [IncidentAPI.Incident] = []
        for try await incident in secops.streamIncidents(request, options: .test) {
            seen.append(incident)
            if seen.count == 4 { break }
        }
        #expect(seen.map { "v\($0.version) \($0.status) events \($0.eventCount)" } == [
            "v1 NEW events 1", "v2 NEW events 2", "v3 ACKNOWLEDGED events 2", "v4 IN_PROGRESS events 2",
        ])
        let timelines = seen.map(\.timeline.count)
        #expect(timelines[2] > timelines[1] && timelines[3] > timelines[2])
        #expect(seen.allSatisfy { $0.encryptedPayload == [0x00, 0x01, 0xfe, 0xff, 0x42] })
        #expect(seen.allSatisfy { $0.createdAt == seen[0].createdAt && $0.title == event.title })
        await harness.stop()
    }

    @Test("a stream allowed payloads joining while the hub reads without them gets every payload; others none")
    func payloadsFollowTheStreamsThatMaySeeThem() async throws {
        let harness = try await ServiceHarness.start()
        let shield = try harness.client("llm-shield")
        let first = try await shield.createIncident(Sample.event(), options: .test)
        // The viewer follows live: the hub reads the log without payloads for it.
        var viewerStream = try harness.client("viewer").streamIncidents(
            StreamIncidentsRequest(), options: CallOptions(timeout: .seconds(120))).makeAsyncIterator()
        #expect(try await viewerStream.next()?.id == first.incidentId)
        try await waitUntil { harness.streams.subscriberCount == 1 }
        // Creates keep the hub reading while secops (incident:read_payload) joins live.
        let writers = Task {
            var ids: [String] = []
            for _ in 0..<20 { ids.append(try await shield.createIncident(Sample.event(), options: .test).incidentId) }
            return ids
        }
        var request = StreamIncidentsRequest()
        request.sincePosition = first.position
        var seen: [IncidentAPI.Incident] = []
        for try await incident in try harness.client("secops").streamIncidents(request, options: .test) {
            seen.append(incident)
            if seen.count == 20 { break }
        }
        let created = try await writers.value
        #expect(seen.map(\.id) == created)
        #expect(seen.allSatisfy { $0.encryptedPayload == [0x00, 0x01, 0xfe, 0xff, 0x42] && $0.requestSha256.count == 64 })
        var forViewer: [IncidentAPI.Incident] = []
        while forViewer.count < 20, let next = try await viewerStream.next() { forViewer.append(next) }
        #expect(forViewer.map(\.id) == created)
        #expect(forViewer.allSatisfy { $0.encryptedPayload.isEmpty && $0.requestSha256.isEmpty })
        await harness.stop()
    }

    @Test("a stream that stops reading is ended with RESOURCE_EXHAUSTED and resume-position; resuming misses nothing")
    func slowConsumer() async throws {
        let harness = try await ServiceHarness.start(streams: ChangeHub.Configuration(subscriberBuffer: 16))
        let shield = try harness.client("llm-shield")
        let first = try await shield.createIncident(Sample.event(), options: .test)
        let stream = try harness.client("secops").streamIncidents(
            StreamIncidentsRequest(), options: CallOptions(timeout: .seconds(120)))
        var iterator = stream.makeAsyncIterator()
        let head = try await iterator.next()
        #expect(head?.id == first.incidentId)
        // Stop reading. Creates fill the transport's flow-control window, then the subscriber's buffer: the hub
        // drops it. Large payloads (secops is sent them) fill the window in a few hundred changes.
        let bulky: @Sendable () -> IncidentAPI.CreateIncidentRequest = {
            var event = Sample.event()
            event.encryptedPayload = [UInt8](repeating: 0x5a, count: 32 * 1024)
            return event
        }
        var created = 1
        while harness.streams.subscriberCount > 0 {
            try await createConcurrently(shield, count: 20, writers: 4, event: bulky)
            created += 20
            try #require(created < 20_000, "the subscriber was never dropped")
        }
        // Reading again delivers what was in flight, then the status.
        var received = [UInt64(head!.position)]
        var ending: RPCError?
        do {
            while let incident = try await iterator.next() { received.append(incident.position) }
        } catch let error as RPCError {
            ending = error
        }
        #expect(ending?.code == .resourceExhausted)
        #expect(ending?.message.contains("fell behind") == true)
        let resume = try #require(ending?.trailingMetadata.first("resume-position").flatMap(UInt64.init))
        #expect(resume == received.last)
        // Resuming from that position delivers the rest: no gap, no duplicate.
        let all = try await harness.store.changes(after: 0, limit: 10_000).map { UInt64($0.position) }
        #expect(all.count == created)
        let rest = try await positions(of: try harness.client("secops"), since: resume, until: { $0 >= all.last! })
        #expect(received + rest == all)
        print("slow consumer: dropped after \(created) changes with \(received.count) in flight (buffer 16)")
        await harness.stop()
    }

    @Test("streams cut mid-flight while writers run, resumed from their last position: every change exactly once")
    func cutAndResume() async throws {
        let harness = try await ServiceHarness.start()
        let shield = try harness.client("llm-shield")
        for _ in 0..<10 { _ = try await shield.createIncident(Sample.event(), options: .test) }
        let writers = Task { try await createConcurrently(shield, count: 120, writers: 6) }
        let client = try harness.client("viewer")
        var received: [UInt64] = []
        var since: UInt64 = 0
        // Cut after a few messages each time, from replay and from live, until the writers are done.
        for cut in [3, 5, 8, 13, 21, 34] {
            var request = StreamIncidentsRequest()
            request.sincePosition = since
            let stream = client.streamIncidents(request, options: CallOptions(timeout: .seconds(60)))
            var n = 0
            for try await incident in stream {
                received.append(incident.position)
                n += 1
                if n == cut { break }
            }
            since = received.last ?? since
        }
        try await writers.value
        let all = try await harness.store.changes(after: 0, limit: 1000).map { UInt64($0.position) }
        received += try await positions(of: client, since: since, until: { $0 >= all.last! })
        #expect(received == all)
        await harness.stop()
    }
}

/// Creates `count` incidents from `writers` concurrent callers.
func createConcurrently(
    _ client: IncidentServiceClient, count: Int, writers: Int,
    event: @escaping @Sendable () -> IncidentAPI.CreateIncidentRequest = { Sample.event() }
) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for writer in 0..<writers {
            group.addTask {
                for _ in stride(from: writer, to: count, by: writers) {
                    _ = try await client.createIncident(event(), options: .test)
                }
            }
        }
        try await group.waitForAll()
    }
}

/// The positions a fresh stream after `since` delivers, until `until` holds for one of them.
func positions(of client: IncidentServiceClient, since: UInt64, until: (UInt64) -> Bool) async throws -> [UInt64] {
    var request = StreamIncidentsRequest()
    request.sincePosition = since
    var got: [UInt64] = []
    for try await incident in client.streamIncidents(request, options: CallOptions(timeout: .seconds(120))) {
        got.append(incident.position)
        if until(incident.position) { break }
    }
    return got
}

/// The positions of the first `count` messages a fresh stream after `since` delivers.
func positions(of client: IncidentServiceClient, since: UInt64, count: Int) async throws -> [UInt64] {
    var n = 0
    return try await positions(of: client, since: since, until: { _ in
        n += 1
        return n == count
    })
}

/// Polls `condition` until it holds (or fails the test after a minute).
func waitUntil(_ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(60)
    while !condition() {
        try #require(ContinuousClock.now < deadline, "condition not met within a minute")
        try await Task.sleep(for: .milliseconds(20))
    }
}
