// Emits a service's method descriptors, a typed server protocol bound to RPC, and a typed client stub.
import ProtoSyntax

/// Generates the Swift for one service.
struct ServiceGenerator {
    let generator: SwiftGenerator
    let file: ProtoFile
    let service: ServiceDecl

    var baseName: String { SwiftNames.prefix(of: file) + service.name }
    var fullName: String { file.package.isEmpty ? service.name : file.package + "." + service.name }

    func methodName(_ m: MethodDecl) -> String { SwiftNames.escaped(Naming.lowerCamel(m.name)) }
    func input(_ m: MethodDecl) -> String { generator.swiftTypeName(m.resolvedInputType) }
    func output(_ m: MethodDecl) -> String { generator.swiftTypeName(m.resolvedOutputType) }

    func emit(into w: inout CodeWriter) {
        emitMethods(into: &w)
        guard !service.methods.isEmpty else { return }
        w.line()
        emitProvider(into: &w)
        w.line()
        emitClient(into: &w)
    }

    private func kind(_ m: MethodDecl) -> String {
        switch (m.clientStreaming, m.serverStreaming) {
        case (false, false): "unary"
        case (false, true): "server streaming"
        case (true, false): "client streaming"
        case (true, true): "bidirectional streaming"
        }
    }

    private func emitMethods(into w: inout CodeWriter) {
        w.doc("The methods of `\(fullName)`, as the RPC layer registers and calls them.")
        w.block("public enum \(baseName)Methods") { w in
            w.doc("The fully qualified service name.")
            w.line("public static let serviceName = \(literal(fullName))")
            for m in service.methods {
                w.line()
                w.doc(m.comment, fallback: "`\(m.name)`, \(kind(m)).")
                if m.comment != nil { w.line("/// (\(kind(m)))") }
                w.line("public static let \(methodName(m)) = MethodDescriptor(service: serviceName, method: \(literal(m.name)))")
            }
            w.line()
            w.doc("Every method of the service.")
            w.line("public static let all: [MethodDescriptor] = [\(service.methods.map(methodName).joined(separator: ", "))]")
        }
    }

    private func emitProvider(into w: inout CodeWriter) {
        w.doc(service.comment, fallback: "Serves `\(fullName)`.")
        w.block("public protocol \(baseName)Provider: RegistrableService") { w in
            for (i, m) in service.methods.enumerated() {
                if i > 0 { w.line() }
                w.doc(m.comment)
                if m.clientStreaming && m.serverStreaming {
                    w.line("func \(methodName(m))(")
                    w.line("    _ requests: RequestStream<\(input(m))>,")
                    w.line("    responses: ServerStreamWriter<\(output(m))>,")
                    w.line("    context: ServerContext")
                    w.line(") async throws")
                } else if m.clientStreaming {
                    w.line("func \(methodName(m))(")
                    w.line("    _ requests: RequestStream<\(input(m))>, context: ServerContext")
                    w.line(") async throws -> \(output(m))")
                } else if m.serverStreaming {
                    w.line("func \(methodName(m))(")
                    w.line("    _ request: \(input(m)), responses: ServerStreamWriter<\(output(m))>, context: ServerContext")
                    w.line(") async throws")
                } else {
                    w.line("func \(methodName(m))(_ request: \(input(m)), context: ServerContext) async throws -> \(output(m))")
                }
            }
        }
        w.line()
        w.block("extension \(baseName)Provider") { w in
            w.doc("Every method bound to this provider: requests decoded (malformed ones refused with "
                + "`INVALID_ARGUMENT`), responses encoded.")
            w.block("public var methodHandlers: [(MethodDescriptor, ServerMethodHandler)]") { w in
                w.line("[")
                for m in service.methods {
                    let descriptor = "\(baseName)Methods.\(methodName(m))"
                    if m.clientStreaming && m.serverStreaming {
                        w.line("    (\(descriptor), .bidirectionalStreaming { raw, rawResponses, context in")
                        w.line("        let responses = ServerStreamWriter<\(output(m))>(raw: rawResponses) {")
                        w.line("            $0.serializedBytes()")
                        w.line("        }")
                        w.line("        try await self.\(methodName(m))(")
                        w.line("            RequestStream(raw), responses: responses, context: context)")
                        w.line("    }),")
                    } else if m.clientStreaming {
                        w.line("    (\(descriptor), .clientStreaming { raw, context in")
                        w.line("        let response = try await self.\(methodName(m))(")
                        w.line("            RequestStream(raw), context: context)")
                        w.line("        return response.serializedBytes()")
                        w.line("    }),")
                    } else if m.serverStreaming {
                        w.line("    (\(descriptor), .serverStreaming { bytes, raw, context in")
                        w.line("        let request = try decodeRequest(\(input(m)).self, from: bytes)")
                        w.line("        let responses = ServerStreamWriter<\(output(m))>(raw: raw) { $0.serializedBytes() }")
                        w.line("        try await self.\(methodName(m))(request, responses: responses, context: context)")
                        w.line("    }),")
                    } else {
                        w.line("    (\(descriptor), .unary { bytes, context in")
                        w.line("        let request = try decodeRequest(\(input(m)).self, from: bytes)")
                        w.line("        return try await self.\(methodName(m))(request, context: context).serializedBytes()")
                        w.line("    }),")
                    }
                }
                w.line("]")
            }
        }
    }

    private func emitClient(into w: inout CodeWriter) {
        w.doc("Calls `\(fullName)` through any transport (a `Channel` in production).")
        w.block("public struct \(baseName)Client: Sendable") { w in
            w.doc("The connection calls go through.")
            w.line("public let transport: any ClientTransport")
            w.line()
            w.line("public init(transport: any ClientTransport) { self.transport = transport }")
            for m in service.methods {
                w.line()
                w.doc(m.comment, fallback: "Calls `\(m.name)`.")
                let path = "\(baseName)Methods.\(methodName(m)).path"
                if m.clientStreaming {
                    emitStreamedRequestsCall(m, path: path, into: &w)
                } else if m.serverStreaming {
                    w.line("public func \(methodName(m))(")
                    w.line("    _ request: \(input(m)), options: CallOptions = CallOptions()")
                    w.line(") -> ResponseStream<\(output(m))> {")
                    w.line("    ResponseStream(transport.serverStreaming(")
                    w.line("        path: \(baseName)Methods.\(methodName(m)).path, request: request.serializedBytes(), options: options))")
                    w.line("}")
                } else {
                    w.line("public func \(methodName(m))(")
                    w.line("    _ request: \(input(m)), options: CallOptions = CallOptions()")
                    w.line(") async throws -> \(output(m)) {")
                    w.line("    let bytes = try await transport.unary(")
                    w.line("        path: \(baseName)Methods.\(methodName(m)).path, request: request.serializedBytes(), options: options)")
                    w.line("    return try decodeResponse(\(output(m)).self, from: bytes)")
                    w.line("}")
                }
            }
        }
    }

    /// A client-streaming call returns its one response; a bidirectional one hands the responses to a closure
    /// that runs while `requests` sends, and returns what that closure returns.
    private func emitStreamedRequestsCall(_ m: MethodDecl, path: String, into w: inout CodeWriter) {
        let generic = m.serverStreaming ? "<Result: Sendable>" : ""
        w.line("public func \(methodName(m))\(generic)(")
        w.line("    options: CallOptions = CallOptions(),")
        if m.serverStreaming {
            w.line("    requests: @escaping @Sendable (RequestStreamWriter<\(input(m))>) async throws -> Void,")
            w.line("    responses: @escaping @Sendable (ResponseStream<\(output(m))>) async throws -> Result")
            w.line(") async throws -> Result {")
        } else {
            w.line("    requests: @escaping @Sendable (RequestStreamWriter<\(input(m))>) async throws -> Void")
            w.line(") async throws -> \(output(m)) {")
        }
        w.line("    try await transport.bidirectionalStreaming(")
        w.line("        path: \(path), options: options,")
        w.line("        requests: { raw in")
        w.line("            try await requests(RequestStreamWriter(raw: raw) { $0.serializedBytes() })")
        w.line("        },")
        if m.serverStreaming {
            w.line("        responses: { raw in try await responses(ResponseStream(raw)) })")
        } else {
            w.line("        responses: { raw in try await singleResponse(\(output(m)).self, from: raw) })")
        }
        w.line("}")
    }
}
