// incidentctl: the security team's command line for incident-manager.
import ArgumentParser

@main
struct IncidentCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incidentctl",
        abstract: "Read, update and follow incidents; check rule changes before they ship.",
        discussion: """
        Connection: --server HOST:PORT (default 127.0.0.1:9090) with mutual TLS (--ca, --cert, --key) and an \
        optional bearer --token. Unset flags come from INCIDENTCTL_SERVER, INCIDENTCTL_CA, INCIDENTCTL_CERT, \
        INCIDENTCTL_KEY, INCIDENTCTL_TOKEN, or INCIDENTCTL_CERTS=DIR with INCIDENTCTL_IDENTITY=NAME (DIR/ca.crt, \
        DIR/NAME-client.crt, DIR/NAME-client.key); with none of these, certs/ and the identity secops are used \
        when they exist (the development certificates `make certs` writes).

        Exit codes:
          0   ok
          1   the server failed (INTERNAL, UNKNOWN, DATA_LOSS)
          64  usage: bad flags or arguments
          65  bad input data (INVALID_ARGUMENT, OUT_OF_RANGE, a bad --file)
          66  input file missing or unreadable
          69  UNAVAILABLE: the server cannot be reached or cannot serve now
          75  temporary: DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, CANCELLED,
              ABORTED (a stale --expected-version)
          77  PERMISSION_DENIED or UNAUTHENTICATED
          78  configuration: a CA, certificate or key file missing or
              unusable, a bad setting
          79  NOT_FOUND
          80  ALREADY_EXISTS (an event_id reused with different content)
          81  FAILED_PRECONDITION (a status move the life cycle forbids)
          82  UNIMPLEMENTED (this server does not support the request yet)
        """,
        subcommands: [
            CreateCommand.self, GetCommand.self, UpdateCommand.self, AckCommand.self, ResolveCommand.self,
            ListCommand.self, WatchCommand.self, Rules.self, Bench.self,
        ]
    )
}

/// Exit codes scripts can rely on (sysexits.h where one fits, 79-82 for the statuses it has no name for).
enum ExitStatus {
    static let serverFailure: Int32 = 1
    static let usage: Int32 = 64
    static let dataError: Int32 = 65
    static let noInput: Int32 = 66
    static let unavailable: Int32 = 69
    static let temporary: Int32 = 75
    static let permission: Int32 = 77
    static let config: Int32 = 78
    static let notFound: Int32 = 79
    static let alreadyExists: Int32 = 80
    static let failedPrecondition: Int32 = 81
    static let unimplemented: Int32 = 82
}
