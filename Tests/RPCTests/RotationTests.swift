// Certificate rotation without restart: replaced files are used by new handshakes; open connections
// keep working; a client CA removed by rotation no longer gets in.
import Testing
import RPC

@Suite("Certificate rotation")
struct RotationTests {
    @Test("replacing the server certificate and the client CA on disk takes effect for new connections")
    func rotatesOnFileChange() async throws {
        let pki = try TestPKI.make()
        let fixture = try TestServer.start(pki: pki)
        defer { Task { await fixture.server.shutdown(grace: .zero) } }

        let established = try fixture.channel()
        _ = try await established.unary(path: TestService.path("Echo"), request: [1], options: .test)
        let before = await status {
            _ = try await fixture.channel(client: "client2", trust: "ca2.pem")
                .unary(path: TestService.path("Echo"), request: [1], options: .test)
        }
        #expect(before?.code == .unavailable)

        // Rotate to CA 2: the server's own certificate and the CA its clients must come from.
        try pki.replace("server.key", with: "server2.key")
        try pki.replace("server.pem", with: "server2.pem")
        try pki.replace("ca.pem", with: "ca2.pem")

        let rotated = try fixture.channel(client: "client2", trust: "ca2.pem")
        let echoed = try await rotated.unary(path: TestService.path("Echo"), request: [2], options: .test)
        #expect(echoed == [2])
        let peer = try await rotated.unary(path: TestService.path("Peer"), request: [], options: .test)
        #expect(String(decoding: peer, as: UTF8.self).hasPrefix("intruder|"))

        let oldClient = await status {
            _ = try await fixture.channel(client: "client", trust: "ca2.pem")
                .unary(path: TestService.path("Echo"), request: [3], options: .test)
        }
        #expect(oldClient?.code == .unavailable)

        // The connection made before the rotation continues.
        #expect(try await established.unary(path: TestService.path("Echo"), request: [4], options: .test) == [4])
    }

    @Test("a half-finished rotation (key not matching the certificate) keeps the previous material")
    func mismatchedPairKeepsOldMaterial() async throws {
        let pki = try TestPKI.make()
        let fixture = try TestServer.start(pki: pki)
        defer { Task { await fixture.server.shutdown(grace: .zero) } }
        try pki.replace("server.pem", with: "server2.pem")
        fixture.server.reloadCertificates()
        let channel = try fixture.channel()
        #expect(try await channel.unary(path: TestService.path("Echo"), request: [5], options: .test) == [5])
    }
}
