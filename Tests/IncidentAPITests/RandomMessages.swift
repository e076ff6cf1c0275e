// Deterministic random messages for differential and corpus tests.
import IncidentAPI

/// SplitMix64: small, seeded, the same sequence on every run.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum RandomMessages {
    static let pieces = ["", "a", "incident", "ü", "日本語", "🔥", "x y", "\"q\"", "\\", "\n", "P0", "critical"]

    static func string(_ rng: inout SeededGenerator) -> String {
        (0..<Int.random(in: 0...3, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
    }

    static func nonEmptyString(_ rng: inout SeededGenerator) -> String { "s" + string(&rng) }

    static func uint64(_ rng: inout SeededGenerator) -> UInt64 {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: 0
        case 1: UInt64.random(in: 0..<128, using: &rng)
        case 2: UInt64.max
        default: rng.next() >> UInt64.random(in: 0..<64, using: &rng)
        }
    }

    static func double(_ rng: inout SeededGenerator) -> Double {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: 0.95
        case 1: -Double(Int.random(in: 0..<1000, using: &rng)) / 7
        case 2: Double.greatestFiniteMagnitude
        default: Double(bitPattern: rng.next() & 0x7FEF_FFFF_FFFF_FFFF)
        }
    }

    static func stringMap(_ rng: inout SeededGenerator) -> [String: String] {
        var map: [String: String] = [:]
        for _ in 0..<Int.random(in: 0...4, using: &rng) { map[string(&rng)] = string(&rng) }
        return map
    }

    static func metrics(_ rng: inout SeededGenerator) -> [String: Double] {
        var map: [String: Double] = [:]
        for _ in 0..<Int.random(in: 0...4, using: &rng) { map[string(&rng)] = double(&rng) }
        return map
    }

    static func bytes(_ rng: inout SeededGenerator) -> [UInt8] {
        (0..<Int.random(in: 0...40, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    static func resource(_ rng: inout SeededGenerator) -> Resource {
        var r = Resource()
        r.type = string(&rng)
        r.id = string(&rng)
        r.name = string(&rng)
        r.metadata = stringMap(&rng)
        return r
    }

    static func createRequest(_ rng: inout SeededGenerator) -> CreateIncidentRequest {
        var r = CreateIncidentRequest()
        r.eventId = string(&rng)
        r.source = string(&rng)
        r.sourceVersion = string(&rng)
        r.timestamp = string(&rng)
        r.eventType = string(&rng)
        r.category = string(&rng)
        r.title = string(&rng)
        r.description = string(&rng)
        r.severity = string(&rng)
        r.resource = Bool.random(using: &rng) ? resource(&rng) : nil
        r.metrics = metrics(&rng)
        r.tags = stringMap(&rng)
        r.encryptedPayload = bytes(&rng)
        return r
    }

    static func action(_ rng: inout SeededGenerator) -> RemediationAction {
        var a = RemediationAction()
        a.id = string(&rng)
        a.type = string(&rng)
        // Numbers past the named ones check that unknown enum values are kept.
        a.state = ActionState(rawValue: Int32.random(in: -2...12, using: &rng))
        a.reason = string(&rng)
        a.parameters = stringMap(&rng)
        a.attempts = UInt32.random(in: 0...UInt32.max, using: &rng)
        a.lastError = string(&rng)
        return a
    }

    static func incident(_ rng: inout SeededGenerator) -> Incident {
        var i = Incident()
        i.id = string(&rng)
        i.status = string(&rng)
        i.severity = string(&rng)
        i.title = string(&rng)
        i.description = string(&rng)
        i.createdAt = string(&rng)
        i.updatedAt = string(&rng)
        i.source = string(&rng)
        i.eventType = string(&rng)
        i.category = string(&rng)
        i.resource = Bool.random(using: &rng) ? resource(&rng) : nil
        i.metrics = metrics(&rng)
        i.tags = stringMap(&rng)
        i.assignedTeam = string(&rng)
        i.escalationPolicy = string(&rng)
        i.priority = string(&rng)
        i.eventCount = uint64(&rng)
        i.acknowledgedAt = string(&rng)
        i.resolvedAt = string(&rng)
        i.version = uint64(&rng)
        i.position = uint64(&rng)
        i.actions = (0..<Int.random(in: 0...3, using: &rng)).map { _ in action(&rng) }
        i.timeline = (0..<Int.random(in: 0...3, using: &rng)).map { _ in
            var t = TimelineEntry()
            t.at = string(&rng)
            t.kind = string(&rng)
            t.actor = string(&rng)
            t.message = string(&rng)
            t.position = uint64(&rng)
            t.details = stringMap(&rng)
            return t
        }
        i.eventId = string(&rng)
        return i
    }

    static func updateRequest(_ rng: inout SeededGenerator) -> UpdateIncidentRequest {
        var u = UpdateIncidentRequest()
        u.incidentId = string(&rng)
        // Optional fields are set to non-empty values or left out: protobuf-c (no proto3 optional) drops empty ones.
        u.status = Bool.random(using: &rng) ? nonEmptyString(&rng) : nil
        u.severity = Bool.random(using: &rng) ? nonEmptyString(&rng) : nil
        u.assignedTeam = Bool.random(using: &rng) ? nonEmptyString(&rng) : nil
        u.note = string(&rng)
        u.expectedVersion = uint64(&rng)
        u.actionDecisions = (0..<Int.random(in: 0...3, using: &rng)).map { _ in
            var d = ActionDecision()
            d.actionId = string(&rng)
            d.decision = ActionDecision.Decision(rawValue: Int32.random(in: 0...4, using: &rng))
            d.reason = string(&rng)
            return d
        }
        return u
    }

    static func streamRequest(_ rng: inout SeededGenerator) -> StreamIncidentsRequest {
        var s = StreamIncidentsRequest()
        s.severities = (0..<Int.random(in: 0...3, using: &rng)).map { _ in string(&rng) }
        s.categories = (0..<Int.random(in: 0...3, using: &rng)).map { _ in string(&rng) }
        s.statuses = (0..<Int.random(in: 0...3, using: &rng)).map { _ in string(&rng) }
        s.sincePosition = uint64(&rng)
        s.sources = (0..<Int.random(in: 0...2, using: &rng)).map { _ in string(&rng) }
        return s
    }

    static func listResponse(_ rng: inout SeededGenerator) -> ListIncidentsResponse {
        var l = ListIncidentsResponse()
        l.incidents = (0..<Int.random(in: 0...3, using: &rng)).map { _ in incident(&rng) }
        l.nextPageToken = string(&rng)
        return l
    }

    static func createResponse(_ rng: inout SeededGenerator) -> CreateIncidentResponse {
        var c = CreateIncidentResponse()
        c.status = string(&rng)
        c.incidentId = string(&rng)
        c.message = string(&rng)
        c.links = stringMap(&rng)
        c.duplicate = Bool.random(using: &rng)
        c.priority = string(&rng)
        c.version = uint64(&rng)
        c.position = uint64(&rng)
        return c
    }
}
