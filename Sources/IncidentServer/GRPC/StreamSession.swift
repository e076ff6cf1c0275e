// StreamIncidents for one caller: replay the change log after `since_position` from the store, join the hub,
// fill from the store the positions the hub fanned out before the join, then send what the hub offers.
//
// Why there is no gap and no duplicate at the seam: the hub offers a subscriber every change after the
// position it returned at `join`, H. The store makes positions visible in order, so everything up to H can
// be read from it; the session sends from the store only up to H and from the hub only after the last
// position it sent. Each position is sent at most once because `last` only grows and anything at or below
// it is skipped; none is missed because store reads continue strictly after `last` and the hub covers
// everything after H.
import IncidentAPI
import IncidentCore
import IncidentStore
import RPC

/// The state of one stream: what it asked for and the last change-log position it has dealt with.
struct StreamSession {
    let hub: ChangeHub
    let filter: IncidentStreamFilter
    let includePayload: Bool
    let responses: ServerStreamWriter<IncidentAPI.Incident>
    let context: ServerContext
    /// Every position up to this one has been sent or filtered out.
    var last: Int64
    /// The last position actually sent: where a stream ended for falling behind resumes.
    var lastSent: Int64

    /// How many times a stream may fall behind while still catching up before it is ended.
    static let maxRejoins = 3

    init(hub: ChangeHub, filter: IncidentStreamFilter, since: Int64, includePayload: Bool,
         responses: ServerStreamWriter<IncidentAPI.Incident>, context: ServerContext) {
        self.hub = hub
        self.filter = filter
        self.includePayload = includePayload
        self.responses = responses
        self.context = context
        last = since
        lastSent = since
    }

    /// Runs until the caller goes away, the stream falls behind (`RESOURCE_EXHAUSTED` with `resume-position`)
    /// or the server stops (`UNAVAILABLE`).
    mutating func run() async throws {
        hub.start()
        var rejoins = 0
        while true {
            try await catchUp()
            let subscriber = StreamSubscriber(
                filter: filter, capacity: hub.configuration.subscriberBuffer,
                byteCapacity: hub.configuration.subscriberBufferBytes, includePayload: includePayload)
            guard let joinedAt = hub.join(subscriber) else {
                if hub.isStopped { throw RPCError(.unavailable, "server is shutting down") }
                // The hub is reading a batch without payloads, which this stream needs: join after it.
                try await Task.sleep(for: .milliseconds(5))
                continue
            }
            defer { hub.leave(subscriber) }
            try await fill(through: joinedAt)
            if subscriber.hasOverflowed {
                // The hub ran ahead while we read the store: read on from the store and join again.
                rejoins += 1
                if rejoins > Self.maxRejoins { throw fellBehind() }
                continue
            }
            try await follow(subscriber)
        }
    }

    /// Replays from the store until the hub is within one batch of `last`.
    private mutating func catchUp() async throws {
        let batch = hub.configuration.batchSize
        while true {
            try checkCancelled()
            guard let hubPosition = hub.currentPosition else {
                if hub.isStopped { throw RPCError(.unavailable, "server is shutting down") }
                // The hub has not read where the log stands yet (just started, or the database is away).
                try await Task.sleep(for: .milliseconds(50))
                continue
            }
            if hubPosition - last <= Int64(batch) { return }
            let changes = try await hub.store.changeBatch(after: last, limit: batch,
                                                          includePayload: includePayload).changes
            guard let end = changes.last?.position else { return }
            try await send(encoding(changes, through: end), through: end)
        }
    }

    /// Sends from the store every change after `last` up to `through` (the hub's position at the join).
    private mutating func fill(through end: Int64) async throws {
        let batch = hub.configuration.batchSize
        while last < end {
            try checkCancelled()
            let read = try await hub.store.changeBatch(after: last, limit: batch, includePayload: includePayload)
            let changes = read.changes
            try await send(encoding(changes, through: end), through: min(end, changes.last?.position ?? end))
            // A batch cut short by its byte budget is not the end of what is visible.
            if (changes.count < batch && !read.stoppedAtByteBudget) || (changes.last?.position ?? end) >= end {
                // Positions up to `end` are all visible; the ones not read do not exist (sequence gaps).
                last = max(last, end)
            }
        }
    }

    /// Sends what the hub offers until the stream ends.
    private mutating func follow(_ subscriber: StreamSubscriber) async throws {
        while true {
            switch await subscriber.take() {
            case .entries(let entries):
                // The hub offers only matching entries, in order.
                guard let end = entries.last?.position else { continue }
                try await send(entries, through: end, filtered: true)
            case .overflowed:
                throw fellBehind()
            case .hubStopped:
                throw RPCError(.unavailable, "server is shutting down")
            case .cancelled:
                throw CancellationError()
            }
        }
    }

    /// Feed entries for the changes read from the store that this stream sends: after `last`, up to `end`,
    /// matching its filter (only those are encoded).
    private func encoding(_ changes: [IncidentChange], through end: Int64) -> [FeedEntry] {
        changes.compactMap { change in
            change.position > last && change.position <= end && filter.matches(change.incident)
                ? FeedEntry(change) : nil
        }
    }

    /// Sends the entries after `last` that match (in position order) as one run, then records that every
    /// position up to `end` has been dealt with.
    private mutating func send(
        _ entries: [FeedEntry], through end: Int64, filtered: Bool = false
    ) async throws {
        var run: [EncodedMessage] = []
        var runEnd: Int64?
        for entry in entries where entry.position > last && (filtered || filter.matches(entry.incident)) {
            run.append(entry.encoded(includePayload: includePayload))
            runEnd = entry.position
        }
        if let runEnd {
            try await responses.send(encoded: run)
            lastSent = runEnd
        }
        last = max(last, end)
    }

    private func checkCancelled() throws {
        if context.isCancelled || Task.isCancelled { throw CancellationError() }
    }

    /// The status a stream that could not keep up ends with: what happened, and where to resume.
    private func fellBehind() -> RPCError {
        var trailers = Metadata()
        trailers.addString(String(lastSent), forKey: "resume-position")
        return RPCError(
            .resourceExhausted,
            "stream fell behind: more than \(hub.configuration.subscriberBuffer) changes waited for this client; "
                + "resume with since_position \(lastSent)",
            trailingMetadata: trailers)
    }
}
