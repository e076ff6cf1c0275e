// Client-streaming and bidirectional calls over mutual TLS: requests read one at a time, responses
// interleaved with them, statuses, cancellation, deadlines, the receive limit and graceful shutdown.
import Testing
import RPC

@Suite("Streamed requests")
struct StreamedRequestTests {
    /// Sends `messages`, then collects every response.
    static func exchange(
        _ channel: Channel, _ method: String, _ messages: [String], options: CallOptions = .test
    ) async throws -> [String] {
        try await channel.bidirectionalStreaming(
            path: TestService.path(method), options: options,
            requests: { writer in
                for message in messages { try await writer.write(Array(message.utf8)) }
            },
            responses: { stream in
                var received: [String] = []
                for try await message in stream { received.append(String(decoding: message, as: UTF8.self)) }
                return received
            })
    }

    @Test("a client stream's requests all reach the handler, which answers once")
    func clientStreaming() async throws {
        let fixture = try TestServer.start()
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        let channel = try fixture.channel()
        #expect(try await Self.exchange(channel, "Sum", (1...1000).map(String.init)) == ["500500"])
        #expect(try await Self.exchange(channel, "Sum", []) == ["0"])
    }

    @Test("a bidirectional stream answers each request before the next one is sent")
    func lockstep() async throws {
        let fixture = try TestServer.start()
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        let channel = try fixture.channel()
        // Each request is sent only after the previous answer arrived: the handler must read and answer one at a
        // time, not wait for the end of the requests.
        let (turns, continuation) = AsyncStream<Int>.makeStream()
        let answers = try await channel.bidirectionalStreaming(
            path: TestService.path("Chat"), options: .test,
            requests: { writer in
                try await writer.write(Array("0".utf8))
                for await turn in turns {
                    if turn == 100 { return }
                    try await writer.write(Array(String(turn).utf8))
                }
            },
            responses: { stream in
                var received: [String] = []
                for try await message in stream {
                    received.append(String(decoding: message, as: UTF8.self))
                    continuation.yield(received.count)
                }
                return received
            })
        #expect(answers == (0..<100).map { "echo:\($0)" })
    }

    @Test("a handler's error status ends a bidirectional stream and reaches the client")
    func errorStatus() async throws {
        let fixture = try TestServer.start()
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        let channel = try fixture.channel()
        let error = await status { _ = try await Self.exchange(channel, "Chat", ["a", "b", "fail", "c"]) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message == "asked to fail")
        // The status wins even while the client is still sending (its writes then fail).
        let busy = await status {
            let many = (0..<2000).map { String(repeating: "x", count: $0) }
            _ = try await Self.exchange(channel, "Chat", ["fail"] + many)
        }
        #expect(busy?.code == .invalidArgument)
    }

    @Test("an error thrown while sending requests cancels the call and is what the caller sees")
    func requestSideError() async throws {
        let fixture = try TestServer.start()
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        let channel = try fixture.channel()
        let probe = fixture.probe
        await #expect(throws: SecretFailure.self) {
            try await channel.bidirectionalStreaming(
                path: TestService.path("Listen"), options: .test,
                requests: { writer in
                    try await writer.write(Array("e".utf8))
                    _ = await probe.wait(for: "listen-started:e")
                    throw SecretFailure(detail: "the producer broke")
                },
                responses: { stream in for try await _ in stream {} })
        }
        #expect(await fixture.probe.wait(for: "listen-ended:e:CANCELLED"))
    }

    @Test("cancelling the client task cancels the handler waiting for requests")
    func clientCancel() async throws {
        let fixture = try TestServer.start()
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        let channel = try fixture.channel()
        let call = Task {
            await status {
                _ = try await channel.bidirectionalStreaming(
                    path: TestService.path("Listen"), options: .test,
                    requests: { writer in
                        try await writer.write(Array("c".utf8))
                        try await Task.sleep(for: .seconds(600))
                    },
                    responses: { stream in for try await _ in stream {} })
            }
        }
        #expect(await fixture.probe.wait(for: "listen-started:c"))
        call.cancel()
        #expect(await call.value != nil)
        #expect(await fixture.probe.wait(for: "listen-ended:c:CANCELLED"))
        #expect(await fixture.probe.wait(for: "listen-context-cancelled:c"))
    }

    @Test("an expired deadline ends a bidirectional stream on both sides")
    func deadline() async throws {
        let fixture = try TestServer.start()
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        let channel = try fixture.channel()
        _ = try await channel.unary(path: TestService.path("Echo"), request: [1], options: .test)
        let error = await status {
            _ = try await channel.bidirectionalStreaming(
                path: TestService.path("Listen"), options: CallOptions(timeout: .seconds(2)),
                requests: { writer in
                    try await writer.write(Array("d".utf8))
                    try await Task.sleep(for: .seconds(600))
                },
                responses: { stream in for try await _ in stream {} })
        }
        #expect(error?.code == .deadlineExceeded)
        #expect(fixture.probe.count("listen-started:d") == 1)
        #expect(await fixture.probe.wait(for: "listen-ended:d:CANCELLED"))
    }

    @Test("a streamed request above the receive limit is RESOURCE_EXHAUSTED")
    func oversizeRequest() async throws {
        let fixture = try TestServer.start { $0.maxReceiveMessageBytes = 64 * 1024 }
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        let channel = try fixture.channel()
        let atLimit = String(repeating: "7", count: 64 * 1024)
        #expect(try await Self.exchange(channel, "Chat", [atLimit]) == ["echo:" + atLimit])
        let error = await status { _ = try await Self.exchange(channel, "Chat", ["1", atLimit + "7"]) }
        #expect(error?.code == .resourceExhausted)
    }

    @Test("shutdown ends a bidirectional stream with UNAVAILABLE and its handler's read fails")
    func shutdown() async throws {
        let fixture = try TestServer.start()
        let channel = try fixture.channel()
        let call = Task {
            await status {
                _ = try await channel.bidirectionalStreaming(
                    path: TestService.path("Listen"), options: .test,
                    requests: { writer in
                        try await writer.write(Array("s".utf8))
                        try await Task.sleep(for: .seconds(600))
                    },
                    responses: { stream in for try await _ in stream {} })
            }
        }
        #expect(await fixture.probe.wait(for: "listen-started:s"))
        await fixture.server.shutdown(grace: .seconds(60))
        #expect(await call.value?.code == .unavailable)
        #expect(await fixture.probe.wait(for: "listen-ended:s:UNAVAILABLE"))
    }

    @Test("a client that half-closes ends the handler's request stream")
    func halfClose() async throws {
        let fixture = try TestServer.start()
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        let channel = try fixture.channel()
        #expect(try await Self.exchange(channel, "Listen", ["h", "x", "y"]) == ["ready"])
        #expect(await fixture.probe.wait(for: "listen-half-closed:h"))
    }
}
