// The PagerDuty stand-in: a small HTTP/1.1 server on loopback that answers 202 to the Events API v2 path and
// notes when each trigger arrived and which incident it pages (its dedup_key), on the benchmark's own clock.
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Accepts PagerDuty Events API v2 requests on 127.0.0.1 and records the arrival of every trigger.
final class PageReceiver: Sendable {
    /// The path the server is configured to post to.
    static let path = "/v2/enqueue"

    let port: UInt16
    private let listener: Int32
    private let clock = ContinuousClock()
    /// First arrival of each dedup_key; repeated triggers (retries) are counted, not re-timed.
    private let state = Mutex<(arrivals: [String: ContinuousClock.Instant], repeats: Int, other: Int)>(([:], 0, 0))

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 128) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
        Thread { [self] in acceptLoop() }.start()
    }

    /// The endpoint for the server's `notifications.pagerduty.endpoint`.
    var endpoint: String { "http://127.0.0.1:\(port)\(Self.path)" }

    /// When the first trigger for `dedupKey` arrived, if it has.
    func arrival(of dedupKey: String) -> ContinuousClock.Instant? { state.withLock { $0.arrivals[dedupKey] } }

    /// Triggers that arrived for an incident already paged, and requests that were not triggers.
    var extraRequests: (repeats: Int, other: Int) { state.withLock { ($0.repeats, $0.other) } }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 { return }
            var one: Int32 = 1
            setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            Thread { [self] in serve(client) }.start()
        }
    }

    /// Serves one keep-alive connection: reads each request (headers, then the body by Content-Length), records
    /// it, answers 202.
    private func serve(_ fd: Int32) {
        defer { close(fd) }
        var buffer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 65536)
        let separator = Array("\r\n\r\n".utf8)
        while true {
            var headerEnd: Int?
            while headerEnd == nil {
                headerEnd = buffer.firstRange(of: separator)?.lowerBound
                if headerEnd != nil { break }
                let n = read(fd, &chunk, chunk.count)
                if n <= 0 { return }
                buffer += chunk[0..<n]
            }
            let head = String(decoding: buffer[0..<headerEnd!], as: UTF8.self).components(separatedBy: "\r\n")
            var length = 0
            for line in head.dropFirst() where line.lowercased().hasPrefix("content-length:") {
                length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
            }
            let bodyStart = headerEnd! + separator.count
            while buffer.count < bodyStart + length {
                let n = read(fd, &chunk, chunk.count)
                if n <= 0 { return }
                buffer += chunk[0..<n]
            }
            let arrived = clock.now
            let body = Array(buffer[bodyStart..<(bodyStart + length)])
            buffer.removeFirst(bodyStart + length)
            record(requestLine: head[0], body: body, at: arrived)
            let answer = Array("HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n"
                .utf8) + Array(#"{"status":"success"}"#.utf8)
            if write(fd, answer, answer.count) < 0 { return }
        }
    }

    private func record(requestLine: String, body: [UInt8], at arrived: ContinuousClock.Instant) {
        let parts = requestLine.split(separator: " ")
        let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        let isTrigger = parts.count >= 2 && parts[0] == "POST" && parts[1] == Self.path
            && object?["event_action"] as? String == "trigger"
        state.withLock { state in
            guard isTrigger, let key = object?["dedup_key"] as? String else {
                state.other += 1
                return
            }
            if state.arrivals[key] == nil { state.arrivals[key] = arrived } else { state.repeats += 1 }
        }
    }
}
