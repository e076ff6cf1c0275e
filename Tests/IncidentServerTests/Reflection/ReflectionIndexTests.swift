// The reflection answers as pure values over the generated descriptors: which file defines which symbol,
// what is sent with it, and the NOT_FOUND answers.
import IncidentAPI
import ProtoWire
import RPC
import Testing
@testable import IncidentServer

@Suite("Reflection index")
struct ReflectionIndexTests {
    static let manager = IncidentManagerProtoFile.descriptor
    static let types = IncidentTypesProtoFile.descriptor
    static let health = Grpc_Health_V1_HealthProtoFile.descriptor

    static func session() throws -> ReflectionSession {
        ReflectionSession(index: try ReflectionIndex(
            files: ProtoFileIndex.files,
            services: ["incident_manager.IncidentService", "grpc.health.v1.Health",
                       "incident_manager.IncidentService"]))
    }

    @Test("list_services names each registered service once, sorted")
    func listServices() throws {
        var session = try Self.session()
        #expect(session.answer(.listServices)
            == .services(["grpc.health.v1.Health", "incident_manager.IncidentService"]))
    }

    @Test("a file comes with what it imports, and a stream is sent each file once")
    func fileByFilename() throws {
        var session = try Self.session()
        #expect(session.answer(.fileByFilename("incident_manager.proto"))
            == .files([Self.manager.serializedDescriptor, Self.types.serializedDescriptor]))
        #expect(session.answer(.fileByFilename("incident_manager.proto"))
            == .files([Self.manager.serializedDescriptor]))
        #expect(session.answer(.fileByFilename("incident_types.proto")) == .files([Self.types.serializedDescriptor]))
        var fresh = try Self.session()
        #expect(fresh.answer(.fileByFilename("grpc/health/v1/health.proto"))
            == .files([Self.health.serializedDescriptor]))
    }

    @Test("every kind of symbol leads to the file that defines it", arguments: [
        ("incident_manager.IncidentService", "incident_manager.proto"),
        ("incident_manager.IncidentService.StreamIncidents", "incident_manager.proto"),
        ("incident_manager.CreateIncidentRequest", "incident_manager.proto"),
        (".incident_manager.CreateIncidentRequest", "incident_manager.proto"),
        ("incident_manager.CreateIncidentRequest.TagsEntry", "incident_manager.proto"),
        ("incident_manager.CreateIncidentRequest.event_id", "incident_manager.proto"),
        ("incident_manager.ActionDecision.Decision", "incident_manager.proto"),
        ("incident_manager.ActionDecision.DECISION_APPROVE", "incident_manager.proto"),
        ("incident_manager.ActionDecision.Decision.DECISION_APPROVE", "incident_manager.proto"),
        ("incident_manager.Incident", "incident_types.proto"),
        ("incident_manager.ActionState", "incident_types.proto"),
        ("incident_manager.ACTION_STATE_PENDING_APPROVAL", "incident_types.proto"),
        ("incident_manager.RemediationAction.parameters", "incident_types.proto"),
        ("grpc.health.v1.HealthCheckResponse.ServingStatus", "grpc/health/v1/health.proto"),
        ("grpc.health.v1.Health.Watch", "grpc/health/v1/health.proto"),
        ("grpc.reflection.v1alpha.ServerReflection", "grpc/reflection/v1alpha/reflection.proto"),
        ("grpc.reflection.v1.ServerReflectionRequest.message_request", "grpc/reflection/v1/reflection.proto"),
    ])
    func fileContainingSymbol(symbol: String, file: String) throws {
        var session = try Self.session()
        let expected = ProtoFileIndex.files.first { $0.name == file }!.serializedDescriptor
        guard case .files(let files) = session.answer(.fileContainingSymbol(symbol)) else {
            Issue.record("\(symbol) was not found")
            return
        }
        #expect(files.first == expected)
    }

    @Test("unknown names, extensions and empty requests get error answers")
    func errors() throws {
        var session = try Self.session()
        #expect(session.answer(.fileByFilename("nope.proto"))
            == .error(.notFound, "file nope.proto is not known to this server"))
        #expect(session.answer(.fileContainingSymbol("incident_manager.Nope"))
            == .error(.notFound, "symbol incident_manager.Nope is not defined by any file this server knows"))
        guard case .error(.notFound, _) = session.answer(
            .fileContainingExtension(containingType: "incident_manager.Incident", number: 100)) else {
            Issue.record("an extension was found")
            return
        }
        #expect(session.answer(.allExtensionNumbers(ofType: "incident_manager.Incident"))
            == .extensionNumbers(baseType: "incident_manager.Incident", numbers: []))
        #expect(session.answer(.allExtensionNumbers(ofType: "incident_manager.ActionState"))
            == .error(.notFound, "message type incident_manager.ActionState not found"))
        guard case .error(.invalidArgument, _) = session.answer(.missing) else {
            Issue.record("an empty request was answered")
            return
        }
    }

    @Test("a descriptor that is not protobuf is refused when the index is built")
    func malformedDescriptor() {
        let broken = ProtoFileDescriptor(name: "broken.proto", package: "", dependencies: [], symbols: [],
                                         serializedDescriptor: [0x22, 0x05, 0x0A])
        #expect(throws: DescriptorSymbols.Malformed.self) {
            _ = try ReflectionIndex(files: [broken], services: [])
        }
    }
}
