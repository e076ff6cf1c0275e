// HEAD for every route at once (RFC 9110 §9.3.2: the GET's status and headers without its body), so
// `curl -I …/api/v1/health`, as the integration guide's troubleshooting section runs it, answers like a GET.
import HTTPTypes
import Hummingbird

/// Wraps the router: a HEAD request is answered as the GET of the same target, with the body left out.
struct HeadAsGet<Base: HTTPResponder>: HTTPResponder {
    let base: Base

    func respond(to request: Request, context: Base.Context) async throws -> Response {
        guard request.method == .head else { return try await base.respond(to: request, context: context) }
        var head = request.head
        head.method = .get
        var response = try await base.respond(to: Request(head: head, body: request.body), context: context)
        response.body = ResponseBody()
        return response
    }
}
