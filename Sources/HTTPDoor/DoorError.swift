// Every refusal the HTTP door answers, as one JSON shape: {"error":{"code","message"}}. Domain refusals take their
// status from IncidentServer's one table (DomainErrorAnswer), so HTTP and gRPC refuse the same things the same
// way; messages never echo secrets or event text, and the server's own failures say only "internal error".
import Foundation
import HTTPTypes
import Hummingbird
import IncidentCore
import IncidentServer
import IncidentStore
import NIOCore
import ProtoWire

/// A refusal with its HTTP status, a stable snake_case code and a message safe to show the caller.
struct DoorError: Error, Sendable {
    var status: HTTPResponse.Status
    var code: String
    var message: String
    /// Whole seconds for the Retry-After header (429 and 503).
    var retryAfterSeconds: Int?

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String, retryAfterSeconds: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.retryAfterSeconds = retryAfterSeconds
    }

    static func badRequest(_ message: String) -> DoorError { DoorError(.badRequest, "invalid_argument", message) }

    /// A refusal of the core, through the shared table.
    init(_ domain: DomainError) {
        let status = HTTPResponse.Status(code: DomainErrorAnswer.httpStatus(domain.code))
        self.init(status, Self.snakeCase(domain.code.rawValue), domain.message,
                  retryAfterSeconds: domain.retryAfterSeconds
                      ?? (domain.code == .resourceExhausted || domain.code == .unavailable ? 1 : nil))
    }

    /// The answer for anything a route threw; unexpected failures are logged (type only) and answered 500.
    static func from(_ error: any Error, log: ServerLog, route: String) -> DoorError {
        switch error {
        case let door as DoorError: return door
        case let domain as DomainError: return DoorError(domain)
        case let validation as EventValidationError: return DoorError(DomainError(validation))
        case let json as ProtoJSONError: return .badRequest("body: \(json.description)")
        case let failure as AuthenticationFailure:
            return failure.kind == .unauthenticated
                ? DoorError(.unauthorized, "unauthenticated", failure.message)
                : DoorError(.forbidden, "permission_denied", failure.message)
        case is NIOTooManyBytesError:
            return DoorError(.contentTooLarge, "payload_too_large", "the request body is larger than this server takes")
        case let store as StoreError:
            if let domain = DomainError(store) { return DoorError(domain) }
            // The database's own text may name tables or values: it goes to the log, never to the caller.
            log.error("http \(route): \(store)")
            return DoorError(.internalServerError, "internal", "internal error")
        case let http as any HTTPResponseError:
            switch http.status {
            case .notFound: return DoorError(.notFound, "not_found", "no such route")
            case .methodNotAllowed: return DoorError(.methodNotAllowed, "method_not_allowed", "method not allowed on this route")
            case .contentTooLarge:
                return DoorError(.contentTooLarge, "payload_too_large", "the request body is larger than this server takes")
            default: return DoorError(http.status, snakeCase(http.status.reasonPhrase), http.status.reasonPhrase)
            }
        default:
            log.error("http \(route): unexpected error \(type(of: error))")
            return DoorError(.internalServerError, "internal", "internal error")
        }
    }

    /// The JSON answer.
    var response: Response {
        var writer = JSONWriter()
        writer.beginObject()
        writer.writeName("error")
        writer.beginObject()
        writer.writeName("code")
        writer.writeString(code)
        writer.writeName("message")
        writer.writeString(message)
        writer.endObject()
        writer.endObject()
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfterSeconds { headers[.retryAfter] = String(retryAfterSeconds) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: writer.result)))
    }

    private static func snakeCase(_ name: String) -> String {
        var out = ""
        for character in name {
            if character.isUppercase {
                if !out.isEmpty { out.append("_") }
                out.append(contentsOf: character.lowercased())
            } else if character == " " || character == "-" {
                out.append("_")
            } else {
                out.append(character)
            }
        }
        return out
    }
}

/// Turns whatever a route or the router threw into a JSON error body, so no error leaves the door as Hummingbird's
/// empty default (an unknown route is `404` JSON too).
struct JSONErrorMiddleware: RouterMiddleware {
    typealias Context = DoorContext
    let log: ServerLog

    func handle(_ request: Request, context: DoorContext,
                next: (Request, DoorContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return DoorError.from(error, log: log, route: "\(request.method) \(request.uri.path)").response
        }
    }
}
