// The connection flags every server command shares.
import ArgumentParser
import Foundation

/// `--server`, the TLS files, `--token` and `--timeout`; unset ones fall back to INCIDENTCTL_* variables.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The server (env INCIDENTCTL_SERVER; default 127.0.0.1:9090).",
                                            valueName: "host:port"))
    var server: String?

    @Option(name: .long, help: ArgumentHelp("CA certificate the server's certificate must chain to "
                                            + "(env INCIDENTCTL_CA).", valueName: "file"))
    var ca: String?

    @Option(name: .long, help: ArgumentHelp("Client certificate (env INCIDENTCTL_CERT).", valueName: "file"))
    var cert: String?

    @Option(name: .long, help: ArgumentHelp("Client private key (env INCIDENTCTL_KEY).", valueName: "file"))
    var key: String?

    @Option(name: .long, help: ArgumentHelp("Directory with ca.crt and NAME-client.crt/.key "
                                            + "(env INCIDENTCTL_CERTS; default certs/ when present).",
                                            valueName: "dir"))
    var certs: String?

    @Option(name: .long, help: ArgumentHelp("Whose certificate to use from --certs (env INCIDENTCTL_IDENTITY; "
                                            + "default secops).", valueName: "name"))
    var identity: String?

    @Option(name: .long, help: ArgumentHelp("Bearer token sent as `authorization` metadata (env INCIDENTCTL_TOKEN).",
                                            valueName: "token"))
    var token: String?

    @Option(name: .long, help: ArgumentHelp("Seconds a call may take.", valueName: "seconds"))
    var timeout: Double = 15

    /// The profile these flags and the environment make.
    func profile() throws(CLIFailure) -> ConnectionProfile {
        try ConnectionProfile.resolve(
            flags: .init(server: server, ca: ca, cert: cert, key: key, certs: certs, identity: identity, token: token,
                         timeout: timeout),
            environment: ProcessInfo.processInfo.environment)
    }

    /// The server these flags name, for messages written before the profile is resolved.
    var serverForMessages: String {
        server ?? ProcessInfo.processInfo.environment["INCIDENTCTL_SERVER"] ?? ConnectionProfile.defaultServer
    }
}
