// The PagerDuty stand-in: the shared loopback HTTP receiver (answering 202 to everything), read as the benchmark
// needs it: when each trigger arrived and which incident it pages (its dedup_key), on the benchmark's own clock.
import Foundation
import HTTPTestSupport
import Synchronization

/// Accepts PagerDuty Events API v2 requests on 127.0.0.1 and reports the arrival of every trigger.
final class PageReceiver: Sendable {
    /// The path the server is configured to post to.
    static let path = "/v2/enqueue"

    private let http: LoopbackHTTPReceiver
    /// What the requests received so far say; `processed` of them were read (they are only ever appended).
    private let tally = Mutex<Tally>(Tally())

    private struct Tally {
        var processed = 0
        /// First arrival of each dedup_key; repeated triggers (retries) are counted, not re-timed.
        var arrivals: [String: ContinuousClock.Instant] = [:]
        var repeats = 0
        var other = 0
    }

    init() throws {
        http = try LoopbackHTTPReceiver()
    }

    /// The endpoint for the server's `notifications.pagerduty.endpoint`.
    var endpoint: String { http.url + Self.path }

    /// When the first trigger for `dedupKey` arrived, if it has.
    func arrival(of dedupKey: String) -> ContinuousClock.Instant? { current().arrivals[dedupKey] }

    /// Triggers that arrived for an incident already paged, and requests that were not triggers.
    var extraRequests: (repeats: Int, other: Int) {
        let tally = current()
        return (tally.repeats, tally.other)
    }

    func stop() {
        http.stop()
    }

    /// The tally with every request received so far read into it.
    private func current() -> Tally {
        let received = http.received
        return tally.withLock { tally in
            for request in received.dropFirst(tally.processed) {
                let object = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any]
                guard request.method == "POST", request.path == Self.path,
                      object?["event_action"] as? String == "trigger", let key = object?["dedup_key"] as? String else {
                    tally.other += 1
                    continue
                }
                if tally.arrivals[key] == nil { tally.arrivals[key] = request.arrivedAt } else { tally.repeats += 1 }
            }
            tally.processed = received.count
            return tally
        }
    }
}
