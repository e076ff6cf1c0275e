// Our encoder and decoder against protoc's: what we write protoc reads, and what protoc writes we read.
import Foundation
import IncidentAPI
import ProtoWire
import Testing

@Suite("protoc conformance")
struct ProtocConformanceTests {
    @Test("the LLM-Shield example encoded by us decodes in protoc with every field known")
    func shieldExampleReadByProtoc() throws {
        let bytes = ShieldExample.request.serializedBytes()
        let text = try ExternalTools.protocDecode("incident_manager.CreateIncidentRequest",
                                                  file: "incident_manager.proto", bytes)
        for expected in [
            "event_id: \"shield-2025-005678\"", "source: \"llm-shield\"", "source_version: \"2.1.0\"",
            "timestamp: \"2025-11-11T10:35:00Z\"", "event_type: \"violation\"", "category: \"security\"",
            "title: \"Prompt Injection Detected\"", "severity: \"critical\"", "id: \"model-gpt4-prod\"",
            "key: \"confidence_score\"", "value: 0.95", "key: \"attack_vectors\"", "value: 3",
            "key: \"session_id\"", "value: \"sess-abc123\"", "encrypted_payload: ",
        ] {
            #expect(text.contains(expected), "protoc output lacks \(expected):\n\(text)")
        }
        // protoc prints fields it does not know by number; there must be none.
        let unknown = text.split(separator: "\n").filter { $0.trimmingCharacters(in: .whitespaces).first?.isNumber == true }
        #expect(unknown.isEmpty, "protoc saw unknown fields: \(unknown)")
        // protoc re-encodes its reading; we must read that back to the same message.
        let back = try ExternalTools.protocEncode("incident_manager.CreateIncidentRequest",
                                                  file: "incident_manager.proto", text)
        #expect(try CreateIncidentRequest(serializedBytes: back) == ShieldExample.request)
    }

    @Test("a message written by protoc from text decodes in ours field by field")
    func protocWrittenReadByUs() throws {
        let text = """
            id: "inc-1" status: "open" severity: "high" title: "t\\303\\251st" event_count: 18446744073709551615
            version: 7 position: 9000000000
            resource { type: "model" id: "m" metadata { key: "k" value: "v" } }
            metrics { key: "score" value: -1.5e-300 }
            actions { id: "a1" type: "block_user" state: ACTION_STATE_PENDING_APPROVAL attempts: 3
                      parameters { key: "user" value: "u-1" } }
            actions { id: "a2" state: 42 }
            timeline { at: "2025-11-11T10:35:00Z" kind: "created" position: 1 }
            """
        let bytes = try ExternalTools.protocEncode("incident_manager.Incident", file: "incident_types.proto", text)
        let incident = try Incident(serializedBytes: bytes)
        #expect(incident.id == "inc-1")
        #expect(incident.title == "tést")
        #expect(incident.eventCount == UInt64.max)
        #expect(incident.position == 9_000_000_000)
        #expect(incident.resource?.metadata == ["k": "v"])
        #expect(incident.metrics["score"] == -1.5e-300)
        #expect(incident.actions.count == 2)
        #expect(incident.actions[0].state == .pendingApproval)
        #expect(incident.actions[0].parameters == ["user": "u-1"])
        #expect(incident.actions[1].state == .unrecognized(42))
        #expect(incident.timeline.first?.kind == "created")
        // And our re-encoding reads back identically in protoc.
        let again = try ExternalTools.protocDecode("incident_manager.Incident", file: "incident_types.proto",
                                                   incident.serializedBytes())
        let original = try ExternalTools.protocDecode("incident_manager.Incident", file: "incident_types.proto", bytes)
        #expect(again == original)
    }

    @Test("random incidents survive protoc decode and re-encode", arguments: 0..<4)
    func randomIncidentsThroughProtoc(seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        let incident = RandomMessages.incident(&rng)
        let text = try ExternalTools.protocDecode("incident_manager.Incident", file: "incident_types.proto",
                                                  incident.serializedBytes())
        let back = try ExternalTools.protocEncode("incident_manager.Incident", file: "incident_types.proto", text)
        #expect(try Incident(serializedBytes: back) == incident)
    }
}
