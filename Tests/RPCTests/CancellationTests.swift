// Cancellation and deadlines: a client cancel or an expired deadline cancels the handler's task and
// marks its context; a server stream stops.
import Testing
import RPC

@Suite("Cancellation and deadlines")
struct CancellationTests {
    @Test("cancelling the client task cancels the unary handler")
    func clientCancelReachesHandler() async throws {
        let fixture = try TestServer.start()
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        let channel = try fixture.channel()
        let call = Task {
            await status {
                _ = try await channel.unary(path: TestService.path("Wait"), request: Array("c".utf8), options: .test)
            }
        }
        #expect(await fixture.probe.wait(for: "wait-started:c"))
        call.cancel()
        let error = await call.value
        #expect(error?.code == .cancelled)
        #expect(await fixture.probe.wait(for: "wait-cancelled:c"))
        #expect(await fixture.probe.wait(for: "wait-context-cancelled:c"))
    }

    @Test("an expired deadline fails the call with DEADLINE_EXCEEDED and cancels the handler")
    func deadlineExpiry() async throws {
        let fixture = try TestServer.start()
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        let channel = try fixture.channel()
        // Warm the connection so the deadline is spent in the handler, not in the handshake.
        _ = try await channel.unary(path: TestService.path("Echo"), request: [1], options: .test)
        let error = await status {
            _ = try await channel.unary(
                path: TestService.path("Wait"), request: Array("d".utf8), options: CallOptions(timeout: .seconds(2)))
        }
        #expect(error?.code == .deadlineExceeded)
        #expect(fixture.probe.count("wait-started:d") == 1)
        #expect(await fixture.probe.wait(for: "wait-cancelled:d"))
    }

    @Test("leaving a server stream early cancels it on the server")
    func streamStopsWhenClientLeaves() async throws {
        let fixture = try TestServer.start()
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        let channel = try fixture.channel()
        var received = 0
        for try await _ in channel.serverStreaming(
            path: TestService.path("Forever"), request: Array("s".utf8), options: .test)
        {
            received += 1
            if received == 5 { break }
        }
        #expect(received == 5)
        #expect(await fixture.probe.wait(for: "forever-ended:s"))
        #expect(await fixture.probe.wait(for: "forever-context-cancelled:s"))
    }

    @Test("a stream's deadline ends it on both sides")
    func streamDeadline() async throws {
        let fixture = try TestServer.start()
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        let channel = try fixture.channel()
        _ = try await channel.unary(path: TestService.path("Echo"), request: [1], options: .test)
        let error = await status {
            for try await _ in channel.serverStreaming(
                path: TestService.path("Forever"), request: Array("t".utf8), options: CallOptions(timeout: .seconds(2)))
            {}
        }
        #expect(error?.code == .deadlineExceeded)
        #expect(fixture.probe.count("forever-started:t") == 1)
        #expect(await fixture.probe.wait(for: "forever-ended:t"))
    }
}
