// Which settings incidentctl connects with: flags over INCIDENTCTL_* variables over ./certs, field by field.
import Testing
@testable import incidentctl

@Suite struct ConnectionProfileTests {
    typealias Flags = ConnectionProfile.Flags
    static let noFlags = Flags(timeout: 15)

    static func resolve(_ flags: Flags = noFlags, _ environment: [String: String] = [:],
                        existing: Set<String> = []) throws -> ConnectionProfile {
        try ConnectionProfile.resolve(flags: flags, environment: environment, fileExists: { existing.contains($0) })
    }

    @Test func developmentCertificatesAreTheDefaultWhenAllThreeExist() throws {
        let files: Set = ["certs/ca.crt", "certs/secops-client.crt", "certs/secops-client.key"]
        let profile = try Self.resolve(existing: files)
        #expect(profile.server == "127.0.0.1:9090")
        #expect(profile.caPath == "certs/ca.crt")
        #expect(profile.certificatePath == "certs/secops-client.crt")
        #expect(profile.keyPath == "certs/secops-client.key")

        let incomplete = #expect(throws: CLIFailure.self) {
            try Self.resolve(existing: ["certs/ca.crt", "certs/secops-client.crt"])
        }
        #expect(incomplete?.exitCode == ExitStatus.config)
        #expect(incomplete?.message.contains("no client certificate") == true)
    }

    @Test func aCertificatesDirectoryAndIdentityNameTheThreeFiles() throws {
        let profile = try Self.resolve(Self.noFlags, ["INCIDENTCTL_CERTS": "/pki", "INCIDENTCTL_IDENTITY": "viewer",
                                                      "INCIDENTCTL_SERVER": "incidents:9443"])
        #expect(profile.server == "incidents:9443")
        #expect(profile.caPath == "/pki/ca.crt")
        #expect(profile.certificatePath == "/pki/viewer-client.crt")
        #expect(profile.keyPath == "/pki/viewer-client.key")
        // Without an identity the directory means the operator's certificate.
        #expect(try Self.resolve(Self.noFlags, ["INCIDENTCTL_CERTS": "/pki"]).keyPath == "/pki/secops-client.key")
    }

    @Test func flagsBeatTheEnvironmentFieldByField() throws {
        var flags = Self.noFlags
        flags.server = "127.0.0.1:1234"
        flags.cert = "/mine.crt"
        flags.key = "/mine.key"
        flags.token = "from-flag"
        let environment = ["INCIDENTCTL_CERTS": "/pki", "INCIDENTCTL_SERVER": "elsewhere:9090",
                           "INCIDENTCTL_KEY": "/env.key", "INCIDENTCTL_TOKEN": "from-env"]
        let profile = try Self.resolve(flags, environment)
        #expect(profile.server == "127.0.0.1:1234")
        #expect(profile.caPath == "/pki/ca.crt")
        #expect(profile.certificatePath == "/mine.crt")
        #expect(profile.keyPath == "/mine.key")
        #expect(profile.token == "from-flag")
        #expect(try Self.resolve(Self.noFlags, environment.merging(["INCIDENTCTL_CERT": "/env.crt"]) { $1 }).keyPath
                == "/env.key")
    }

    @Test func explicitFilesTurnTheDevelopmentDefaultOff() throws {
        let files: Set = ["certs/ca.crt", "certs/secops-client.crt", "certs/secops-client.key"]
        var flags = Self.noFlags
        flags.cert = "/mine.crt"
        flags.key = "/mine.key"
        let profile = try Self.resolve(flags, existing: files)
        #expect(profile.caPath == nil, "the system roots, not the development CA")
    }

    @Test func halfAPairOrAnIdentityWithoutADirectoryIsAConfigError() {
        var flags = Self.noFlags
        flags.cert = "/mine.crt"
        let half = #expect(throws: CLIFailure.self) { try Self.resolve(flags) }
        #expect(half?.exitCode == ExitStatus.config)
        #expect(half?.message.contains("--key") == true)
        let identity = #expect(throws: CLIFailure.self) {
            try Self.resolve(Self.noFlags, ["INCIDENTCTL_IDENTITY": "x"])
        }
        #expect(identity?.message.contains("INCIDENTCTL_CERTS") == true)
    }

    @Test func theTokenGoesOutAsABearerAuthorization() throws {
        var flags = Self.noFlags
        flags.ca = "/ca"
        flags.cert = "/c"
        flags.key = "/k"
        flags.token = "Bearer abc"
        let options = try Self.resolve(flags).callOptions()
        #expect(options.metadata.first("authorization") == "Bearer abc")
        #expect(options.timeout == .seconds(15))
        flags.token = "abc"
        #expect(try Self.resolve(flags).callOptions(deadline: false).metadata.first("authorization") == "Bearer abc")
        #expect(try Self.resolve(flags).callOptions(deadline: false).timeout == nil)
    }
}
