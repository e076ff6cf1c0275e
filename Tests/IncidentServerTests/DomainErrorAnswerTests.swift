import IncidentCore
import RPC
import Testing
@testable import IncidentServer

/// The one table from domain refusals to each door's status: gRPC today, HTTP for the REST door.
@Suite struct DomainErrorAnswerTests {
    @Test(arguments: [
        (DomainError.Code.invalidArgument, StatusCode.invalidArgument, 400),
        (.permissionDenied, .permissionDenied, 403),
        (.notFound, .notFound, 404),
        (.aborted, .aborted, 409),
        (.alreadyExists, .alreadyExists, 409),
        (.failedPrecondition, .failedPrecondition, 412),
        (.resourceExhausted, .resourceExhausted, 429),
        (.unavailable, .unavailable, 503),
    ])
    func mapsEachCodeOnce(code: DomainError.Code, grpc: StatusCode, http: Int) {
        #expect(DomainErrorAnswer.row(code).grpc == grpc)
        #expect(DomainErrorAnswer.httpStatus(code) == http)
    }

    @Test func everyCodeHasAnHTTPClientOrServerError() {
        for code in DomainError.Code.allCases {
            #expect((400..<600).contains(DomainErrorAnswer.httpStatus(code)), "\(code)")
        }
    }

    @Test func keepsTheMessageAndSendsRetryAfter() {
        let status = RPCError(DomainError(.resourceExhausted, "identity x is over its rate limit; retry after 3s",
                                          retryAfterSeconds: 3))
        #expect(status.code == .resourceExhausted)
        #expect(status.message == "identity x is over its rate limit; retry after 3s")
        #expect(status.trailingMetadata.values("retry-after") == [.string("3")])
        let plain = RPCError(DomainError(.notFound, "action_decisions[0]: action a does not exist"))
        #expect(plain.trailingMetadata.values("retry-after").isEmpty)
    }
}
