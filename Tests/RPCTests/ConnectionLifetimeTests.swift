// Connection settings: a maximum connection age makes clients reconnect without failing calls.
import Testing
import RPC

@Suite("Connection lifetime")
struct ConnectionLifetimeTests {
    @Test("connections older than the maximum age are replaced while calls keep succeeding")
    func maxConnectionAge() async throws {
        let fixture = try TestServer.start {
            $0.keepalive.maxConnectionAge = .milliseconds(300)
            $0.keepalive.maxConnectionAgeGrace = .seconds(10)
        }
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        let channel = try fixture.channel()
        var addresses = Set<String>()
        var calls = 0
        let clock = ContinuousClock()
        let end = clock.now + .seconds(30)
        // A call that races the server's GOAWAY can fail UNAVAILABLE ("enter idle") in the 1.51 client: that status
        // is retryable by contract, so such a call is retried; any other failure fails the test.
        var raced = 0
        while addresses.count < 2 && clock.now < end {
            do {
                let answer = try await channel.unary(
                    path: TestService.path("Address"), request: [],
                    options: CallOptions(timeout: .seconds(30), waitForReady: true))
                addresses.insert(String(decoding: answer, as: UTF8.self))
                calls += 1
            } catch let error as RPCError where error.code == .unavailable {
                raced += 1
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(addresses.count >= 2, "still one connection after \(calls) calls")
        #expect(raced <= calls, "\(raced) calls failed UNAVAILABLE against \(calls) that succeeded")
        #expect(addresses.allSatisfy { $0.hasPrefix("ipv4:127.0.0.1:") })
    }
}
