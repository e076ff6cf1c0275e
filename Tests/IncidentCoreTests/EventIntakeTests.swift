import Foundation
import Testing
@testable import IncidentCore

/// The integration spec's LLM-Shield example event.
func shieldEvent() -> SecurityEvent {
    SecurityEvent(
        eventID: "shield-2025-005678", source: "llm-shield", sourceVersion: "2.1.0", timestamp: "2025-11-11T10:35:00Z",
        eventType: "violation", category: "security", title: "Prompt Injection Detected",
        description: "Malicious prompt injection attempt blocked", severity: "critical",
        resource: Resource(type: "model", id: "model-gpt4-prod", name: "GPT-4 Production",
                           metadata: ["model_version": "gpt-4-0613", "deployment_id": "dep-12345"]),
        metrics: ["confidence_score": 0.95, "attack_vectors": 3],
        tags: ["environment": "production", "user_id": "user-789", "session_id": "sess-abc123"],
        encryptedPayload: [1, 2, 3])
}

@Suite struct EventValidatorTests {
    let validator = EventValidator()

    @Test func acceptsAndNormalizesTheSpecExample() throws {
        var event = shieldEvent()
        event.severity = " CRITICAL "
        event.eventType = "Prompt_Injection"
        let validated = try validator.validate(event)
        #expect(validated.severity == .critical)
        #expect(validated.event.severity == "critical")
        #expect(validated.event.eventType == "prompt_injection")
        #expect(validated.occurredAt == Date(timeIntervalSince1970: 1_762_857_300))
    }

    @Test(arguments: [
        ("event_id", "", "is required"),
        ("source", "", "is required"),
        ("title", "  ", "is required"),
        ("severity", "", "is required"),
        ("severity", "urgent", "must be one of P0, P1, P2, P3, P4, critical, high, medium, low, info"),
        ("timestamp", "yesterday", "RFC 3339"),
        ("event_id", "a b", "spaces"),
        ("event_id", String(repeating: "x", count: 257), "at most 256"),
        ("description", String(repeating: "x", count: 16 * 1024 + 1), "at most 16384"),
    ])
    func refusesNamingTheField(field: String, value: String, problem: String) {
        var event = shieldEvent()
        switch field {
        case "event_id": event.eventID = value
        case "source": event.source = value
        case "title": event.title = value
        case "severity": event.severity = value
        case "timestamp": event.timestamp = value
        default: event.description = value
        }
        #expect {
            _ = try validator.validate(event)
        } throws: { error in
            guard let error = error as? EventValidationError else { return false }
            return error.field == field && error.problem.contains(problem)
        }
    }

    @Test func refusesOversizedMapsAndBadMetrics() {
        var event = shieldEvent()
        event.tags = Dictionary(uniqueKeysWithValues: (0..<65).map { ("k\($0)", "v") })
        #expect(throws: EventValidationError(field: "tags", problem: "has 65 entries; at most 64")) { try validator.validate(event) }
        event = shieldEvent()
        event.metrics["bad"] = .nan
        #expect(throws: EventValidationError(field: "metrics[\"bad\"]", problem: "must be a finite number")) { try validator.validate(event) }
        event = shieldEvent()
        event.encryptedPayload = [UInt8](repeating: 0, count: (1 << 20) + 1)
        #expect(throws: EventValidationError.self) { try validator.validate(event) }
    }

    @Test func acceptsFractionalSecondsAndOffsets() {
        #expect(EventValidator.parseRFC3339("2025-11-11T10:35:00.123Z") != nil)
        #expect(EventValidator.parseRFC3339("2025-11-11T12:35:00+02:00") == Date(timeIntervalSince1970: 1_762_857_300))
        #expect(EventValidator.parseRFC3339("2025-11-11 10:35") == nil)
    }
}

@Suite struct DraftBuilderTests {
    let plan = IncidentPlan(
        team: "security-team", escalationPolicy: "security-critical", channels: [], routingRule: nil, page: true,
        pageReasons: ["P0 with auto_page"],
        actions: [PlannedAction(rule: "block_user#1", kind: .blockUser, parameters: ["user_id": "user-789"],
                                state: .pending, compensateAfterSeconds: 86400)])

    @Test func buildsARedactedRoutedDraftWithHashes() throws {
        var event = shieldEvent()
        event.description = "from attacker@evil.example via 203.0.113.9"
        let validated = try EventValidator().validate(event)
        let draft = DraftBuilder(security: SecurityOptions(redactPII: true, includeRequestHash: true))
            .draft(from: validated, priority: .p0, plan: plan, actor: "llm-shield", requestBytes: [9, 9], now: Date(timeIntervalSince1970: 0))
        #expect(draft.description == "from [REDACTED:email] via [REDACTED:ip]")
        #expect(draft.assignedTeam == "security-team" && draft.escalationPolicy == "security-critical")
        #expect(draft.priority == .p0 && draft.severity == .critical)
        #expect(draft.encryptedPayload == [1, 2, 3])
        #expect(draft.requestHash == Digest.hex(Digest.sha256([9, 9])))
        #expect(draft.remediationActions == [RemediationAction(id: "A1", kind: "block_user", state: .pending,
                                                              params: ["user_id": "user-789", "rule": "block_user#1", "compensate_after_seconds": "86400"])])
        #expect(draft.timeline.map(\.kind) == ["created", "redacted", "routed", "page_scheduled", "remediation_planned"])
        // Nothing on the timeline repeats the redacted values.
        #expect(!draft.timeline.contains { $0.message.contains("attacker") || $0.message.contains("203.0.113.9") })
    }

    @Test func noRequestHashOrRedactionWhenSwitchedOff() throws {
        let validated = try EventValidator().validate(shieldEvent())
        let draft = DraftBuilder(security: SecurityOptions(redactPII: false, includeRequestHash: false))
            .draft(from: validated, priority: .p0, plan: plan, actor: "llm-shield", requestBytes: [1], now: Date())
        #expect(draft.requestHash == nil)
        #expect(draft.tags == shieldEvent().tags)
    }

    @Test func contentHashIgnoresMapOrderButNotContent() {
        let a = shieldEvent()
        var b = shieldEvent()
        b.tags = Dictionary(uniqueKeysWithValues: a.tags.reversed())
        #expect(DraftBuilder.contentHash(of: a) == DraftBuilder.contentHash(of: b))
        b.title = "Prompt Injection Detected!"
        #expect(DraftBuilder.contentHash(of: a) != DraftBuilder.contentHash(of: b))
        var c = shieldEvent()
        c.metrics["confidence_score"] = 0.96
        #expect(DraftBuilder.contentHash(of: a) != DraftBuilder.contentHash(of: c))
        // Field boundaries matter: moving a character between fields changes the hash.
        var d = shieldEvent(), e = shieldEvent()
        d.title = "ab"; d.description = "c"
        e.title = "a"; e.description = "bc"
        #expect(DraftBuilder.contentHash(of: d) != DraftBuilder.contentHash(of: e))
    }
}

@Suite struct DigestTests {
    @Test func hmacMatchesRFC4231TestCase2() {
        let mac = Digest.hmacSHA256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        #expect(Digest.hex(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func sha256OfABC() {
        #expect(Digest.hex(Digest.sha256(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}

@Suite("Validator text fast paths")
struct FastTextTests {
    /// ASCII and Unicode edges, blanks and capitals: the fast path must answer exactly as Foundation does.
    static let corpus = [
        "", " ", "\t", "abc", " abc ", "\tabc\t", "ABC", "aBc-1", "\u{00A0}abc", "abc\u{2003}", "\u{3000}",
        "Ünïcode", "ÀB", "x\u{0085}", "\u{0085}", "\n", "\r\n", "\u{000B}\u{000C}", "title", " T ", "İ", "ß",
        "\u{2028}", "a\u{200B}", "\u{1680}z",
    ]

    @Test("trimmed, lowercased and isBlank give Foundation's answers", arguments: corpus)
    func sameAsFoundation(text: String) {
        #expect(FastText.trimmed(text) == text.trimmingCharacters(in: .whitespaces))
        #expect(FastText.lowercased(text) == text.lowercased())
        #expect(FastText.isBlank(text) == text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
    }
}
