// Untrusted bytes: every malformed input is a typed error, and mutated inputs never crash any decoder.
import IncidentAPI
import ProtoWire
import Testing

/// Every message type of IncidentAPI, so corpus inputs reach every decoder.
let allMessageTypes: [any ProtoMessage.Type] = [
    CreateIncidentRequest.self, CreateIncidentResponse.self, GetIncidentRequest.self, UpdateIncidentRequest.self,
    ActionDecision.self, StreamIncidentsRequest.self, ListIncidentsRequest.self, ListIncidentsResponse.self,
    Incident.self, Resource.self, RemediationAction.self, TimelineEntry.self,
    Grpc_Health_V1_HealthCheckRequest.self, Grpc_Health_V1_HealthCheckResponse.self,
    Grpc_Reflection_V1alpha_ServerReflectionRequest.self, Grpc_Reflection_V1alpha_ServerReflectionResponse.self,
    Grpc_Reflection_V1alpha_FileDescriptorResponse.self, Grpc_Reflection_V1alpha_ExtensionRequest.self,
    Grpc_Reflection_V1alpha_ExtensionNumberResponse.self, Grpc_Reflection_V1alpha_ListServiceResponse.self,
    Grpc_Reflection_V1alpha_ErrorResponse.self, Grpc_Reflection_V1_ServerReflectionRequest.self,
    Grpc_Reflection_V1_ServerReflectionResponse.self,
]

@Suite("decoder safety")
struct DecoderSafetyTests {
    func decodeError<M: ProtoMessage>(_ type: M.Type, _ bytes: [UInt8]) -> ProtoDecodingError? {
        do {
            _ = try M(serializedBytes: bytes)
            return nil
        } catch {
            return error
        }
    }

    @Test("truncated input is refused at every cut")
    func truncated() {
        let bytes = ShieldExample.request.serializedBytes()
        var refused = 0
        for cut in 1..<bytes.count where decodeError(CreateIncidentRequest.self, Array(bytes[0..<cut])) != nil {
            refused += 1
        }
        // A cut between two top-level fields is a valid shorter message; every other cut must fail.
        #expect(refused > bytes.count / 2)
        #expect(decodeError(CreateIncidentRequest.self, [0x0A, 0x05, 0x61]) == .lengthOutOfBounds(length: 5, remaining: 1))
        #expect(decodeError(CreateIncidentRequest.self, [0x88]) == .truncated)
    }

    @Test("a length past the end is refused before anything is allocated")
    func hugeLength() {
        // event_id claims 2^62 bytes.
        let bytes: [UInt8] = [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x3F]
        #expect(decodeError(CreateIncidentRequest.self, bytes) == .lengthOutOfBounds(length: 1 << 62 - 1, remaining: 0))
    }

    @Test("bad wire types and tags are refused")
    func badWireTypes() {
        #expect(decodeError(CreateIncidentRequest.self, [0x0E, 0x00]) == .invalidTag(0x0E))
        #expect(decodeError(CreateIncidentRequest.self, [0x07]) == .invalidTag(7))
        #expect(decodeError(CreateIncidentRequest.self, [0x00, 0x00]) == .invalidTag(0))
        #expect(decodeError(CreateIncidentRequest.self, [0x0C]) == .unbalancedGroup)
        #expect(decodeError(CreateIncidentRequest.self, Array(repeating: 0xFF, count: 11)) == .malformedVarint)
    }

    @Test("invalid UTF-8 in a string field is refused, in bytes fields kept")
    func invalidUTF8() {
        #expect(decodeError(CreateIncidentRequest.self, [0x0A, 0x02, 0xC3, 0x28]) == .invalidUTF8(field: 1))
        #expect(decodeError(CreateIncidentRequest.self, [0x6A, 0x02, 0xC3, 0x28]) == nil)
    }

    @Test("nesting deeper than 100 is refused, 100 is fine")
    func recursionLimit() {
        // Nested unknown groups of field 99 under CreateIncidentRequest.
        func groups(_ depth: Int) -> [UInt8] {
            ([0x9B, 0x06] as [UInt8]).repeated(depth) + ([0x9C, 0x06] as [UInt8]).repeated(depth)
        }
        #expect(decodeError(CreateIncidentRequest.self, groups(100)) == nil)
        #expect(decodeError(CreateIncidentRequest.self, groups(101)) == .recursionLimitExceeded(limit: 100))
        var deep: [UInt8] = []
        for _ in 0..<200 { deep = [0x9B, 0x06] + deep + [0x9C, 0x06] }
        #expect(decodeError(Incident.self, deep) == .recursionLimitExceeded(limit: 100))
    }

    @Test("mutated seeds decode or fail cleanly with every message type")
    func mutationCorpus() {
        var rng = SeededGenerator(seed: 7)
        var seeds: [[UInt8]] = [ShieldExample.request.serializedBytes()]
        for _ in 0..<10 {
            seeds.append(RandomMessages.incident(&rng).serializedBytes())
            seeds.append(RandomMessages.updateRequest(&rng).serializedBytes())
            seeds.append(RandomMessages.listResponse(&rng).serializedBytes())
        }
        var decoded = 0
        var refused = 0
        for _ in 0..<3000 {
            var input = seeds.randomElement(using: &rng)!
            for _ in 0..<Int.random(in: 1...6, using: &rng) { mutate(&input, &rng) }
            for type in allMessageTypes {
                if let message = try? type.init(serializedBytes: input) {
                    decoded += 1
                    // Whatever decodes re-encodes to bytes that decode to the same message.
                    let stable = roundTrips(message)
                    #expect(stable)
                } else {
                    refused += 1
                }
            }
        }
        #expect(decoded > 0)
        #expect(refused > 0)
    }

    func roundTrips<M: ProtoMessage>(_ message: M) -> Bool {
        (try? M(serializedBytes: message.serializedBytes())) == message
    }

    func mutate(_ bytes: inout [UInt8], _ rng: inout SeededGenerator) {
        switch Int.random(in: 0..<6, using: &rng) {
        case 0 where !bytes.isEmpty:
            bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
        case 1 where !bytes.isEmpty:
            bytes.removeSubrange(Int.random(in: 0..<bytes.count, using: &rng)...)
        case 2:
            bytes.insert(UInt8.random(in: 0...255, using: &rng), at: Int.random(in: 0...bytes.count, using: &rng))
        case 3 where bytes.count > 2:
            let i = Int.random(in: 0..<bytes.count - 1, using: &rng)
            bytes.swapAt(i, i + 1)
        case 4 where !bytes.isEmpty:
            let i = Int.random(in: 0..<bytes.count, using: &rng)
            bytes[i] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
        default:
            bytes += [0xFF, 0xFF, 0xFF, 0xFF, 0x0F].prefix(Int.random(in: 1...5, using: &rng))
        }
    }
}

extension Array {
    func repeated(_ count: Int) -> [Element] { (0..<count).flatMap { _ in self } }
}
