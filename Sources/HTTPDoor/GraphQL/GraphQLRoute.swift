// POST /graphql: the GraphQL-over-HTTP door LLM-Governance-Core pulls reports through. The caller authenticates as
// on every route (bearer JWT or client certificate) and must hold `incident:read` (checked by the intake, once per
// request, before anything is parsed: introspection too is for authorised callers only). A request that cannot run
// (bad JSON, a syntax or validation error, over the depth or cost limit) is answered 400 with GraphQL's
// `{"errors":[…]}`; one that ran is 200 with `data` and any field errors, as GraphQL-over-HTTP has it for
// application/json.
import Foundation
import GraphQL
import HTTPTypes
import Hummingbird
import IncidentCore
import IncidentServer
import NIOCore

/// The `/graphql` route.
struct GraphQLRoute: Sendable {
    let intake: IncidentIntake
    let schema: GraphQLSchema
    let limits: GraphQLLimits
    let maxBodyBytes: Int
    let log: ServerLog

    /// The body GraphQL-over-HTTP clients send.
    private struct Body: Decodable {
        var query: String
        var variables: [String: Map]?
        var operationName: String?
    }

    init(intake: IncidentIntake, maxBodyBytes: Int, log: ServerLog, limits: GraphQLLimits = GraphQLLimits()) throws {
        self.intake = intake
        self.maxBodyBytes = maxBodyBytes
        self.log = log
        self.limits = limits
        // Field failures reach the caller worded like the door's other refusals; the server's own failures are
        // logged (without request text) and answered "internal error".
        schema = try IncidentGraphQLSchema.make { error in
            if let refusal = error as? GraphQLFieldRefusal { return refusal }
            return GraphQLFieldRefusal(description: DoorError.from(error, log: log, route: "POST /graphql").message)
        }
    }

    func add(to router: Router<DoorContext>) {
        router.post("/graphql") { request, context in try await self.answer(request, context) }
    }

    private func answer(_ request: Request, _ context: DoorContext) async throws -> Response {
        let identity = try await intake.caller(of: request, context: context)
        let reader = try intake.reportReader(for: identity)
        let bytes = try await IncidentRoutes.body(of: request, limit: maxBodyBytes)
        let body: Body
        do {
            body = try JSONDecoder().decode(Body.self, from: Data(bytes))
        } catch {
            return Self.refused("the body must be JSON: {\"query\": \"…\", \"variables\": {…}, \"operationName\": \"…\"}")
        }
        let document: Document
        do {
            document = try parse(source: Source(body: body.query, name: "GraphQL request"))
        } catch let error as GraphQLError {
            return Self.answer(.badRequest, GraphQLResult(errors: [error]))
        }
        let validationErrors = validate(schema: schema, ast: document)
        guard validationErrors.isEmpty else { return Self.answer(.badRequest, GraphQLResult(errors: validationErrors)) }
        let variables = body.variables ?? [:]
        if let refusal = limits.refusal(of: document, variables: variables) {
            return Self.answer(.badRequest, GraphQLResult(errors: [refusal]))
        }
        let result: GraphQLResult
        do {
            result = try await execute(schema: schema, documentAST: document, rootValue: (),
                                       context: GraphQLRequestContext(reader: reader), variableValues: variables,
                                       operationName: body.operationName)
        } catch let error as GraphQLError {
            // Errors before execution starts (an unknown operationName, bad variables) are the request's fault.
            return Self.answer(.badRequest, GraphQLResult(errors: [error]))
        }
        // No data at all means the operation never ran (variables that do not coerce, an unknown operationName):
        // the request's fault. Field errors come with data (the root fields are nullable) and are answered 200.
        return Self.answer(result.data == nil ? .badRequest : .ok, result)
    }

    private static func refused(_ message: String) -> Response {
        answer(.badRequest, GraphQLResult(errors: [GraphQLError(message: message)]))
    }

    private static func answer(_ status: HTTPResponse.Status, _ result: GraphQLResult) -> Response {
        // GraphQL's encoder keeps the order of the selection set, as the spec asks of responses.
        let data = (try? GraphQLJSONEncoder().encode(result)) ?? Data(#"{"errors":[{"message":"internal error"}]}"#.utf8)
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
