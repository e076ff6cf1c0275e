// proto3 JSON for incidentctl and webhooks: names, 64-bit integers, bytes, enums, maps, oneofs, errors.
import IncidentAPI
import ProtoWire
import Testing

@Suite("proto3 JSON")
struct JSONMappingTests {
    @Test("the LLM-Shield example round-trips through JSON with lowerCamelCase names and base64 bytes")
    func shieldExample() throws {
        let json = ShieldExample.request.jsonString()
        #expect(json.hasPrefix("{\"eventId\":\"shield-2025-005678\",\"source\":\"llm-shield\",\"sourceVersion\":\"2.1.0\""))
        #expect(json.contains("\"metrics\":{\"attack_vectors\":3,\"confidence_score\":0.95}"))
        #expect(json.contains("\"encryptedPayload\":\"" + Base64.encode(ShieldExample.encryptedDetails) + "\""))
        #expect(try CreateIncidentRequest(jsonString: json) == ShieldExample.request)
    }

    @Test("64-bit integers are strings; original field names and numbers as strings are accepted")
    func integersAndNames() throws {
        var incident = Incident()
        incident.version = UInt64.max
        incident.eventCount = 3
        #expect(incident.jsonString() == "{\"eventCount\":\"3\",\"version\":\"18446744073709551615\"}")
        let parsed = try Incident(jsonString: """
            {"event_count": 3, "version": "18446744073709551615", "assigned_team": "sec", "position": 1e3,
             "actions": [{"state": "ACTION_STATE_RUNNING", "attempts": "2"}, {"state": 42}], "resource": null}
            """)
        #expect(parsed.eventCount == 3)
        #expect(parsed.version == UInt64.max)
        #expect(parsed.assignedTeam == "sec")
        #expect(parsed.position == 1000)
        #expect(parsed.actions.map(\.state) == [.running, .unrecognized(42)])
        #expect(parsed.actions[0].attempts == 2)
        #expect(parsed.resource == nil)
        #expect(parsed.actions[1].jsonString() == "{\"state\":42}")
    }

    @Test("oneofs and optional fields keep presence")
    func presence() throws {
        var request = Grpc_Reflection_V1_ServerReflectionRequest()
        request.messageRequest = .listServices("")
        #expect(request.jsonString() == "{\"listServices\":\"\"}")
        #expect(try Grpc_Reflection_V1_ServerReflectionRequest(jsonString: request.jsonString()) == request)
        var update = UpdateIncidentRequest()
        update.status = ""
        #expect(update.jsonString() == "{\"status\":\"\"}")
        #expect(try UpdateIncidentRequest(jsonString: "{}").status == nil)
    }

    @Test("bad JSON is a clear error", arguments: [
        ("{\"nope\": 1}", "incident_manager.Incident has no field named \"nope\""),
        ("{\"version\": -1}", "version: expected an integer in range for UInt64"),
        ("{\"version\": 1.5}", "version: expected an integer in range for UInt64"),
        ("{\"title\": 3}", "title: expected a string"),
        ("{\"actions\": [{\"state\": \"BOGUS\"}]}", "state: expected a known enum name, not \"BOGUS\""),
        ("{\"title\": \"a\"", "invalid JSON at byte 13: unterminated object"),
        ("[1]", "incident_manager.Incident: expected a JSON object"),
    ])
    func errors(input: String, message: String) {
        #expect(throws: ProtoJSONError.self) { try Incident(jsonString: input) }
        do {
            _ = try Incident(jsonString: input)
        } catch {
            #expect(error.description == message)
        }
    }

    @Test("unknown members can be ignored on request")
    func ignoreUnknown() throws {
        let options = JSONDecodingOptions(ignoreUnknownFields: true)
        #expect(try Incident(jsonString: "{\"nope\": {\"x\": [1]}, \"id\": \"i\"}", options: options).id == "i")
    }

    @Test("deep JSON is refused")
    func deepJSON() {
        let deep = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        #expect(throws: ProtoJSONError.recursionLimitExceeded(limit: 100)) {
            try Incident(jsonString: "{\"tags\": \(deep)}")
        }
    }
}
