// The server's one reader of the change log: a follower task reads new changes in batches (woken by
// LISTEN/NOTIFY through the store) and fans each out to every live subscriber whose filter matches.
import Foundation
import IncidentStore

/// Fans the change log out to live streams. One per server: thousands of streams cost one reader, not
/// one query loop each. Subscribers join at a known position (see `join`), which is what lets a stream
/// switch from replaying the store to following the hub with no gap and no duplicate.
public final class ChangeHub: @unchecked Sendable {
    /// Limits of a hub.
    public struct Configuration: Sendable {
        /// Entries a live subscriber may have waiting before it is ended as fallen behind.
        public var subscriberBuffer: Int
        /// Bytes (of the wire forms it sends) a live subscriber may have waiting before it is ended as fallen
        /// behind. Entries are shared by every stream, so a waiting entry costs a stream a pointer until the stream
        /// is the last to hold it: this bounds what one stuck stream can keep alive, whatever the payload sizes.
        public var subscriberBufferBytes: Int
        /// Changes read per query, by the follower and by streams replaying history. Never more than the
        /// subscriber buffer: one fan-out alone cannot end a stream that has taken everything before it.
        public var batchSize: Int

        // 16384 entries: a stream that is alive but slower than a burst (a thousand streams at a thousand creates a
        // second on two cores) rides it out for seconds instead of being ended within four; a stuck one costs at most
        // 128 KiB of pointers and 16 MiB of what only it still holds.
        public init(subscriberBuffer: Int = 16384, subscriberBufferBytes: Int = 16 << 20, batchSize: Int = 500) {
            self.subscriberBuffer = max(1, subscriberBuffer)
            self.subscriberBufferBytes = max(1, subscriberBufferBytes)
            self.batchSize = max(1, min(batchSize, self.subscriberBuffer))
        }
    }

    let store: IncidentStore
    let configuration: Configuration
    private let log: ServerLog
    // Guarded by `lock`. Fan-out happens under it, so that joining and advancing `position` are atomic.
    private let lock = NSLock()
    private var position: Int64?
    private var subscribers: [ObjectIdentifier: StreamSubscriber] = [:]
    private var follower: Task<Void, Never>?
    private var stopped = false
    /// True while the follower reads a batch without payloads (no joined stream wanted them): a stream that
    /// wants payloads cannot join then, or it would be offered that batch without them.
    private var readingWithoutPayload = false
    /// A stream that wants payloads waits to join: read the next batch with them.
    private var payloadWanted = false

    public init(store: IncidentStore, configuration: Configuration = Configuration(), log: ServerLog = ServerLog()) {
        self.store = store
        self.configuration = configuration
        self.log = log
    }

    /// Starts the follower (again a no-op once started or stopped).
    public func start() {
        lock.withLock {
            guard follower == nil, !stopped else { return }
            follower = Task { [self] in await follow() }
        }
    }

    /// Stops the follower and ends every live subscriber (their streams end with `UNAVAILABLE`).
    public func stop() async {
        let (task, ended) = lock.withLock { () -> (Task<Void, Never>?, [StreamSubscriber]) in
            stopped = true
            defer { subscribers = [:] }
            return (follower, Array(subscribers.values))
        }
        ended.forEach { $0.stopByHub() }
        task?.cancel()
        await task?.value
    }

    /// How many live subscribers are joined now.
    public var subscriberCount: Int { lock.withLock { subscribers.count } }

    /// The last position fanned out; nil until the follower has read where the log stands.
    var currentPosition: Int64? { lock.withLock { position } }

    var isStopped: Bool { lock.withLock { stopped } }

    /// Registers a subscriber and returns the hub's position at that moment: every change after it is offered
    /// to the subscriber, none before it. Nil when the hub is not following yet or has stopped.
    func join(_ subscriber: StreamSubscriber) -> Int64? {
        lock.withLock {
            guard let position, !stopped else { return nil }
            if subscriber.includePayload && readingWithoutPayload {
                payloadWanted = true
                return nil
            }
            subscribers[ObjectIdentifier(subscriber)] = subscriber
            return position
        }
    }

    func leave(_ subscriber: StreamSubscriber) {
        _ = lock.withLock { subscribers.removeValue(forKey: ObjectIdentifier(subscriber)) }
    }

    // MARK: - The follower

    private func follow() async {
        var failures = 0
        while !Task.isCancelled {
            do {
                try await step()
                failures = 0
            } catch is CancellationError {
                return
            } catch {
                // The database is away: streams already joined simply wait; the follower retries.
                failures += 1
                if failures == 1 { log.error("stream hub: cannot read the change log (\(type(of: error))); retrying") }
                try? await Task.sleep(for: .milliseconds(min(2000, 100 * (1 << min(failures, 5)))))
            }
        }
    }

    /// Reads what committed after the hub's position and fans it out; waits for a notification when there
    /// was nothing (or less than a batch) to read.
    private func step() async throws {
        guard let from = currentPosition else {
            let latest = try await store.latestPosition()
            lock.withLock { if position == nil { position = latest } }
            return
        }
        if lock.withLock({ subscribers.isEmpty }) {
            // Nobody follows: reading and decoding every change would be wasted (a tenth of the server's CPU in a
            // flood of creates). The hub only moves its position to the end of the log, and only if still nobody
            // joined meanwhile: a subscriber that joined at the old position must get everything after it.
            let latest = try await store.latestPosition()
            let skipped = lock.withLock { () -> Bool in
                guard subscribers.isEmpty else { return false }
                position = max(position ?? latest, latest)
                return true
            }
            if skipped {
                _ = try await store.waitForChanges(after: latest, timeout: .seconds(5))
                return
            }
        }
        // Payloads (up to 1 MiB each) are read only when a joined stream may see them.
        let withPayload = lock.withLock { () -> Bool in
            let wanted = payloadWanted || subscribers.values.contains { $0.includePayload }
            payloadWanted = false
            readingWithoutPayload = !wanted
            return wanted
        }
        let batch: IncidentChangeBatch
        do {
            batch = try await store.changeBatch(after: from, limit: configuration.batchSize, includePayload: withPayload)
        } catch {
            lock.withLock { readingWithoutPayload = false }
            throw error
        }
        let changes = batch.changes
        if let last = changes.last {
            let entries = changes.map(FeedEntry.init)
            fanOut(entries, through: last.position)
            if changes.count == configuration.batchSize || batch.stoppedAtByteBudget { return }
        } else {
            lock.withLock { readingWithoutPayload = false }
        }
        // Bounded, so a missed notification costs at most this long; a listener reconnect also wakes us.
        _ = try await store.waitForChanges(after: changes.last?.position ?? from, timeout: .seconds(5))
    }

    private func fanOut(_ entries: [FeedEntry], through last: Int64) {
        lock.withLock {
            var dropped: [ObjectIdentifier] = []
            for (id, subscriber) in subscribers where !subscriber.offer(entries) {
                dropped.append(id)
            }
            for id in dropped { subscribers.removeValue(forKey: id) }
            position = last
            // Streams joining from now on start after this batch: any may join.
            readingWithoutPayload = false
        }
    }
}
