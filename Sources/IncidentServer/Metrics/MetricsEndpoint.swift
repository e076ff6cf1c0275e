// A tiny HTTP/1.1 responder for Prometheus scrapes: `GET /metrics` answers the exposition text, anything else
// 404 (or 405). One POSIX listener; each connection is answered on a thread of its own, a few at a time, within an
// absolute deadline: a client that dribbles its request a byte at a time loses its connection when the deadline
// passes, and meanwhile other scrapes are answered beside it. Kubernetes probes use gRPC health, not this port.
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Serves `GET /metrics` on its own address, apart from the gRPC port.
public final class MetricsEndpoint: Sendable {
    /// Why the endpoint could not start.
    public struct StartError: Error, Sendable, CustomStringConvertible {
        public var address: String
        public var reason: String
        public var description: String { "cannot serve metrics on \(address): \(reason)" }
    }

    /// How long one connection may take, from accept to the last byte of the answer, however it trickles.
    public static let defaultConnectionDeadline: Duration = .seconds(5)
    /// Connections answered at once; more are told 503 at once rather than queued behind slow ones.
    public static let defaultMaxConnections = 8

    /// The port bound (useful when asked for port 0).
    public let port: Int
    private let socket: Int32
    private let render: @Sendable () -> [UInt8]

    /// Binds `address` (`HOST:PORT`, `[V6]:PORT`; `:PORT` or `PORT` alone binds loopback, so metrics are only
    /// public when a host says so) and starts answering; `render` makes the body of each scrape.
    public init(address: String, connectionDeadline: Duration = MetricsEndpoint.defaultConnectionDeadline,
                maxConnections: Int = MetricsEndpoint.defaultMaxConnections,
                render: @escaping @Sendable () -> [UInt8]) throws(StartError) {
        let colon = address.lastIndex(of: ":")
        guard let portNumber = UInt16(colon.map { address[address.index(after: $0)...] } ?? address[...])
        else { throw StartError(address: address, reason: "expected HOST:PORT") }
        var host = colon.map { String(address[..<$0]) } ?? ""
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.isEmpty { host = "127.0.0.1" }

        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var found: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(portNumber), &hints, &found) == 0, let info = found else {
            throw StartError(address: address, reason: "unknown host \(host)")
        }
        defer { freeaddrinfo(found) }
        let fd = Glibc.socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw StartError(address: address, reason: String(cString: strerror(errno))) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0, listen(fd, 16) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw StartError(address: address, reason: reason)
        }
        var bound = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = withUnsafePointer(to: &bound) { pointer in
            pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
        }
        socket = fd
        self.render = render
        let limits = ConnectionLimits(deadline: connectionDeadline, maxConnections: max(1, maxConnections))
        let thread = Thread { [fd, render] in Self.serve(listener: fd, limits: limits, render: render) }
        thread.name = "metrics-http"
        thread.start()
    }

    /// Stops accepting; the thread ends at its next accept.
    public func stop() {
        Glibc.shutdown(socket, Int32(SHUT_RDWR))
    }

    private static func serve(listener: Int32, limits: ConnectionLimits, render: @escaping @Sendable () -> [UInt8]) {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE { continue }
                close(listener)
                return
            }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            guard limits.open.add(1, ordering: .acquiringAndReleasing).newValue <= limits.maxConnections else {
                // Full: a busy answer that never waits for the client, so the accept loop never stalls either.
                let busy = reply(503, "Service Unavailable", body: Array("busy; retry\n".utf8),
                                 extra: "Retry-After: 1\r\n")
                _ = busy.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
                close(client)
                limits.open.subtract(1, ordering: .acquiringAndReleasing)
                continue
            }
            let deadline = ContinuousClock.now + limits.deadline
            let connection = Thread {
                answer(client, by: deadline, render: render)
                close(client)
                limits.open.subtract(1, ordering: .acquiringAndReleasing)
            }
            connection.name = "metrics-conn"
            connection.start()
        }
    }

    /// Waits until `client` is ready for `events` or `deadline` passes; false when it passed (or the socket failed).
    private static func wait(_ client: Int32, for events: Int16, by deadline: ContinuousClock.Instant) -> Bool {
        while true {
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else { return false }
            let milliseconds = Int32(min(60_000, max(1, (left / .milliseconds(1)).rounded(.up))))
            var entry = pollfd(fd: client, events: events, revents: 0)
            let ready = poll(&entry, 1, milliseconds)
            if ready > 0 { return true }
            if ready < 0 && errno == EINTR { continue }
            if ready < 0 { return false }
        }
    }

    /// Reads the request head (at most 8 KiB) and writes one response by `deadline`; the connection is then closed.
    private static func answer(_ client: Int32, by deadline: ContinuousClock.Instant,
                               render: @Sendable () -> [UInt8]) {
        var head: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1024)
        while head.count < 8192 {
            guard wait(client, for: Int16(POLLIN), by: deadline) else { return }
            let n = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) { continue }
            if n <= 0 { return }
            head += chunk[..<n]
            if head.count >= 4 && head[...].containsTerminator { break }
        }
        let requestLine = head.split(separator: 0x0A, maxSplits: 1).first.map { String(decoding: $0, as: UTF8.self) }
        let parts = (requestLine ?? "").trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ")
        let response: [UInt8]
        if parts.count != 3 || !parts[2].hasPrefix("HTTP/1.") {
            response = reply(400, "Bad Request", body: Array("bad request\n".utf8))
        } else if parts[1] != "/metrics" && !parts[1].hasPrefix("/metrics?") {
            response = reply(404, "Not Found", body: Array("not found; try GET /metrics\n".utf8))
        } else if parts[0] != "GET" && parts[0] != "HEAD" {
            response = reply(405, "Method Not Allowed", body: Array("only GET\n".utf8), extra: "Allow: GET, HEAD\r\n")
        } else {
            let body = render()
            response = reply(200, "OK", body: parts[0] == "HEAD" ? [] : body, length: body.count,
                             contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        var sent = 0
        while sent < response.count {
            guard wait(client, for: Int16(POLLOUT), by: deadline) else { return }
            let n = response.withUnsafeBytes {
                send(client, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) { continue }
            if n <= 0 { return }
            sent += n
        }
    }

    private static func reply(_ code: Int, _ reason: String, body: [UInt8], length: Int? = nil,
                              contentType: String = "text/plain; charset=utf-8", extra: String = "") -> [UInt8] {
        let head = "HTTP/1.1 \(code) \(reason)\r\nContent-Type: \(contentType)\r\n"
            + "Content-Length: \(length ?? body.count)\r\nConnection: close\r\n\(extra)\r\n"
        return Array(head.utf8) + body
    }
}

extension ArraySlice<UInt8> {
    /// True when the bytes hold the blank line that ends an HTTP head.
    fileprivate var containsTerminator: Bool {
        guard count >= 4 else { return false }
        var index = startIndex
        while index + 3 < endIndex {
            if self[index] == 0x0D && self[index + 1] == 0x0A && self[index + 2] == 0x0D && self[index + 3] == 0x0A {
                return true
            }
            index += 1
        }
        return false
    }
}

/// The per-connection deadline and the bound on connections answered at once, shared with each connection's thread.
private final class ConnectionLimits: Sendable {
    let deadline: Duration
    let maxConnections: Int
    /// Connections accepted and not yet closed.
    let open = Atomic<Int>(0)

    init(deadline: Duration, maxConnections: Int) {
        self.deadline = deadline
        self.maxConnections = maxConnections
    }
}
