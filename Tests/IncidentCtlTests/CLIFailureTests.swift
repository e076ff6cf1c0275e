// Every gRPC status a call can end with becomes one readable line and the exit code `--help` documents.
import RPC
import Testing
@testable import incidentctl

@Suite struct CLIFailureTests {
    static let server = "127.0.0.1:9090"

    @Test(arguments: [
        (StatusCode.invalidArgument, ExitStatus.dataError), (.outOfRange, ExitStatus.dataError),
        (.notFound, ExitStatus.notFound), (.alreadyExists, ExitStatus.alreadyExists),
        (.failedPrecondition, ExitStatus.failedPrecondition), (.aborted, ExitStatus.temporary),
        (.deadlineExceeded, ExitStatus.temporary), (.resourceExhausted, ExitStatus.temporary),
        (.cancelled, ExitStatus.temporary), (.permissionDenied, ExitStatus.permission),
        (.unauthenticated, ExitStatus.permission), (.unavailable, ExitStatus.unavailable),
        (.unimplemented, ExitStatus.unimplemented), (.internal, ExitStatus.serverFailure),
        (.unknown, ExitStatus.serverFailure), (.dataLoss, ExitStatus.serverFailure),
    ])
    func everyStatusHasItsExitCode(code: StatusCode, exit: Int32) {
        let failure = CLIFailure(RPCError(code, "something: went wrong"), server: Self.server)
        #expect(failure.exitCode == exit)
        #expect(!failure.message.contains("\n"))
        #expect(!failure.message.isEmpty)
    }

    @Test func notFoundNamesTheIncident() {
        let failure = CLIFailure(RPCError(.notFound, "incident INC-20260101-00001 not found"), server: Self.server,
                                 incidentID: "INC-20260101-00001")
        #expect(failure.message == "not found: incident INC-20260101-00001 does not exist")
    }

    @Test func overloadCarriesTheRetryHint() {
        var trailers = Metadata()
        trailers.addString("7", forKey: "retry-after")
        let failure = CLIFailure(RPCError(.resourceExhausted, "over its rate limit", trailingMetadata: trailers),
                                 server: Self.server)
        #expect(failure.message == "too busy: over its rate limit (retry after 7s)")
    }

    @Test func unavailableSaysWhatToCheck() {
        func message(_ text: String) -> CLIFailure { CLIFailure(RPCError(.unavailable, text), server: Self.server) }
        let refused = message("failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:9090: "
                              + "Failed to connect to remote host: Connection refused")
        #expect(refused.message == "cannot reach 127.0.0.1:9090: is the server running? (make run) "
                + "[Connection refused]")
        #expect(message("Socket closed").message.contains("--cert"))
        #expect(message("error:0A000086:SSL routines::certificate verify failed").exitCode == ExitStatus.config)
        #expect(message("empty address list: ").exitCode == ExitStatus.config)
        // The service's own UNAVAILABLE (its database is down) is passed on as it said it.
        #expect(message("the database is unavailable; retry").message
                == "unavailable: the database is unavailable; retry")
    }
}
