// A tiny HTTP/1.1 responder for Prometheus scrapes: `GET /metrics` answers the exposition text, anything else
// 404 (or 405). One POSIX socket and one thread; a scrape is a handful of requests a minute, served one at a time
// with short socket timeouts so a stuck client cannot hold it for long.
import Foundation

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

    /// The port bound (useful when asked for port 0).
    public let port: Int
    private let socket: Int32
    private let render: @Sendable () -> [UInt8]

    /// Binds `address` (`HOST:PORT`, `[V6]:PORT`) and starts answering; `render` makes the body of each scrape.
    public init(address: String, render: @escaping @Sendable () -> [UInt8]) throws(StartError) {
        guard let colon = address.lastIndex(of: ":"), let portNumber = UInt16(address[address.index(after: colon)...])
        else { throw StartError(address: address, reason: "expected HOST:PORT") }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.isEmpty { host = "0.0.0.0" }

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
        let thread = Thread { [fd, render] in Self.serve(listener: fd, render: render) }
        thread.name = "metrics-http"
        thread.start()
    }

    /// Stops accepting; the thread ends at its next accept.
    public func stop() {
        Glibc.shutdown(socket, Int32(SHUT_RDWR))
    }

    private static func serve(listener: Int32, render: @Sendable () -> [UInt8]) {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE { continue }
                close(listener)
                return
            }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            var timeout = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            answer(client, render: render)
            close(client)
        }
    }

    /// Reads the request head (at most 8 KiB) and writes one response; the connection is then closed.
    private static func answer(_ client: Int32, render: @Sendable () -> [UInt8]) {
        var head: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1024)
        while head.count < 8192 {
            let n = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
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
            let n = response.withUnsafeBytes {
                send(client, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL))
            }
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
