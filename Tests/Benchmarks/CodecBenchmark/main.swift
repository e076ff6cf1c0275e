// codec-bench: encode and decode of the integration guide's LLM-Shield CreateIncidentRequest, ns per message and MB/s.
// `make bench-codec` runs it beside the libprotobuf-c benchmark (Tests/Benchmarks/CodecBenchmarkC) in the same run.
#if canImport(Glibc)
import Glibc
#endif
import IncidentAPI
import ProtoWire

/// Process CPU time in seconds: like the C benchmark, so other load on the machine skews both sides less.
func cpuSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func shieldRequest() -> CreateIncidentRequest {
    var r = CreateIncidentRequest()
    r.eventId = "shield-2025-005678"
    r.source = "llm-shield"
    r.sourceVersion = "2.1.0"
    r.timestamp = "2025-11-11T10:35:00Z"
    r.eventType = "violation"
    r.category = "security"
    r.title = "Prompt Injection Detected"
    r.description = "Malicious prompt injection attempt blocked"
    r.severity = "critical"
    var resource = Resource()
    resource.type = "model"
    resource.id = "model-gpt4-prod"
    resource.name = "GPT-4 Production"
    resource.metadata = ["model_version": "gpt-4-0613", "deployment_id": "dep-12345"]
    r.resource = resource
    r.metrics = ["confidence_score": 0.95, "attack_vectors": 3]
    r.tags = ["environment": "production", "user_id": "user-789", "session_id": "sess-abc123"]
    // The same 96 opaque bytes the C benchmark sends.
    r.encryptedPayload = (0..<96).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
    return r
}

func measure(_ label: String, iterations: Int, bytesPerMessage: Int, _ body: () -> Int) {
    var sink = 0
    for _ in 0..<iterations / 10 { sink &+= body() }  // warm-up
    let start = cpuSeconds()
    for _ in 0..<iterations { sink &+= body() }
    let seconds = cpuSeconds() - start
    let ns = seconds * 1e9 / Double(iterations)
    let mbps = Double(bytesPerMessage) * Double(iterations) / seconds / 1e6
    print("swift \(label) \(bytesPerMessage) bytes: \(String(format3(ns))) ns/msg \(String(format3(mbps))) MB/s (sink \(sink & 1))")
}

func format3(_ v: Double) -> String {
    let scaled = (v * 10).rounded() / 10
    return String(scaled)
}

let iterations = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 200_000 : 200_000
let request = shieldRequest()
let encoded = request.serializedBytes()
// An optional second argument (encode or decode) runs only that half, for profiling.
let only = CommandLine.arguments.count > 2 ? CommandLine.arguments[2] : nil
if only != "decode" {
    measure("encode", iterations: iterations, bytesPerMessage: encoded.count) { request.serializedBytes().count }
}
if only != "encode" {
    measure("decode", iterations: iterations, bytesPerMessage: encoded.count) {
        (try? CreateIncidentRequest(serializedBytes: encoded))?.metrics.count ?? -1
    }
}
