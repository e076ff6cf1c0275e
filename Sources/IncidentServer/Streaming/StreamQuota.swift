// How many long-lived calls one holder may keep open at once. A stream costs a task, a hub subscription and its
// buffer for as long as the client keeps it; without a cap one identity (or one leaked client) could hold them all.
import RPC
import Synchronization

/// Counts open calls per holder (an identity, or one shared key) against a cap.
final class StreamQuota: Sendable {
    /// Most calls one holder may have open.
    let cap: Int
    private let what: String
    private let open = Mutex<[String: Int]>([:])

    /// `what` names the calls and the setting in refusals (`StreamIncidents calls per identity`).
    init(cap: Int, what: String) {
        self.cap = max(1, cap)
        self.what = what
    }

    /// Runs `body` holding one of `holder`'s places, refused with RESOURCE_EXHAUSTED naming the cap when none is free.
    func holding<T>(for holder: String, _ body: () async throws -> T) async throws -> T {
        let taken = open.withLock { open -> Bool in
            let held = open[holder, default: 0]
            guard held < cap else { return false }
            open[holder] = held + 1
            return true
        }
        guard taken else {
            throw RPCError(.resourceExhausted, "at most \(cap) \(what) at once; close one before opening another")
        }
        defer {
            open.withLock { open in
                let left = open[holder, default: 1] - 1
                open[holder] = left > 0 ? left : nil
            }
        }
        return try await body()
    }

    /// Calls `holder` has open.
    func count(for holder: String) -> Int { open.withLock { $0[holder, default: 0] } }
}
