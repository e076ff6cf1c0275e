// incident-server's command line over the environment over the config file; bad configs name the key.
import Foundation
import IncidentCore
import IncidentServer
import Testing

@Suite("incident-server options")
struct ServerOptionsTests {
    let pki = ServicePKI.shared

    @Test("--certs names the three files; explicit TLS flags win over it")
    func certsShorthand() throws {
        var options = try ServerOptions(arguments: ["--certs", pki.directory, "--tls-cert", pki.path("server.pem"),
                                                    "--tls-key=" + pki.path("server.key"),
                                                    "--client-ca", pki.path("ca.pem"), "--database-url", "postgresql://x"])
        var config = try options.resolve(environment: [:])
        #expect(config.tls == TLSFiles(certificateChain: pki.path("server.pem"), privateKey: pki.path("server.key"),
                                       clientCA: pki.path("ca.pem")))
        options = try ServerOptions(arguments: ["--certs", "/nonexistent", "--database-url", "postgresql://x"])
        let error = #expect(throws: ConfigError.self) { try options.resolve(environment: [:]) }
        #expect(error?.key == "tls.cert")
        #expect(error?.description.contains("/nonexistent/server.crt") == true)
        options = try ServerOptions(arguments: ["--tls-cert", pki.path("server.pem"), "--tls-key", pki.path("server.key"),
                                                "--client-ca", pki.path("ca.pem")])
        config = try options.resolve(environment: ["DATABASE_URL": "postgresql://env"])
        #expect(config.databaseURL == "postgresql://env")
    }

    @Test("flags win over INCIDENT_LISTEN and DATABASE_URL, which win over the file")
    func precedence() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID().uuidString).yaml").path
        try "server:\n  listen: [\"127.0.0.1:7000\"]\n  database_url: postgresql://file\n".write(
            toFile: file, atomically: true, encoding: .utf8)
        let tls = ["--tls-cert", pki.path("server.pem"), "--tls-key", pki.path("server.key"),
                   "--client-ca", pki.path("ca.pem")]
        let fromFile = try ServerOptions(arguments: ["--config", file] + tls).resolve(environment: [:])
        #expect(fromFile.listen == ["127.0.0.1:7000"])
        #expect(fromFile.databaseURL == "postgresql://file")
        let environment = ["INCIDENT_LISTEN": "127.0.0.1:7001, 127.0.0.1:7002", "DATABASE_URL": "postgresql://env"]
        let fromEnvironment = try ServerOptions(arguments: ["--config", file] + tls).resolve(environment: environment)
        #expect(fromEnvironment.listen == ["127.0.0.1:7001", "127.0.0.1:7002"])
        #expect(fromEnvironment.databaseURL == "postgresql://env")
        let fromFlags = try ServerOptions(arguments: ["--config", file, "--listen", "127.0.0.1:7003",
                                                      "--database-url", "postgresql://flag"] + tls)
            .resolve(environment: environment)
        #expect(fromFlags.listen == ["127.0.0.1:7003"])
        #expect(fromFlags.databaseURL == "postgresql://flag")
    }

    @Test("unknown flags and missing values are usage errors")
    func usage() {
        #expect(throws: UsageError.self) { try ServerOptions(arguments: ["--bogus", "1"]) }
        #expect(throws: UsageError.self) { try ServerOptions(arguments: ["--listen"]) }
    }
}
