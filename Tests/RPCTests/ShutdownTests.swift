// Graceful shutdown: unary calls in flight finish within the grace period, streams end with
// UNAVAILABLE, what outlives the grace period is cancelled, and no new call is accepted.
import Testing
import RPC

@Suite("Graceful shutdown")
struct ShutdownTests {
    @Test("an in-flight unary call finishes and a stream ends with UNAVAILABLE")
    func drains() async throws {
        let fixture = try TestServer.start()
        let channel = try fixture.channel()
        let slow = Task {
            try await channel.unary(path: TestService.path("Slow"), request: Array("700".utf8), options: .test)
        }
        let stream = Task {
            await status {
                for try await _ in channel.serverStreaming(
                    path: TestService.path("Forever"), request: Array("g".utf8), options: .test) {}
            }
        }
        #expect(await fixture.probe.wait(for: "slow-started"))
        #expect(await fixture.probe.wait(for: "forever-started:g"))
        await fixture.server.shutdown(grace: .seconds(60))
        #expect(String(decoding: try await slow.value, as: UTF8.self) == "done")
        let streamError = await stream.value
        #expect(streamError?.code == .unavailable)
        #expect(await fixture.probe.wait(for: "forever-ended:g"))

        let after = await status {
            _ = try await channel.unary(path: TestService.path("Echo"), request: [1], options: .test)
        }
        #expect(after?.code == .unavailable)
    }

    @Test("calls still running when the grace period ends are cancelled")
    func cancelsAfterGrace() async throws {
        let fixture = try TestServer.start()
        let channel = try fixture.channel()
        let waiting = Task {
            await status {
                _ = try await channel.unary(path: TestService.path("Wait"), request: Array("w".utf8), options: .test)
            }
        }
        #expect(await fixture.probe.wait(for: "wait-started:w"))
        let clock = ContinuousClock()
        let started = clock.now
        await fixture.server.shutdown(grace: .milliseconds(300))
        #expect(clock.now - started < .seconds(25))
        #expect(fixture.probe.count("wait-cancelled:w") == 1)
        let error = await waiting.value
        #expect(error != nil)
    }

    @Test("a handler that ignores cancellation does not hold shutdown forever, and may still finish later")
    func uncooperativeHandler() async throws {
        let fixture = try TestServer.start()
        let channel = try fixture.channel()
        let call = Task {
            await status { _ = try await channel.unary(path: TestService.path("Stubborn"), request: [], options: .test) }
        }
        #expect(await fixture.probe.wait(for: "stubborn-started"))
        let clock = ContinuousClock()
        let started = clock.now
        await fixture.server.shutdown(grace: .milliseconds(200))
        #expect(clock.now - started < .seconds(25))
        #expect(await call.value != nil)
        // The handler ends after shutdown: its final batch must meet a live completion queue, not abort.
        fixture.gate.open()
        #expect(await fixture.probe.wait(for: "stubborn-finished"))
        // Give the final batch time to reach the core; a shut-down queue would abort the test process here.
        try await Task.sleep(for: .milliseconds(300))
    }

    @Test("shutting down twice, or a server never started, is harmless")
    func repeatedShutdown() async throws {
        let fixture = try TestServer.start()
        await fixture.server.shutdown(grace: .seconds(1))
        await fixture.server.shutdown(grace: .seconds(1))
        let idle = try Server(
            configuration: ServerConfiguration(listenAddresses: ["127.0.0.1:0"], security: .insecure()), services: [])
        await idle.shutdown()
        await idle.waitUntilTerminated()
    }
}
