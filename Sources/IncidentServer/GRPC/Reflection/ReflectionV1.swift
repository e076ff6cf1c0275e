// grpc.reflection.v1.ServerReflection: its messages to and from the version-neutral queries and answers.
import IncidentAPI
import RPC

/// Serves `grpc.reflection.v1.ServerReflection`.
struct ReflectionV1Service: Grpc_Reflection_V1_ServerReflectionProvider {
    let index: ReflectionIndex
    let access: ReflectionAccess

    func serverReflectionInfo(
        _ requests: RequestStream<Grpc_Reflection_V1_ServerReflectionRequest>,
        responses: ServerStreamWriter<Grpc_Reflection_V1_ServerReflectionResponse>, context: ServerContext
    ) async throws {
        try access.check(context)
        var session = ReflectionSession(index: index)
        for try await request in requests {
            try await responses.send(Self.response(to: request, session.answer(Self.query(request))))
        }
    }

    static func query(_ request: Grpc_Reflection_V1_ServerReflectionRequest) -> ReflectionQuery {
        switch request.messageRequest {
        case .fileByFilename(let name)?: .fileByFilename(name)
        case .fileContainingSymbol(let symbol)?: .fileContainingSymbol(symbol)
        case .fileContainingExtension(let e)?: .fileContainingExtension(containingType: e.containingType,
                                                                        number: e.extensionNumber)
        case .allExtensionNumbersOfType(let type)?: .allExtensionNumbers(ofType: type)
        case .listServices?: .listServices
        case nil: .missing
        }
    }

    static func response(
        to request: Grpc_Reflection_V1_ServerReflectionRequest, _ answer: ReflectionAnswer
    ) -> Grpc_Reflection_V1_ServerReflectionResponse {
        var response = Grpc_Reflection_V1_ServerReflectionResponse()
        response.validHost = request.host
        response.originalRequest = request
        switch answer {
        case .files(let files):
            var body = Grpc_Reflection_V1_FileDescriptorResponse()
            body.fileDescriptorProto = files
            response.messageResponse = .fileDescriptorResponse(body)
        case .extensionNumbers(let baseType, let numbers):
            var body = Grpc_Reflection_V1_ExtensionNumberResponse()
            body.baseTypeName = baseType
            body.extensionNumber = numbers
            response.messageResponse = .allExtensionNumbersResponse(body)
        case .services(let names):
            var body = Grpc_Reflection_V1_ListServiceResponse()
            body.service = names.map { name in
                var service = Grpc_Reflection_V1_ServiceResponse()
                service.name = name
                return service
            }
            response.messageResponse = .listServicesResponse(body)
        case .error(let code, let message):
            var body = Grpc_Reflection_V1_ErrorResponse()
            body.errorCode = Int32(code.rawValue)
            body.errorMessage = message
            response.messageResponse = .errorResponse(body)
        }
        return response
    }
}
