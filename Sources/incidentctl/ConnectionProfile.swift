// Where incidentctl connects and as whom: flags first, then INCIDENTCTL_* variables, then the development
// certificates in ./certs, resolved into a channel and the options every call carries.
import Foundation
import IncidentAPI
import RPC

/// The settings one run connects with, after flags, environment and defaults were weighed.
struct ConnectionProfile: Equatable {
    var server: String
    /// Trust roots for the server's certificate; nil uses the system roots.
    var caPath: String?
    var certificatePath: String?
    var keyPath: String?
    var token: String?
    var timeout: Double

    static let defaultServer = "127.0.0.1:9090"
    static let defaultIdentity = "secops"
    static let defaultCertsDirectory = "certs"

    /// The flag values a user gave (nil when not given).
    struct Flags {
        var server: String?
        var ca: String?
        var cert: String?
        var key: String?
        var certs: String?
        var identity: String?
        var token: String?
        var timeout: Double
    }

    /// Weighs flags over the environment over the development default, field by field.
    ///
    /// `fileExists` is asked only about the development default, so `certs/` is used only when it is complete.
    static func resolve(flags: Flags, environment: [String: String],
                        fileExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) })
        throws(CLIFailure) -> ConnectionProfile
    {
        func env(_ name: String) -> String? {
            guard let value = environment[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else {
                return nil
            }
            return value
        }
        // A certificates directory and identity stand for the three files `make-dev-certs.sh` names.
        var directory = flags.certs ?? env("INCIDENTCTL_CERTS")
        let identity = flags.identity ?? env("INCIDENTCTL_IDENTITY")
        let explicitAny = [flags.ca, flags.cert, flags.key, env("INCIDENTCTL_CA"), env("INCIDENTCTL_CERT"),
                           env("INCIDENTCTL_KEY")].contains { $0 != nil }
        if directory == nil && identity != nil {
            throw CLIFailure("an identity (\(identity!)) needs a certificates directory: set --certs DIR or "
                             + "INCIDENTCTL_CERTS", exitCode: ExitStatus.config)
        }
        if directory == nil && !explicitAny {
            let fallback = bundle(defaultCertsDirectory, defaultIdentity)
            if fileExists(fallback.ca) && fileExists(fallback.cert) && fileExists(fallback.key) {
                directory = defaultCertsDirectory
            }
        }
        let fromDirectory = directory.map { bundle($0, identity ?? defaultIdentity) }
        let profile = ConnectionProfile(
            server: flags.server ?? env("INCIDENTCTL_SERVER") ?? defaultServer,
            caPath: flags.ca ?? env("INCIDENTCTL_CA") ?? fromDirectory?.ca,
            certificatePath: flags.cert ?? env("INCIDENTCTL_CERT") ?? fromDirectory?.cert,
            keyPath: flags.key ?? env("INCIDENTCTL_KEY") ?? fromDirectory?.key,
            token: flags.token ?? env("INCIDENTCTL_TOKEN"),
            timeout: flags.timeout)
        if (profile.certificatePath == nil) != (profile.keyPath == nil) {
            throw CLIFailure("a client certificate needs its key and a key its certificate: set both --cert and --key "
                             + "(or INCIDENTCTL_CERT and INCIDENTCTL_KEY)", exitCode: ExitStatus.config)
        }
        if profile.certificatePath == nil {
            throw CLIFailure("no client certificate: the server requires mutual TLS; set --ca, --cert and --key, or "
                             + "INCIDENTCTL_CERTS=DIR and INCIDENTCTL_IDENTITY=NAME (run `make certs` for certs/)",
                             exitCode: ExitStatus.config)
        }
        guard profile.timeout > 0, profile.timeout.isFinite else {
            throw CLIFailure("--timeout must be a positive number of seconds", exitCode: ExitStatus.usage)
        }
        return profile
    }

    private static func bundle(_ directory: String, _ identity: String) -> (ca: String, cert: String, key: String) {
        let base = URL(fileURLWithPath: directory, isDirectory: true)
        return (base.appendingPathComponent("ca.crt").relativePath,
                base.appendingPathComponent("\(identity)-client.crt").relativePath,
                base.appendingPathComponent("\(identity)-client.key").relativePath)
    }

    /// Checks each file before the channel reads it, so the message says which role the missing file plays.
    func checkFiles() throws(CLIFailure) {
        let files = [("CA certificate", caPath), ("client certificate", certificatePath), ("client key", keyPath)]
        for case let (role, path?) in files {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw CLIFailure("\(role) file \(path) does not exist", exitCode: ExitStatus.config)
            }
            guard !isDirectory.boolValue, FileManager.default.isReadableFile(atPath: path) else {
                throw CLIFailure("\(role) file \(path) is not a readable file", exitCode: ExitStatus.config)
            }
        }
    }

    /// A channel to the server with this profile's TLS material.
    func channel() throws(CLIFailure) -> Channel {
        try checkFiles()
        // The core logs TLS and connection trouble to stderr; the one-line message says it better. A
        // GRPC_VERBOSITY the user set is kept, for debugging.
        setenv("GRPC_VERBOSITY", "NONE", 0)
        let security: ChannelSecurity
        if let certificatePath, let keyPath {
            security = .mutualTLS(trustRootsPath: caPath ?? "/etc/ssl/certs/ca-certificates.crt",
                                  certificateChainPath: certificatePath, privateKeyPath: keyPath)
        } else {
            security = .tls(trustRootsPath: caPath)
        }
        do {
            return try Channel(configuration: ChannelConfiguration(target: server, security: security))
        } catch {
            throw CLIFailure(error.description, exitCode: ExitStatus.config)
        }
    }

    /// The IncidentService client over a fresh channel.
    func client() throws(CLIFailure) -> IncidentServiceClient {
        IncidentServiceClient(transport: try channel())
    }

    /// Options for a call: the deadline (none for streams) and the bearer token when one is set.
    func callOptions(deadline: Bool = true) -> CallOptions {
        var metadata = Metadata()
        if var token, !token.isEmpty {
            if token.lowercased().hasPrefix("bearer ") { token = String(token.dropFirst(7)) }
            metadata.addString("Bearer \(token)", forKey: "authorization")
        }
        return CallOptions(timeout: deadline ? .milliseconds(Int64(timeout * 1000)) : nil, metadata: metadata)
    }
}
