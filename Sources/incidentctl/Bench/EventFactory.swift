// The security events `incidentctl bench` creates: the integration guide's LLM-Shield event with a unique (or, at
// the --duplicates ratio, a repeated) event id, a severity drawn from the --severity-mix weights, and a tag that
// carries the run and sequence number so a stream subscriber can tell which create a delivery belongs to.
import ArgumentParser
import IncidentAPI
import IncidentCore

/// Severity weights, e.g. `critical=1,high=4,medium=20,low=75`.
struct SeverityMix: Sendable {
    /// Cumulative weights: severity i is chosen for draws below `bounds[i]`.
    let severities: [Severity]
    let bounds: [UInt64]

    init(parsing text: String) throws(ValidationError) {
        var severities: [Severity] = []
        var bounds: [UInt64] = []
        var total: UInt64 = 0
        for part in text.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, let severity = Severity(rawValue: pair[0].lowercased()),
                  let weight = UInt64(pair[1])
            else {
                throw ValidationError("--severity-mix: \"\(part)\" is not SEVERITY=WEIGHT with a severity of "
                                      + "\(Severity.allNames) and a whole-number weight")
            }
            guard weight > 0 else { continue }
            total += weight
            severities.append(severity)
            bounds.append(total)
        }
        guard total > 0 else { throw ValidationError("--severity-mix: no severity has a weight above 0") }
        self.severities = severities
        self.bounds = bounds
    }

    /// The severity for a draw in 0..<UInt64.max.
    func pick(_ draw: UInt64) -> Severity {
        let point = draw % bounds[bounds.count - 1]
        let index = bounds.firstIndex { point < $0 } ?? bounds.count - 1
        return severities[index]
    }
}

/// Builds the create requests of one run; the same sequence number always gives the same request.
struct EventFactory: Sendable {
    /// The tag whose value is `RUN/SEQUENCE`.
    static let sequenceTag = "bench_seq"
    /// The default source of benchmark events.
    static let defaultSource = "incidentctl-bench"

    let mix: SeverityMix
    let duplicateRatio: Double
    /// The source of every event of the run (stream subscribers filter on it); the identity the calls are made as
    /// must be allowed to report it (by default an identity reports only its own name).
    let source: String
    /// Random per run, so event ids never collide with an earlier run's on the same database.
    let run: String

    init(mix: SeverityMix, duplicateRatio: Double, source: String = EventFactory.defaultSource) {
        self.mix = mix
        self.duplicateRatio = duplicateRatio
        self.source = source
        run = String(UInt64.random(in: 0...UInt64(UInt32.max)) | 0x1_0000_0000, radix: 36)
    }

    /// The create request number `sequence`. A duplicate resends, byte for byte, the request of an earlier
    /// sequence number (the service refuses an event id reused with different content).
    func request(_ sequence: Int) -> CreateIncidentRequest {
        let draw = Self.mixBits(UInt64(sequence))
        var original = sequence
        if sequence > 0, duplicateRatio > 0, Double(draw >> 11) / Double(UInt64(1) << 53) < duplicateRatio {
            original = Int(Self.mixBits(draw) % UInt64(sequence))
        }
        return request(eventID: "bench-\(run)-\(original)", marker: String(original),
                       severity: mix.pick(Self.mixBits(Self.mixBits(UInt64(original)) ^ 0x5bd1_e995)))
    }

    /// A request outside the numbered load (`start`, `ready`): the stream fan-out's set-up markers.
    func marker(_ name: String) -> CreateIncidentRequest {
        request(eventID: "bench-\(run)-\(name)", marker: name, severity: .low)
    }

    private func request(eventID: String, marker: String, severity: Severity) -> CreateIncidentRequest {
        var request = CreateIncidentRequest()
        request.eventId = eventID
        request.source = source
        request.sourceVersion = "1"
        request.timestamp = "2026-01-01T00:00:00Z"
        request.eventType = "violation"
        request.category = "security"
        request.title = "Benchmark prompt injection"
        request.description = "Synthetic event from incidentctl bench"
        request.severity = severity.rawValue
        var resource = Resource()
        resource.type = "model"
        resource.id = "model-bench"
        resource.name = "Benchmark model"
        resource.metadata = ["deployment_id": "dep-bench"]
        request.resource = resource
        request.metrics = ["confidence_score": 0.95]
        request.tags = ["environment": "bench", Self.sequenceTag: "\(run)/\(marker)"]
        request.encryptedPayload = Array("benchmark ciphertext placeholder".utf8)
        return request
    }

    /// SplitMix64's finalizer: spreads consecutive sequence numbers over the whole range, deterministically.
    static func mixBits(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
