// A real HTTP/1.1 receiver on loopback standing in for PagerDuty, Slack, LLM-Shield's admin API and webhooks: it
// records what arrives and answers with scripted statuses (and delays, for timeouts), per path. Shared by the test
// targets that need a real peer on the other end of an outbound HTTP call.
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Records HTTP requests on a loopback port and answers as scripted.
public final class LoopbackHTTPReceiver: Sendable {
    /// One request as it arrived.
    public struct Received: Sendable {
        public var method: String
        public var path: String
        public var headers: [String: String]  // lower-cased names
        public var body: [UInt8]
        /// When the whole request had arrived (before it was answered).
        public var arrivedAt: ContinuousClock.Instant
        /// The status the script answered it with (what a receiver "took" is what it answered 2xx).
        public var status: Int = 202
    }

    /// How to answer one request.
    public struct Reply: Sendable {
        public var status: Int
        public var delaySeconds: Double = 0
        public var headers: [String: String] = [:]
        /// The response body (`ok` when nil).
        public var body: [UInt8]?

        public init(status: Int, delaySeconds: Double = 0, headers: [String: String] = [:], body: [UInt8]? = nil) {
            self.status = status
            self.delaySeconds = delaySeconds
            self.headers = headers
            self.body = body
        }
    }

    /// Answers requests to one path from what they carry (a stand-in API with state, e.g. Jira's issues and search);
    /// scripted replies for the path still come first.
    public typealias Responder = @Sendable (Received) -> Reply

    public let port: UInt16
    private let listener: Int32
    private let state = Mutex<(received: [Received], script: [String: [Reply]], stopped: Bool)>(([], [:], false))
    private let responders = Mutex<[String: Responder]>([:])

    public init() throws {
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
        guard bound == 0, listen(fd, 64) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    public var url: String { "http://127.0.0.1:\(port)" }
    public var received: [Received] { state.withLock { $0.received } }

    /// Statuses for the next requests to `path` (any path when nil), in order; after the script runs out every
    /// request gets 202.
    public func script(_ replies: [Reply], path: String? = nil) { state.withLock { $0.script[path ?? "*"] = replies } }

    /// Answers requests to `path` with `responder` once the script for the path has run out.
    public func respond(path: String, _ responder: @escaping Responder) { responders.withLock { $0[path] = responder } }

    /// What arrived at one path, oldest first.
    public func received(path: String) -> [Received] { received.filter { $0.path == path } }

    public func stop() {
        state.withLock { $0.stopped = true }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 { return }
            // Answers go out at once, not after Nagle's delay: benchmarks time requests through this receiver.
            var one: Int32 = 1
            setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            Thread { [self] in serve(client) }.start()
        }
    }

    private func serve(_ fd: Int32) {
        defer { close(fd) }
        var buffer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            // Read until the end of the headers, then the body by Content-Length.
            var headerEnd: Int?
            while headerEnd == nil {
                if let end = buffer.firstRange(of: Array("\r\n\r\n".utf8))?.lowerBound { headerEnd = end; break }
                let n = read(fd, &chunk, chunk.count)
                if n <= 0 { return }
                buffer += chunk[0..<n]
            }
            let head = String(decoding: buffer[0..<headerEnd!], as: UTF8.self).components(separatedBy: "\r\n")
            let requestLine = head[0].split(separator: " ")
            var headers: [String: String] = [:]
            for line in head.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                headers[line[..<colon].lowercased()] = value
            }
            let length = Int(headers["content-length"] ?? "0") ?? 0
            let bodyStart = headerEnd! + 4
            while buffer.count < bodyStart + length {
                let n = read(fd, &chunk, chunk.count)
                if n <= 0 { return }
                buffer += chunk[0..<n]
            }
            let arrivedAt = ContinuousClock.now
            let body = Array(buffer[bodyStart..<(bodyStart + length)])
            buffer.removeFirst(bodyStart + length)
            let path = String(requestLine[1])
            let responder = responders.withLock { $0[path] }
            let reply: Reply = state.withLock { state in
                var request = Received(method: String(requestLine[0]), path: path, headers: headers, body: body,
                                       arrivedAt: arrivedAt)
                var reply = Reply(status: 202)
                var scripted = false
                for key in [path, "*"] where state.script[key]?.isEmpty == false {
                    reply = state.script[key]!.removeFirst()
                    scripted = true
                    break
                }
                // Answered under the lock: a stateful stand-in sees requests one at a time, in arrival order.
                if !scripted, let responder { reply = responder(request) }
                request.status = reply.status
                state.received.append(request)
                return reply
            }
            if reply.delaySeconds > 0 { Thread.sleep(forTimeInterval: reply.delaySeconds) }
            let replyBody = reply.body ?? Array("ok".utf8)
            var response = "HTTP/1.1 \(reply.status) X\r\nContent-Length: \(replyBody.count)\r\n"
            for (name, value) in reply.headers { response += "\(name): \(value)\r\n" }
            response += "\r\n"
            let bytes = Array(response.utf8) + replyBody
            if write(fd, bytes, bytes.count) < 0 { return }
        }
    }
}
