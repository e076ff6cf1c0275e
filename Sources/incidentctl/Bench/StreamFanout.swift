// `incidentctl bench --method stream`: S subscribers follow StreamIncidents while creates run at a fixed rate
// alongside. Each create carries its sequence number in a tag; create N is due at load start + N / rate, so a
// subscriber knows the due time of whatever it receives and measures create-to-delivery latency from it (no
// shared table on the hot path). At the end every acked create must have reached every subscriber: what did
// not is counted as missing, never silently dropped. With --rate 0 the subscribers only stay connected (idle
// streams, for memory measurements).
import IncidentAPI
import RPC
import Synchronization

/// The stream fan-out run.
struct StreamFanout {
    let target: BenchTarget
    let events: EventFactory
    let subscribers: Int
    /// Subscribers opened per second; 0 opens them all at once.
    let openRate: Double
    let rate: Double
    let workers: Int
    let warmup: Double
    let duration: Double
    let drain: Double
    let progress: ProgressLine

    func run() async throws -> BenchReport {
        let clock = ContinuousClock()
        // Creates run on connections and completion-queue threads of their own, as the services that raise
        // incidents are not the clients that follow them: sharing them would queue each create's answer behind
        // this process's own stream traffic (measured: 67 creates/s here against 263/s from a separate process).
        let creators = try target.separateConnections(2)
        let client = IncidentServiceClient(transport: creators.channel(0))
        let start: CreateIncidentResponse
        do {
            start = try await client.createIncident(events.marker("start"), options: target.callOptions)
        } catch {
            throw BenchSetupError(description: "cannot create the start marker on \(target.server): \(error)")
        }
        let capacity = rate > 0 ? Int(rate * (warmup + duration)) + 1 : 1
        let shared = FanoutState(base: clock.now)
        let deliveries = LatencyRecorder()
        let creates = LatencyRecorder()
        let counters = LiveCounters()
        var request = StreamIncidentsRequest()
        request.sincePosition = start.position
        request.sources = [events.source]
        let requestBytes = request.serializedBytes()
        let streamOptions = CallOptions(timeout: nil, waitForReady: true)

        return try await withThrowingTaskGroup(of: SubscriberResult.self) { group in
            for index in 0..<subscribers {
                let channel = target.channel(index)
                let opening = openRate > 0 ? shared.base + .nanoseconds(Int64(Double(index) * 1e9 / openRate)) : nil
                group.addTask { [events, rate, warmup] in
                    if let opening {
                        try? await clock.sleep(until: opening)
                        if Task.isCancelled {
                            return SubscriberResult(received: SequenceSet(capacity: 1), duplicates: 0, ids: [:],
                                                    ended: "NOT_OPENED")
                        }
                    }
                    let subscriber = SubscriberCell(Subscriber(index: index, run: events.run, capacity: capacity,
                                                               rate: rate, warmup: warmup, keepIDs: index == 0))
                    var ended: String?
                    do {
                        // Messages are counted on the completion-queue thread as they arrive: a task switch per
                        // message would make the client, not the server, what the run measures.
                        try await channel.receiveStream(
                            path: IncidentServiceMethods.streamIncidents.path, request: requestBytes,
                            options: streamOptions
                        ) { bytes in
                            subscriber.state.withLock {
                                $0.receive(bytes, shared: shared, deliveries: deliveries, clock: clock)
                            }
                        }
                        if !shared.stopping { ended = "ended early (OK)" }
                    } catch {
                        if !shared.stopping { ended = LatencySummary.statusName(error) }
                    }
                    return subscriber.state.withLock { subscriber in
                        subscriber.ended = ended
                        return subscriber.result
                    }
                }
            }

            // Ready barrier: a marker created now reaches every subscriber once its stream is live.
            progress.show("opening \(subscribers) subscribers")
            do {
                _ = try await client.createIncident(events.marker("ready"), options: target.callOptions)
            } catch {
                throw BenchSetupError(description: "cannot create the ready marker on \(target.server): \(error)")
            }
            let ramp = openRate > 0 ? Double(subscribers) / openRate : 0
            let readyDeadline = clock.now + .seconds(60 + subscribers / 100 + Int(ramp))
            while shared.ready.load(ordering: .relaxed) < subscribers, clock.now < readyDeadline {
                progress.show("subscribers live: \(shared.ready.load(ordering: .relaxed)) of \(subscribers)")
                try? await clock.sleep(for: .milliseconds(100))
            }
            let ready = shared.ready.load(ordering: .relaxed)

            // The load: creates due at a fixed rate, or nothing (idle streams) for the same span.
            let loadStart = clock.now
            shared.loadStart.store(Int64((loadStart - shared.base) / .nanoseconds(1)), ordering: .relaxed)
            let measureStart = loadStart + .nanoseconds(Int64(warmup * 1e9))
            let end = measureStart + .nanoseconds(Int64(duration * 1e9))
            let ticker = progress.follow(counters, started: loadStart, warmupEnds: measureStart) {
                "deliveries \(shared.delivered.load(ordering: .relaxed))"
            }
            var acked: [Int: String] = [:]
            if rate > 0 {
                acked = await createAtRate(on: creators, loadStart: loadStart, measureStart: measureStart, end: end,
                                           recorder: creates, counters: counters)
            } else {
                try? await clock.sleep(until: end)
            }
            let span = clock.now - measureStart

            // Drain: give late deliveries a bounded time, then end every stream.
            let expected = acked.count * subscribers
            let drainEnd = clock.now + .nanoseconds(Int64(drain * 1e9))
            while shared.delivered.load(ordering: .relaxed) < expected, clock.now < drainEnd {
                try? await clock.sleep(for: .milliseconds(100))
            }
            ticker?.cancel()
            shared.stop()
            group.cancelAll()

            var figures = StreamFigures(subscribers: subscribers, ready: ready, createsAcked: acked.count,
                                        expected: expected, delivered: 0, missing: 0, duplicates: 0,
                                        wrongIncident: 0, delivery: deliveries.summary())
            for try await result in group {
                let delivered = acked.keys.reduce(0) { $0 + (result.received.contains($1) ? 1 : 0) }
                figures.delivered += delivered
                figures.duplicates += result.duplicates
                if let ended = result.ended { figures.delivery.errors[ended, default: 0] += 1 }
                for (sequence, id) in result.ids where acked[sequence].map({ $0 != id }) ?? false {
                    figures.wrongIncident += 1
                }
            }
            figures.missing = figures.expected - figures.delivered
            var report = BenchReport(
                method: "stream", mode: rate > 0 ? "open loop, \(LoadDriver.number(rate)) creates/s scheduled"
                    : "idle streams", server: target.server, concurrency: workers,
                connections: target.channels.count, warmupSeconds: warmup, durationSeconds: duration,
                spanSeconds: LoadDriver.seconds(span), calls: creates.summary(),
                startedLate: counters.late.load(ordering: .relaxed))
            report.stream = figures
            return report
        }
    }

    /// Creates at `rate` per second until `end`; returns the acked sequence numbers with their incident ids.
    private func createAtRate(
        on creators: BenchTarget, loadStart: ContinuousClock.Instant, measureStart: ContinuousClock.Instant,
        end: ContinuousClock.Instant,
        recorder: LatencyRecorder, counters: LiveCounters
    ) async -> [Int: String] {
        let clock = ContinuousClock()
        let sequence = SequenceCounter()
        return await withTaskGroup(of: [Int: String].self) { group in
            for worker in 0..<workers {
                let client = IncidentServiceClient(transport: creators.channel(worker))
                group.addTask { [events, rate, target] in
                    var acked: [Int: String] = [:]
                    while true {
                        let number = sequence.take()
                        let due = loadStart + .nanoseconds(Int64(Double(number) * 1e9 / rate))
                        if due >= end { break }
                        if clock.now < due { try? await clock.sleep(until: due) }
                        if due >= measureStart, clock.now - due > LoadDriver.lateness { counters.startedLate() }
                        do {
                            let response = try await client.createIncident(events.request(number),
                                                                           options: target.callOptions)
                            acked[number] = response.incidentId
                            counters.succeeded()
                            if due >= measureStart { recorder.record(clock.now - due, by: worker) }
                        } catch {
                            counters.errored()
                            if due >= measureStart { recorder.fail(error, by: worker) }
                        }
                    }
                    return acked
                }
            }
            var all: [Int: String] = [:]
            for await part in group { all.merge(part) { first, _ in first } }
            return all
        }
    }
}

/// What the subscribers share: the ready count, the deliveries so far and when the load started.
private final class FanoutState: Sendable {
    let base: ContinuousClock.Instant
    let ready = Atomic<Int>(0)
    let delivered = Atomic<Int>(0)
    /// Nanoseconds from `base` to the load's start; create N is due `N / rate` seconds later.
    let loadStart = Atomic<Int64>(0)
    private let stopped = Atomic<Bool>(false)

    init(base: ContinuousClock.Instant) {
        self.base = base
    }

    var stopping: Bool { stopped.load(ordering: .relaxed) }
    func stop() { stopped.store(true, ordering: .relaxed) }
}

/// What one subscriber received.
private struct SubscriberResult: Sendable {
    var received: SequenceSet
    var duplicates: Int
    /// Subscriber 0 only: the incident id each sequence number was delivered as.
    var ids: [Int: String]
    /// How the stream ended before the run stopped it (a status name), nil when it lasted.
    var ended: String?
}

/// One subscriber's bookkeeping where its stream's completions and its task both reach it.
private final class SubscriberCell: Sendable {
    let state: Mutex<Subscriber>

    init(_ subscriber: Subscriber) {
        state = Mutex(subscriber)
    }
}

/// One subscriber's bookkeeping, updated as its messages arrive.
private struct Subscriber {
    let index: Int
    /// The run's tag prefix (`run/`), as bytes.
    let prefixBytes: [UInt8]
    let rate: Double
    /// Nanoseconds after the load's start before which creates are warm-up (as the creators count them).
    let warmupNanoseconds: Int64
    let keepIDs: Bool
    var received: SequenceSet
    var duplicates = 0
    var ids: [Int: String] = [:]
    var sawReady = false
    var ended: String?

    init(index: Int, run: String, capacity: Int, rate: Double, warmup: Double, keepIDs: Bool) {
        self.index = index
        prefixBytes = Array((run + "/").utf8)
        self.rate = rate
        warmupNanoseconds = Int64(warmup * 1e9)
        self.keepIDs = keepIDs
        received = SequenceSet(capacity: capacity)
    }

    private static let readyMarker = Array("ready".utf8)

    /// The decimal number `digits` spell, nil for anything else.
    private static func number(_ digits: ArraySlice<UInt8>) -> Int? {
        guard !digits.isEmpty, digits.count < 19 else { return nil }
        var value = 0
        for digit in digits {
            guard digit >= 0x30, digit <= 0x39 else { return nil }
            value = value * 10 + Int(digit - 0x30)
        }
        return value
    }

    var result: SubscriberResult {
        SubscriberResult(received: received, duplicates: duplicates, ids: ids, ended: ended)
    }

    mutating func receive(_ bytes: [UInt8], shared: FanoutState, deliveries: LatencyRecorder, clock: ContinuousClock) {
        let now = clock.now
        guard let scan = IncidentWireScan(bytes), scan.sequenceTagBytes.starts(with: prefixBytes) else { return }
        let marker = scan.sequenceTagBytes.dropFirst(prefixBytes.count)
        if marker.elementsEqual(Self.readyMarker) {
            if !sawReady { shared.ready.add(1, ordering: .relaxed) }
            sawReady = true
            return
        }
        guard let sequence = Self.number(marker), rate > 0 else { return }
        guard received.insert(sequence) else {
            duplicates += 1
            return
        }
        shared.delivered.add(1, ordering: .relaxed)
        if keepIDs { ids[sequence] = scan.id }
        let offset = Int64(Double(sequence) * 1e9 / rate)
        guard offset >= warmupNanoseconds else { return }
        let due = shared.base + .nanoseconds(shared.loadStart.load(ordering: .relaxed) + offset)
        deliveries.record(now - due, by: index)
    }
}

/// A set of small non-negative integers, one bit each.
struct SequenceSet: Sendable {
    private var words: [UInt64]

    init(capacity: Int) {
        words = Array(repeating: 0, count: max(1, capacity) / 64 + 1)
    }

    /// Inserts `value`; false when it was already there.
    mutating func insert(_ value: Int) -> Bool {
        let word = value >> 6
        if word >= words.count { words.append(contentsOf: repeatElement(0, count: word - words.count + 1)) }
        let bit = UInt64(1) << UInt64(value & 63)
        if words[word] & bit != 0 { return false }
        words[word] |= bit
        return true
    }

    func contains(_ value: Int) -> Bool {
        let word = value >> 6
        return word < words.count && words[word] & (UInt64(1) << UInt64(value & 63)) != 0
    }
}
