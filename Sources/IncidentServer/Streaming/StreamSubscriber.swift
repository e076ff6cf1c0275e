// One live stream's place in the hub: a bounded buffer the hub fills and the stream's task drains.
import Foundation
import IncidentCore

/// What a subscriber's task gets when it asks for more.
enum SubscriberDelivery {
    /// Matching entries in position order.
    case entries([FeedEntry])
    /// The buffer filled before the stream took what it held: the stream fell behind and must end.
    case overflowed
    /// The hub stopped (the server is shutting down).
    case hubStopped
    /// The task waiting was cancelled (the call ended).
    case cancelled
}

/// A bounded, single-consumer buffer of matching feed entries. The hub offers; one task takes.
///
/// Memory is bounded by `capacity` entries (each a shared reference) and by `byteCapacity` bytes of the wire forms
/// this stream would send: the entries are shared, but a stuck stream alone keeps alive what it holds, so the bytes
/// are what a stuck stream costs. When an offer does not fit, the buffer is emptied and the subscriber marked
/// overflowed, so nothing is dropped silently and nothing grows. An offer into an empty buffer always fits its
/// bytes: one fan-out alone never ends a stream that has taken everything before it.
final class StreamSubscriber: @unchecked Sendable {
    // Everything below `lock` is guarded by it; the hub and the stream's task meet only here.
    let filter: IncidentStreamFilter
    let capacity: Int
    let byteCapacity: Int
    /// Which wire form the stream sends, and so which size counts.
    let includePayload: Bool
    private let lock = NSLock()
    private var buffer: [FeedEntry] = []
    private var bufferedBytes = 0
    private var overflowed = false
    private var hubStopped = false
    private var cancelled = false
    private var waiter: CheckedContinuation<Void, Never>?

    init(filter: IncidentStreamFilter, capacity: Int, byteCapacity: Int = .max, includePayload: Bool = false) {
        self.filter = filter
        self.capacity = max(1, capacity)
        self.byteCapacity = max(1, byteCapacity)
        self.includePayload = includePayload
    }

    /// Appends the entries that match; returns false when the subscriber overflowed (the hub then drops it).
    /// Called by the hub's follower only.
    func offer(_ entries: [FeedEntry]) -> Bool {
        let matching = filter.matchesEverything ? entries : entries.filter { filter.matches($0.incident) }
        if matching.isEmpty { return true }
        let bytes = matching.reduce(0) { $0 + $1.encoded(includePayload: includePayload).count }
        let (woken, keep) = lock.withLock { () -> (CheckedContinuation<Void, Never>?, Bool) in
            if overflowed || hubStopped || cancelled { return (nil, false) }
            if buffer.count + matching.count > capacity
                || (!buffer.isEmpty && bufferedBytes + bytes > byteCapacity)
            {
                overflowed = true
                buffer = []
                bufferedBytes = 0
            } else {
                buffer.append(contentsOf: matching)
                bufferedBytes += bytes
            }
            defer { waiter = nil }
            return (waiter, !overflowed)
        }
        woken?.resume()
        return keep
    }

    /// Ends the subscription because the hub stops.
    func stopByHub() {
        let woken = lock.withLock { () -> CheckedContinuation<Void, Never>? in
            hubStopped = true
            defer { waiter = nil }
            return waiter
        }
        woken?.resume()
    }

    /// True once an offer did not fit.
    var hasOverflowed: Bool { lock.withLock { overflowed } }

    /// Everything buffered, waiting until there is something (or the subscription ends).
    func take() async -> SubscriberDelivery {
        while true {
            if let delivery = takeNow() { return delivery }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = lock.withLock { () -> Bool in
                        if !buffer.isEmpty || overflowed || hubStopped || cancelled { return true }
                        waiter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                let woken = lock.withLock { () -> CheckedContinuation<Void, Never>? in
                    cancelled = true
                    defer { waiter = nil }
                    return waiter
                }
                woken?.resume()
            }
        }
    }

    private func takeNow() -> SubscriberDelivery? {
        lock.withLock { () -> SubscriberDelivery? in
            // What was buffered before an overflow is gone; the overflow is what the stream must hear.
            if overflowed { return .overflowed }
            if cancelled { return .cancelled }
            if !buffer.isEmpty {
                defer {
                    buffer = []
                    bufferedBytes = 0
                }
                return .entries(buffer)
            }
            if hubStopped { return .hubStopped }
            return nil
        }
    }
}
