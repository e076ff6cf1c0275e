// Many calls ended in every way at once: completions racing cancellations must neither crash nor leak
// a call that blocks shutdown.
import Testing
import RPC

@Suite("Races between completion and cancellation")
struct StressTests {
    @Test("unary and stream calls cancelled at random points leave a healthy server that shuts down")
    func randomCancellations() async throws {
        let fixture = try TestServer.start()
        let channels = try (0..<3).map { _ in try fixture.channel() }
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<600 {
                let channel = channels[index % channels.count]
                group.addTask {
                    let call = Task {
                        switch index % 4 {
                        case 0:
                            _ = try await channel.unary(path: TestService.path("Echo"), request: [1, 2], options: .test)
                        case 1:
                            _ = try await channel.unary(
                                path: TestService.path("Slow"), request: Array("5".utf8), options: .test)
                        case 2:
                            for try await _ in channel.serverStreaming(
                                path: TestService.path("Count"), request: Array("50".utf8), options: .test) {}
                        default:
                            var seen = 0
                            for try await _ in channel.serverStreaming(
                                path: TestService.path("Forever"), request: Array("r".utf8), options: .test)
                            {
                                seen += 1
                                if seen > index % 7 { break }
                            }
                        }
                    }
                    if index % 3 == 0 {
                        try? await Task.sleep(for: .microseconds(index % 5 * 300))
                        call.cancel()
                    }
                    _ = await call.result
                }
            }
        }
        // The server still answers, and shutdown completes: no call object was lost or leaked a core ref.
        let echoed = try await channels[0].unary(path: TestService.path("Echo"), request: [9], options: .test)
        #expect(echoed == [9])
        let clock = ContinuousClock()
        let started = clock.now
        await fixture.server.shutdown(grace: .seconds(5))
        #expect(clock.now - started < .seconds(30))
    }
}
