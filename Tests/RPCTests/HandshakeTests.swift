// Refusals at the TLS handshake: a client without a certificate, with one from another CA, or an
// expired one never reaches a handler; the client sees UNAVAILABLE.
import Testing
import RPC

@Suite("Mutual TLS refusals at the handshake")
struct HandshakeTests {
    private func refusal(client: String?, trust: String = "ca.pem") async throws -> (RPCError?, Int) {
        let fixture = try TestServer.start()
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        let channel = try fixture.channel(client: client, trust: trust)
        let error = await status {
            _ = try await channel.unary(path: TestService.path("Wait"), request: Array("x".utf8), options: .test)
        }
        // A control call with a good certificate proves the server was up and would have run the handler.
        let good = try fixture.channel()
        _ = try await good.unary(path: TestService.path("Echo"), request: [1], options: .test)
        return (error, fixture.probe.count("wait-started:x"))
    }

    @Test("a client without a certificate is refused")
    func noClientCertificate() async throws {
        let (error, handlerRuns) = try await refusal(client: nil)
        #expect(error?.code == .unavailable)
        #expect(handlerRuns == 0)
    }

    @Test("a client certificate from another CA is refused")
    func wrongCA() async throws {
        let (error, handlerRuns) = try await refusal(client: "client2")
        #expect(error?.code == .unavailable)
        #expect(handlerRuns == 0)
    }

    @Test("an expired client certificate is refused")
    func expiredCertificate() async throws {
        let (error, handlerRuns) = try await refusal(client: "expired")
        #expect(error?.code == .unavailable)
        #expect(handlerRuns == 0)
    }

    @Test("a client that does not trust the server's CA refuses the server")
    func clientRefusesUnknownServer() async throws {
        let (error, handlerRuns) = try await refusal(client: "client", trust: "ca2.pem")
        #expect(error?.code == .unavailable)
        #expect(handlerRuns == 0)
    }

    @Test("a plaintext client cannot talk to a TLS server")
    func plaintextToTLS() async throws {
        let fixture = try TestServer.start()
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        let channel = try fixture.insecureChannel()
        let error = await status {
            _ = try await channel.unary(path: TestService.path("Echo"), request: [1], options: .test)
        }
        #expect(error?.code == .unavailable)
    }
}
