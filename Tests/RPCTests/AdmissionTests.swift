// The admission hook: it sees each call before its handler task exists, with its context (method, peer certificate,
// metadata), the request and the number of unary handlers in flight, and a refusal reaches the client as its status
// without the handler ever running.
import RPC
import Synchronization
import Testing

@Suite("Call admission")
struct AdmissionTests {
    @Test("a refused call gets the hook's status and never reaches its handler; admitted ones are served")
    func refusedBeforeTheHandler() async throws {
        let seen = Mutex<[(String, [UInt8]?, Int)]>([])
        let fixture = try TestServer.start { configuration in
            configuration.admission = { context, request, inFlight in
                let method = context.method
                seen.withLock { $0.append((method.method, request, inFlight)) }
                guard method.method == "Slow", request == Array("1".utf8) else { return .serve }
                return .refuse(RPCError(.resourceExhausted, "shed by admission"))
            }
        }
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        let channel = try fixture.channel()

        let refused = await status {
            _ = try await channel.unary(path: TestService.path("Slow"), request: Array("1".utf8), options: .test)
        }
        #expect(refused?.code == .resourceExhausted)
        #expect(refused?.message == "shed by admission")
        #expect(fixture.probe.count("slow-started") == 0)

        let answer = try await channel.unary(path: TestService.path("Slow"), request: Array("2".utf8), options: .test)
        #expect(answer == Array("done".utf8))
        #expect(fixture.probe.count("slow-started") == 1)
        #expect(seen.withLock { $0.map(\.0) } == ["Slow", "Slow"])
        #expect(seen.withLock { $0.map(\.1) } == [Array("1".utf8), Array("2".utf8)])
    }

    @Test("the hook sees the caller's certificate and request metadata, as the handler will")
    func hookSeesTheCaller() async throws {
        let seen = Mutex<[(peer: PeerIdentity?, token: String?)]>([])
        let fixture = try TestServer.start { configuration in
            configuration.admission = { context, _, _ in
                seen.withLock { $0.append((context.peer, context.requestMetadata.first("authorization"))) }
                return .serve
            }
        }
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        let channel = try fixture.channel()
        let options = CallOptions(timeout: .seconds(30), metadata: Metadata(["authorization": "Bearer t"]))
        let described = try await channel.unary(path: TestService.path("Peer"), request: [], options: options)
        let calls = seen.withLock { $0 }
        #expect(calls.count == 1)
        let peer = try #require(calls.first?.peer)
        // The handler describes the same certificate: common name first, fingerprint last.
        let fields = String(decoding: described, as: UTF8.self).split(separator: "|", omittingEmptySubsequences: false)
        #expect(fields.first.map(String.init) == peer.commonName)
        #expect(fields.last.map(String.init) == peer.fingerprintSHA256)
        #expect(calls.first?.token == "Bearer t")
    }

    @Test("a call admitted as urgent runs on the server's urgent thread, others on the shared executor")
    func urgentCallsRunOnTheirThread() async throws {
        let fixture = try TestServer.start { configuration in
            configuration.admission = { context, request, _ in
                context.method.method == "Thread" && request == Array("urgent".utf8) ? .serveUrgently : .serve
            }
        }
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        let channel = try fixture.channel()
        let urgent = try await channel.unary(path: TestService.path("Thread"), request: Array("urgent".utf8),
                                             options: .test)
        #expect(String(decoding: urgent, as: UTF8.self) == "rpc-urgent|rpc-urgent")
        let plain = try await channel.unary(path: TestService.path("Thread"), request: Array("plain".utf8),
                                            options: .test)
        #expect(!String(decoding: plain, as: UTF8.self).contains("rpc-urgent"))
    }

    @Test("the in-flight count the hook sees includes unary handlers still running, not streams")
    func countsUnaryHandlersInFlight() async throws {
        let counts = Mutex<[Int]>([])
        let fixture = try TestServer.start { configuration in
            configuration.admission = { context, _, inFlight in
                if context.method.method == "Echo" { counts.withLock { $0.append(inFlight) } }
                return .serve
            }
        }
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        let channel = try fixture.channel()
        // Three slow unary calls and a stream stay open while an Echo is admitted.
        let slow = (0..<3).map { _ in
            Task {
                try await channel.unary(path: TestService.path("Slow"), request: Array("3000".utf8), options: .test)
            }
        }
        let stream = Task {
            for try await _ in channel.serverStreaming(path: TestService.path("Count"), request: Array("1".utf8),
                                                       options: .test) {}
        }
        while fixture.probe.count("slow-started") < 3 { try await Task.sleep(for: .milliseconds(10)) }
        _ = try await channel.unary(path: TestService.path("Echo"), request: [1], options: .test)
        for task in slow { _ = try await task.value }
        try await stream.value
        // A handler's count drops just after its answer is sent: ask until the drop shows (bounded).
        for _ in 0..<100 {
            _ = try await channel.unary(path: TestService.path("Echo"), request: [2], options: .test)
            if counts.withLock({ $0.last }) == 0 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let seen = counts.withLock { $0 }
        #expect(seen.first == 3)
        #expect(seen.last == 0)
    }
}
