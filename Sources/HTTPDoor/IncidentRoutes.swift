// The REST reads and updates of incidents and the health check: each route authenticates, translates the HTTP
// request into the intake's transport-neutral values (the same ones the gRPC handler builds) and the outcome into
// proto3 JSON, the mapping grpcurl prints. No business rule lives here.
import Foundation
import HTTPTypes
import Hummingbird
import IncidentAPI
import IncidentCore
import IncidentServer
import NIOCore
import ProtoWire

/// The `/api/v1/incidents` routes, `/api/v1/health` and the HTML page `/incidents/{id}`.
struct IncidentRoutes: Sendable {
    let intake: IncidentIntake
    let health: HealthService
    let maxBodyBytes: Int

    /// The query parameters `GET /api/v1/incidents` takes (each may repeat or hold a comma-separated list).
    static let listParameters: Set<String> = [
        "severity", "status", "category", "created_after", "created_before", "assigned_team", "page_token", "page_size",
    ]

    func add(to router: Router<DoorContext>) {
        router.get("/api/v1/health") { _, _ in try await self.healthCheck() }
        router.get("/api/v1/incidents") { request, context in try await self.list(request, context) }
        router.get("/api/v1/incidents/:id") { request, context in
            let identity = try await intake.caller(of: request, context: context)
            let view = try await intake.incident(try context.parameters.require("id"), by: identity)
            return Self.json(.ok, IncidentAPI.Incident(view).jsonString())
        }
        router.patch("/api/v1/incidents/:id") { request, context in try await self.update(request, context) }
        router.get("/incidents/:id") { request, context in
            let identity = try await intake.caller(of: request, context: context)
            let view = try await intake.incident(try context.parameters.require("id"), by: identity)
            guard case .full(let incident, _) = view else { throw DoorError(.notFound, "not_found", "no such incident") }
            return IncidentPage.response(for: incident)
        }
    }

    /// 200 `{"status":"SERVING"}` while the database answers, else 503 `NOT_SERVING`: the gRPC health service's
    /// answer, open to any caller that completed the TLS handshake.
    private func healthCheck() async throws -> Response {
        if await health.isServing() { return Self.json(.ok, #"{"status":"SERVING"}"#) }
        var response = Self.json(.serviceUnavailable, #"{"status":"NOT_SERVING"}"#)
        response.headers[.retryAfter] = "1"
        return response
    }

    private func list(_ request: Request, _ context: DoorContext) async throws -> Response {
        let identity = try await intake.caller(of: request, context: context)
        let query = request.uri.queryParameters
        var values: [String: [String]] = [:]
        for (name, value) in query {
            let name = String(name)
            guard Self.listParameters.contains(name) else {
                throw DoorError.badRequest(
                    "query parameter \"\(name.prefix(64))\" is not one of \(Self.listParameters.sorted().joined(separator: ", "))")
            }
            values[name, default: []].append(contentsOf: value.split(separator: ",").map(String.init))
        }
        func one(_ name: String) throws -> String {
            let given = values[name] ?? []
            guard given.count <= 1 else { throw DoorError.badRequest("query parameter \(name) takes one value") }
            return given.first ?? ""
        }
        var pageSize: UInt32 = 0
        let sizeText = try one("page_size")
        if !sizeText.isEmpty {
            guard let size = UInt32(sizeText) else {
                throw DoorError.badRequest("page_size: expected a whole number, not \"\(sizeText.prefix(32))\"")
            }
            pageSize = size
        }
        let listRequest = IncidentListRequest(
            severities: values["severity"] ?? [], statuses: values["status"] ?? [], categories: values["category"] ?? [],
            createdAfter: try one("created_after"), createdBefore: try one("created_before"),
            assignedTeam: try one("assigned_team"), pageToken: try one("page_token"), pageSize: pageSize)
        let page: IncidentListPage
        do {
            page = try await intake.list(listRequest, by: identity)
        } catch let refusal as DomainError where refusal.code == .invalidArgument {
            // The core names ListIncidents' repeated fields; here they are the query parameters' names.
            var message = refusal.message
            for (field, parameter) in [("severities:", "severity:"), ("statuses:", "status:"), ("categories:", "category:")]
            where message.hasPrefix(field) {
                message = parameter + message.dropFirst(field.count)
            }
            throw DoorError.badRequest(message)
        }
        var response = ListIncidentsResponse()
        response.incidents = page.incidents.map { IncidentAPI.Incident($0, includePayload: page.includesPayload) }
        response.nextPageToken = page.nextCursor ?? ""
        return Self.json(.ok, response.jsonString())
    }

    /// The body is UpdateIncident's request in proto3 JSON (`status`, `note`, `assigned_team`, `expected_version`,
    /// …); the path names the incident.
    private func update(_ request: Request, _ context: DoorContext) async throws -> Response {
        let identity = try await intake.caller(of: request, context: context)
        let id = try context.parameters.require("id")
        let body = try await Self.body(of: request, limit: maxBodyBytes)
        var message = UpdateIncidentRequest()
        if !body.isEmpty {
            message = try UpdateIncidentRequest(jsonString: String(decoding: body, as: UTF8.self))
        }
        if !message.incidentId.isEmpty && message.incidentId != id {
            throw DoorError.badRequest("incident_id: the body names another incident than the path")
        }
        message.incidentId = id
        let view = try await intake.update(UpdateChangeRequest(message), by: identity)
        return Self.json(.ok, IncidentAPI.Incident(view).jsonString())
    }

    /// The whole body, refused with 413 past `limit` bytes (read no further than that).
    static func body(of request: Request, limit: Int) async throws -> [UInt8] {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw DoorError(.contentTooLarge, "payload_too_large", "the request body is over \(limit) bytes")
        }
        do {
            let buffer = try await request.body.collect(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw DoorError(.contentTooLarge, "payload_too_large", "the request body is over \(limit) bytes")
        }
    }

    static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
