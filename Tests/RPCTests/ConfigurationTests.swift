// Start-up refusals with errors that say what to fix.
import Testing
@testable import RPC

@Suite("Server configuration")
struct ConfigurationTests {
    @Test("plaintext is refused on a non-loopback address unless forced")
    func insecureRefusedOffLoopback() throws {
        #expect(throws: ServerError.insecureOnNonLoopback(address: "0.0.0.0:0")) {
            _ = try Server(
                configuration: ServerConfiguration(listenAddresses: ["0.0.0.0:0"], security: .insecure()), services: [])
        }
        let forced = try Server(
            configuration: ServerConfiguration(listenAddresses: ["0.0.0.0:0"], security: .insecure(force: true)),
            services: [])
        #expect(forced.boundPorts.count == 1)
    }

    @Test("loopback addresses are recognised", arguments: [
        ("127.0.0.1:9090", true), ("localhost:1", true), ("[::1]:9090", true), ("ipv4:127.0.0.2:80", true),
        ("unix:/tmp/socket", true), ("0.0.0.0:9090", false), ("[::]:9090", false), ("10.0.0.1:9090", false),
        ("incidents.example.com:9090", false),
    ])
    func loopback(address: String, expected: Bool) {
        #expect(ServerConfiguration.isLoopback(address) == expected)
    }

    @Test("a missing certificate file names the file")
    func missingCertificate() {
        let pki = TestPKI.shared
        #expect(throws: ServerError.self) {
            _ = try Server(configuration: ServerConfiguration(
                listenAddresses: ["127.0.0.1:0"],
                security: .mutualTLS(
                    certificateChainPath: pki.path("nope.pem"), privateKeyPath: pki.path("server.key"),
                    clientCAPath: pki.path("ca.pem"))), services: [])
        }
        do {
            _ = try Server(configuration: ServerConfiguration(
                listenAddresses: ["127.0.0.1:0"],
                security: .tls(certificateChainPath: pki.path("nope.pem"), privateKeyPath: pki.path("server.key"))),
                services: [])
        } catch {
            #expect("\(error)".contains("nope.pem"))
        }
    }

    @Test("a key that does not belong to the certificate is refused")
    func mismatchedKey() {
        let pki = TestPKI.shared
        #expect(throws: ServerError.keyDoesNotMatchCertificate(
            certificatePath: pki.path("server.pem"), keyPath: pki.path("client.key"))) {
            _ = try Server(configuration: ServerConfiguration(
                listenAddresses: ["127.0.0.1:0"],
                security: .tls(certificateChainPath: pki.path("server.pem"), privateKeyPath: pki.path("client.key"))),
                services: [])
        }
    }

    @Test("a port already in use is a bind error")
    func portInUse() async throws {
        let first = try TestServer.start(security: .insecure())
        defer { Task { await first.server.shutdown(grace: .zero) } }
        #expect(throws: ServerError.bindFailed(address: "127.0.0.1:\(first.port)")) {
            _ = try Server(
                configuration: ServerConfiguration(listenAddresses: ["127.0.0.1:\(first.port)"], security: .insecure()),
                services: [])
        }
    }

    @Test("a method registered twice is refused")
    func duplicateMethod() {
        #expect(throws: ServerError.duplicateMethod(path: TestService.path("Echo"))) {
            _ = try Server(
                configuration: ServerConfiguration(listenAddresses: ["127.0.0.1:0"], security: .insecure()),
                services: [TestService(probe: Probe()), TestService(probe: Probe())])
        }
    }
}
