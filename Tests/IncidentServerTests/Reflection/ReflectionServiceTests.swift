// Server reflection served by the real RPC server over mutual TLS, called through the generated clients of
// both protocol versions: who may use it, several queries on one stream, errors that leave the stream open.
import IncidentAPI
import IncidentCore
import IncidentServer
import IncidentStore
import RPC
import Testing

@Suite("Server reflection over mTLS", .enabled(if: TestDatabase.shouldRun), .serialized)
struct ReflectionServiceTests {
    /// The IncidentService and health, as incident-server registers them, with reflection beside them.
    struct Running {
        let server: Server
        let store: IncidentStore
        let pki = ServicePKI.shared

        static func start() async throws -> Running {
            let store = try await IncidentStore.open(
                StoreConfiguration(connection: try await TestDatabase.fresh(), poolSize: 2))
            let config = ServiceHarness.defaultConfig
            let served: [any RegistrableService] = [
                IncidentServiceHandler(store: store, config: config, log: ServerLog(verbose: false)),
                HealthService(store: store),
            ]
            let pki = ServicePKI.shared
            let server = try Server(
                configuration: ServerConfiguration(
                    listenAddresses: ["127.0.0.1:0"],
                    security: .mutualTLS(certificateChainPath: pki.path("server.pem"),
                                         privateKeyPath: pki.path("server.key"), clientCAPath: pki.path("ca.pem"))),
                services: served + (try ServerReflection(advertising: served, config: config)).services)
            try server.start()
            return Running(server: server, store: store)
        }

        func channel(_ identity: String) throws -> Channel {
            try Channel(configuration: ChannelConfiguration(
                target: "127.0.0.1:\(server.boundPorts[0])",
                security: .mutualTLS(trustRootsPath: pki.path("ca.pem"),
                                     certificateChainPath: pki.path(identity + ".pem"),
                                     privateKeyPath: pki.path(identity + ".key"))))
        }

        func stop() async {
            await server.shutdown(grace: .seconds(5))
            store.shutdown()
        }
    }

    typealias V1Request = Grpc_Reflection_V1_ServerReflectionRequest
    typealias V1Response = Grpc_Reflection_V1_ServerReflectionResponse

    /// Sends `queries` on one v1 stream and returns the answers in order.
    static func ask(_ channel: Channel, _ queries: [V1Request.OneOf_MessageRequest]) async throws -> [V1Response] {
        try await Grpc_Reflection_V1_ServerReflectionClient(transport: channel).serverReflectionInfo(
            options: .test,
            requests: { writer in
                for query in queries {
                    var request = V1Request()
                    request.host = "localhost"
                    request.messageRequest = query
                    try await writer.send(request)
                }
            },
            responses: { stream in
                var answers: [V1Response] = []
                for try await answer in stream { answers.append(answer) }
                return answers
            })
    }

    static let expectedServices = [
        "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection",
        "incident_manager.IncidentService",
    ]

    @Test("every known identity lists the registered services, whatever its permissions")
    func listServices() async throws {
        let running = try await Running.start()
        for identity in ["secops", "viewer", "llm-shield"] {
            let answers = try await Self.ask(try running.channel(identity), [.listServices("")])
            guard case .listServicesResponse(let list)? = answers.first?.messageResponse else {
                Issue.record("\(identity): no service list in \(answers)")
                continue
            }
            #expect(list.service.map(\.name) == Self.expectedServices)
            #expect(answers.first?.originalRequest?.messageRequest == .listServices(""))
            #expect(answers.first?.validHost == "localhost")
        }
        await running.stop()
    }

    @Test("a certificate that is no known identity is refused with PERMISSION_DENIED")
    func stranger() async throws {
        let running = try await Running.start()
        let error = await status { _ = try await Self.ask(try running.channel("stranger"), [.listServices("")]) }
        #expect(error?.code == .permissionDenied)
        #expect(error?.message == "the client certificate is not a known identity")
        await running.stop()
    }

    @Test("one stream answers queries in order; a NOT_FOUND answer leaves it open")
    func severalQueries() async throws {
        let running = try await Running.start()
        let answers = try await Self.ask(try running.channel("viewer"), [
            .fileContainingSymbol("incident_manager.IncidentService.CreateIncident"),
            .fileContainingSymbol("incident_manager.NoSuchThing"),
            .fileByFilename("incident_types.proto"),
            .fileContainingExtension(Grpc_Reflection_V1_ExtensionRequest()),
        ])
        #expect(answers.count == 4)
        guard answers.count == 4 else { return }
        #expect(answers[0].messageResponse == .fileDescriptorResponse(.with([
            IncidentManagerProtoFile.descriptor.serializedDescriptor,
            IncidentTypesProtoFile.descriptor.serializedDescriptor,
        ])))
        guard case .errorResponse(let missing)? = answers[1].messageResponse else {
            Issue.record("an unknown symbol was answered: \(answers[1])")
            return
        }
        #expect(missing.errorCode == Int32(StatusCode.notFound.rawValue))
        #expect(missing.errorMessage.contains("incident_manager.NoSuchThing"))
        #expect(answers[2].messageResponse
            == .fileDescriptorResponse(.with([IncidentTypesProtoFile.descriptor.serializedDescriptor])))
        guard case .errorResponse(let noExtension)? = answers[3].messageResponse else {
            Issue.record("an extension was found: \(answers[3])")
            return
        }
        #expect(noExtension.errorCode == Int32(StatusCode.notFound.rawValue))
        await running.stop()
    }

    @Test("a malformed request ends the stream with INVALID_ARGUMENT naming the message")
    func malformedRequest() async throws {
        let running = try await Running.start()
        let error = await status {
            _ = try await running.channel("secops").bidirectionalStreaming(
                path: Grpc_Reflection_V1_ServerReflectionMethods.serverReflectionInfo.path, options: .test,
                requests: { writer in try await writer.write([0x3A, 0x05, 0xC3, 0x28]) },
                responses: { stream in for try await _ in stream {} })
        }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.hasPrefix("grpc.reflection.v1.ServerReflectionRequest:") == true)
        await running.stop()
    }

    @Test("v1alpha gives the same answers as v1")
    func v1alpha() async throws {
        let running = try await Running.start()
        let client = Grpc_Reflection_V1alpha_ServerReflectionClient(transport: try running.channel("secops"))
        let names = try await client.serverReflectionInfo(
            options: .test,
            requests: { writer in
                var request = Grpc_Reflection_V1alpha_ServerReflectionRequest()
                request.messageRequest = .listServices("*")
                try await writer.send(request)
            },
            responses: { stream in
                var names: [String] = []
                for try await answer in stream {
                    if case .listServicesResponse(let list)? = answer.messageResponse {
                        names += list.service.map(\.name)
                    }
                }
                return names
            })
        #expect(names == Self.expectedServices)
        await running.stop()
    }
}

extension Grpc_Reflection_V1_FileDescriptorResponse {
    static func with(_ files: [[UInt8]]) -> Self {
        var response = Self()
        response.fileDescriptorProto = files
        return response
    }
}
