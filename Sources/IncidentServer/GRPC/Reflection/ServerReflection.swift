// Server reflection (grpc.reflection.v1 and v1alpha) for the services this server registers, so grpcurl and
// other tools discover the API with no .proto files. Open to every caller that authenticates as a known identity.
import IncidentAPI
import IncidentCore
import ProtoWire
import RPC

/// Both versions of the reflection service, answering from the generated descriptors of `ProtoFileIndex`.
public struct ServerReflection: Sendable {
    /// The providers to register beside the services they describe (v1, then v1alpha).
    public let services: [any RegistrableService]

    /// Reflection listing the services in `advertising` plus the two reflection services themselves.
    public init(
        advertising registered: [any RegistrableService], config: ServiceConfig,
        files: [ProtoFileDescriptor] = ProtoFileIndex.files
    ) throws(ReflectionError) {
        let names = registered.flatMap { $0.methodHandlers.map(\.0.service) }
            + [Grpc_Reflection_V1_ServerReflectionMethods.serviceName,
               Grpc_Reflection_V1alpha_ServerReflectionMethods.serviceName]
        let index: ReflectionIndex
        do {
            index = try ReflectionIndex(files: files, services: names)
        } catch {
            throw ReflectionError(reason: error.description)
        }
        let access = ReflectionAccess(config: config)
        services = [
            ReflectionV1Service(index: index, access: access),
            ReflectionV1AlphaService(index: index, access: access),
        ]
    }
}

/// The generated descriptors could not be indexed (a generator bug, found at start rather than on a call).
public struct ReflectionError: Error, Sendable, CustomStringConvertible {
    /// What was wrong with the descriptor bytes.
    public var reason: String

    public var description: String { "cannot index the API descriptors for reflection: \(reason)" }
}

/// Who may use reflection: any caller that authenticates as one of the configured identities (by certificate or
/// bearer token), whatever its permissions (the API's shape is no secret to them; it is to strangers).
struct ReflectionAccess: Sendable {
    let authorizer: Authorizer

    init(config: ServiceConfig) {
        authorizer = Authorizer(config: config)
    }

    func check(_ context: ServerContext) throws(RPCError) {
        _ = try authorizer.authenticate(context)
    }
}
