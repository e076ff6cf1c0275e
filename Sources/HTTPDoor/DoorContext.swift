// The HTTP door's request context and caller authentication: the client certificate that swift-nio-ssl verified
// against the client CA (optional on HTTP: API keys and JWTs are the other ways in) or an Authorization header,
// turned into a configured identity by the same Authorizer the gRPC door uses.
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import IncidentCore
import IncidentServer
import NIOCore
import NIOSSL
import RPC

/// Hummingbird's per-request storage plus the connection, whose TLS handler holds the peer certificate, and the
/// slot a WebSocket upgrade (`/ws/events`) leaves its handler in.
struct DoorContext: RequestContext, WebSocketRequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any NIOCore.Channel
    let webSocket: WebSocketHandlerReference<DoorContext>

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
        webSocket = .init()
    }

    /// The verified client certificate's names, or nil when the client sent none. swift-nio-ssl refused the
    /// handshake of any certificate the client CA does not sign, so a certificate here is a trusted one.
    func peer() async -> PeerIdentity? {
        guard let certificate = try? await channel.nioSSL_peerCertificate().get(),
              let der = try? certificate.toDERBytes() else { return nil }
        return PeerIdentity(derCertificate: der)
    }
}

extension IncidentIntake {
    /// The caller of an HTTP request: a bearer token in `Authorization` when there is one, else the client
    /// certificate; 401 without either, 403 for a valid credential naming no configured identity.
    func caller(of request: Request, context: DoorContext) async throws -> IdentityPolicy {
        let authorization = request.headers[values: .authorization]
        let peer = await context.peer()
        if authorization.isEmpty && peer == nil {
            throw DoorError(.unauthorized, "unauthenticated",
                            "present a client certificate or an Authorization: Bearer token")
        }
        return try authorizer.authenticate(peer: peer, authorization: authorization)
    }
}
