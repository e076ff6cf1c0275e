import IncidentCore
import IncidentStore
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

    @Test func storeFailuresACallerCanActOnAreRefusalsAndTheRestStayInternal() {
        let refusals: [(StoreError, DomainError.Code)] = [
            (.duplicateConflict(existingIncidentID: "INC-20261207-00001"), .alreadyExists),
            (.notFound(incidentID: "INC-20261207-00002"), .notFound),
            (.versionConflict(incidentID: "INC-20261207-00003", expected: 2, actual: 3), .aborted),
            (.overloaded(refusedPriority: .p3), .resourceExhausted),
            (.unavailable(reason: "connection refused on 10.0.0.5"), .unavailable),
            (.invalid(reason: "page_token: is not a token this server gave"), .invalidArgument),
        ]
        for (failure, code) in refusals {
            let refusal = DomainError(failure)
            #expect(refusal?.code == code, "\(failure)")
            #expect(refusal?.message.contains("10.0.0.5") == false, "no database detail reaches the caller")
        }
        #expect(DomainError(StoreError.internalFailure(reason: "SQLSTATE XX000")) == nil)
        #expect(DomainError(StoreError.schemaTooNew(database: 9, binary: 8)) == nil)
        let answered = RPCError.from(StoreError.internalFailure(reason: "SQLSTATE XX000"), log: ServerLog(),
                                     method: "GetIncident")
        #expect(answered.code == .internal && answered.message == "internal error")
    }
}
