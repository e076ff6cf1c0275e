// The generated provider and client bound together through an in-memory transport, bytes in between.
import IncidentAPI
import ProtoWire
import RPC
import Testing

/// A provider answering from a fixed incident.
struct FixedIncidentService: IncidentServiceProvider {
    func createIncident(_ request: CreateIncidentRequest, context: ServerContext) async throws -> CreateIncidentResponse {
        var response = CreateIncidentResponse()
        response.incidentId = "inc-" + request.eventId
        response.status = "created"
        return response
    }

    func getIncident(_ request: GetIncidentRequest, context: ServerContext) async throws -> Incident {
        guard request.incidentId == "inc-1" else { throw RPCError(.notFound, "no incident \(request.incidentId)") }
        var incident = Incident()
        incident.id = request.incidentId
        return incident
    }

    func updateIncident(_ request: UpdateIncidentRequest, context: ServerContext) async throws -> Incident {
        var incident = Incident()
        incident.id = request.incidentId
        incident.status = request.status ?? "open"
        return incident
    }

    func streamIncidents(
        _ request: StreamIncidentsRequest, responses: ServerStreamWriter<Incident>, context: ServerContext
    ) async throws {
        for position in request.sincePosition + 1...request.sincePosition + 3 {
            var incident = Incident()
            incident.position = position
            try await responses.send(incident)
        }
    }

    func listIncidents(_ request: ListIncidentsRequest, context: ServerContext) async throws -> ListIncidentsResponse {
        ListIncidentsResponse()
    }

    func listIncidentEvents(_ request: ListIncidentEventsRequest,
                            context: ServerContext) async throws -> ListIncidentEventsResponse {
        ListIncidentEventsResponse()
    }
}

/// Calls a provider's handlers directly, as the RPC server would, with bytes in and out.
struct InMemoryTransport: ClientTransport {
    let handlers: [String: ServerMethodHandler]

    init(_ service: any RegistrableService) {
        handlers = Dictionary(uniqueKeysWithValues: service.methodHandlers.map { ($0.0.path, $0.1) })
    }

    func context(_ path: String) -> ServerContext {
        let parts = path.split(separator: "/").map(String.init)
        return ServerContext(method: MethodDescriptor(service: parts[0], method: parts[1]), peer: nil,
                             peerAddress: "in-memory", requestMetadata: Metadata(), deadline: nil)
    }

    func unary(path: String, request: [UInt8], options: CallOptions) async throws -> [UInt8] {
        guard case .unary(let handler)? = handlers[path] else { throw RPCError(.unimplemented, path) }
        return try await handler(request, context(path))
    }

    func serverStreaming(path: String, request: [UInt8], options: CallOptions)
        -> AsyncThrowingStream<[UInt8], any Error> {
        let (stream, continuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        guard case .serverStreaming(let handler)? = handlers[path] else {
            continuation.finish(throwing: RPCError(.unimplemented, path))
            return stream
        }
        let writer = CollectingWriter(continuation: continuation)
        let context = context(path)
        Task {
            do {
                try await handler(request, writer, context)
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        return stream
    }

    struct CollectingWriter: RawResponseWriter, RawRequestWriter {
        let continuation: AsyncThrowingStream<[UInt8], any Error>.Continuation
        func write(_ message: [UInt8]) async throws { continuation.yield(message) }
    }

    func bidirectionalStreaming<Result: Sendable>(
        path: String, options: CallOptions,
        requests: @escaping @Sendable (any RawRequestWriter) async throws -> Void,
        responses: @escaping @Sendable (AsyncThrowingStream<[UInt8], any Error>) async throws -> Result
    ) async throws -> Result {
        let (requestStream, requestSink) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        let (responseStream, responseSink) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        let source = RequestSource(iterator: requestStream.makeAsyncIterator())
        let raw = RawRequestStream { try await source.next() }
        let handler = handlers[path]
        let context = context(path)
        let serving = Task {
            do {
                switch handler {
                case .clientStreaming(let body)?: responseSink.yield(try await body(raw, context))
                case .bidirectionalStreaming(let body)?:
                    try await body(raw, CollectingWriter(continuation: responseSink), context)
                default: throw RPCError(.unimplemented, path)
                }
                responseSink.finish()
            } catch {
                responseSink.finish(throwing: error)
            }
        }
        let sending = Task {
            try await requests(CollectingWriter(continuation: requestSink))
            requestSink.finish()
        }
        defer {
            serving.cancel()
            sending.cancel()
        }
        return try await responses(responseStream)
    }

    /// The one reader of the in-memory request stream (the handler reads one request at a time).
    final class RequestSource: @unchecked Sendable {
        // Only the handler's task calls `next()`, one call at a time, as the RPC contract promises.
        var iterator: AsyncThrowingStream<[UInt8], any Error>.AsyncIterator

        init(iterator: AsyncThrowingStream<[UInt8], any Error>.AsyncIterator) { self.iterator = iterator }

        func next() async throws -> [UInt8]? { try await iterator.next() }
    }
}

/// A reflection provider that answers every request with the services it was built with: the generated
/// bidirectional binding, typed on both sides.
struct ListingReflection: Grpc_Reflection_V1_ServerReflectionProvider {
    let names: [String]

    func serverReflectionInfo(
        _ requests: RequestStream<Grpc_Reflection_V1_ServerReflectionRequest>,
        responses: ServerStreamWriter<Grpc_Reflection_V1_ServerReflectionResponse>, context: ServerContext
    ) async throws {
        for try await request in requests {
            var response = Grpc_Reflection_V1_ServerReflectionResponse()
            response.originalRequest = request
            var list = Grpc_Reflection_V1_ListServiceResponse()
            list.service = names.map { name in
                var service = Grpc_Reflection_V1_ServiceResponse()
                service.name = name
                return service
            }
            response.messageResponse = .listServicesResponse(list)
            try await responses.send(response)
        }
    }
}

@Suite("service binding")
struct ServiceBindingTests {
    let client = IncidentServiceClient(transport: InMemoryTransport(FixedIncidentService()))

    @Test("every method of IncidentService is registered under its gRPC path")
    func methods() {
        let paths = FixedIncidentService().methodHandlers.map(\.0.path)
        #expect(paths == ["/incident_manager.IncidentService/CreateIncident", "/incident_manager.IncidentService/GetIncident",
                          "/incident_manager.IncidentService/UpdateIncident",
                          "/incident_manager.IncidentService/StreamIncidents",
                          "/incident_manager.IncidentService/ListIncidents",
                          "/incident_manager.IncidentService/ListIncidentEvents"])
        #expect(IncidentServiceMethods.all.map(\.path) == paths)
        #expect(Grpc_Health_V1_HealthMethods.watch.path == "/grpc.health.v1.Health/Watch")
        #expect(Grpc_Reflection_V1alpha_ServerReflectionMethods.serverReflectionInfo.path
            == "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo")
    }

    @Test("unary calls go through typed client and provider")
    func unary() async throws {
        let response = try await client.createIncident(ShieldExample.request)
        #expect(response.incidentId == "inc-shield-2025-005678")
        var update = UpdateIncidentRequest()
        update.incidentId = "inc-1"
        update.status = "resolved"
        #expect(try await client.updateIncident(update).status == "resolved")
        await #expect(throws: RPCError(.notFound, "no incident nope")) {
            var get = GetIncidentRequest()
            get.incidentId = "nope"
            _ = try await client.getIncident(get)
        }
    }

    @Test("server streams arrive typed and in order")
    func streaming() async throws {
        var request = StreamIncidentsRequest()
        request.sincePosition = 10
        var positions: [UInt64] = []
        for try await incident in client.streamIncidents(request) { positions.append(incident.position) }
        #expect(positions == [11, 12, 13])
    }

    @Test("a bidirectional method goes through typed client and provider, one answer per request")
    func bidirectional() async throws {
        let reflection = Grpc_Reflection_V1_ServerReflectionClient(
            transport: InMemoryTransport(ListingReflection(names: ["a.A", "b.B"])))
        let answers = try await reflection.serverReflectionInfo(
            requests: { writer in
                for host in ["one", "two"] {
                    var request = Grpc_Reflection_V1_ServerReflectionRequest()
                    request.host = host
                    request.messageRequest = .listServices("")
                    try await writer.send(request)
                }
            },
            responses: { stream in
                var hosts: [String] = []
                for try await response in stream {
                    guard case .listServicesResponse(let list)? = response.messageResponse else { continue }
                    #expect(list.service.map(\.name) == ["a.A", "b.B"])
                    hosts.append(response.originalRequest?.host ?? "")
                }
                return hosts
            })
        #expect(answers == ["one", "two"])
    }

    @Test("a malformed request is INVALID_ARGUMENT naming the message and the problem")
    func malformedRequest() async throws {
        let transport = InMemoryTransport(FixedIncidentService())
        do {
            _ = try await transport.unary(path: IncidentServiceMethods.createIncident.path, request: [0x0A, 0x02, 0xC3, 0x28],
                                          options: CallOptions())
            Issue.record("malformed request was accepted")
        } catch let error as RPCError {
            #expect(error.code == .invalidArgument)
            #expect(error.message == "incident_manager.CreateIncidentRequest: field 1 is a string but holds invalid UTF-8")
        }
    }
}
