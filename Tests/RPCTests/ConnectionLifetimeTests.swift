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
        while addresses.count < 2 && clock.now < end {
            let answer = try await channel.unary(
                path: TestService.path("Address"), request: [],
                options: CallOptions(timeout: .seconds(30), waitForReady: true))
            addresses.insert(String(decoding: answer, as: UTF8.self))
            calls += 1
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(addresses.count >= 2, "still one connection after \(calls) calls")
        #expect(addresses.allSatisfy { $0.hasPrefix("ipv4:127.0.0.1:") })
    }
}
