// libFuzzer entry for `make fuzz-codec`: every message decoder (binary and JSON) over the fuzzer's bytes.
// Compiled in one module with ProtoWire and the generated messages (without services), not by SwiftPM.

/// Every generated message type.
let fuzzedTypes: [any ProtoMessage.Type] = [
    CreateIncidentRequest.self, CreateIncidentResponse.self, GetIncidentRequest.self, UpdateIncidentRequest.self,
    ActionDecision.self, StreamIncidentsRequest.self, ListIncidentsRequest.self, ListIncidentsResponse.self,
    Incident.self, Resource.self, RemediationAction.self, TimelineEntry.self,
    Grpc_Health_V1_HealthCheckRequest.self, Grpc_Health_V1_HealthCheckResponse.self,
    Grpc_Reflection_V1alpha_ServerReflectionRequest.self, Grpc_Reflection_V1alpha_ServerReflectionResponse.self,
    Grpc_Reflection_V1_ServerReflectionRequest.self, Grpc_Reflection_V1_ServerReflectionResponse.self,
]

func checkRoundTrip<M: ProtoMessage>(_ message: M) {
    // What decodes must re-encode to something that decodes to the same message.
    guard let again = try? M(serializedBytes: message.serializedBytes()), again == message else {
        fatalError("\(M.protoMessageName) does not round-trip")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    for type in fuzzedTypes {
        if let message = try? type.init(serializedBytes: bytes) { checkRoundTrip(message) }
    }
    let text = String(decoding: bytes, as: UTF8.self)
    for type in fuzzedTypes { _ = try? type.init(jsonString: text) }
    return 0
}
