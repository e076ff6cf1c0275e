// Durable incident inserts per second through group commit at several concurrency levels, beside pgbench
// inserting the same rows one transaction each, on the same database in the same run.
import Foundation
import IncidentCore
import IncidentStore

/// What the benchmark was asked to do.
struct BenchmarkOptions {
    var url: String
    var seconds = 5
    var concurrency = [64, 256]
    var pgbench: String?

    init() {
        let environment = ProcessInfo.processInfo.environment
        guard let url = environment["DATABASE_URL"] else {
            FileHandle.standardError.write(Data("StoreBenchmark: set DATABASE_URL (make bench-store does)\n".utf8))
            exit(2)
        }
        self.url = url
        if let seconds = environment["BENCH_SECONDS"].flatMap(Int.init) { self.seconds = seconds }
        if let levels = environment["BENCH_CONCURRENCY"] {
            concurrency = levels.split(separator: ",").compactMap { Int($0) }
        }
        pgbench = environment["PGBENCH"]
    }
}

/// Runs `callers` tasks creating distinct incidents for `seconds`; returns acked creates per second.
func groupCommitRate(store: IncidentStore, callers: Int, seconds: Int, run: Int) async throws -> Double {
    let deadline = ContinuousClock.now + .seconds(seconds)
    let start = ContinuousClock.now
    let acked = try await withThrowingTaskGroup(of: Int.self) { group in
        for caller in 0..<callers {
            group.addTask {
                var count = 0
                while ContinuousClock.now < deadline {
                    let draft = IncidentDraft(
                        source: "bench", eventID: "r\(run)-c\(caller)-\(count)", contentHash: Array("x".utf8),
                        severity: Severity.allCases[count % 5], title: "Prompt injection detected",
                        description: "benchmark", eventType: "prompt_injection", category: "llm",
                        tags: ["env": "bench"])
                    _ = try await store.createIncident(CreateIncidentRequest(draft: draft, actor: "bench"))
                    count += 1
                }
                return count
            }
        }
        return try await group.reduce(0, +)
    }
    let elapsed = ContinuousClock.now - start
    return Double(acked) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

/// pgbench, one transaction per row: the same event, incident, change-log and audit rows our writer stores,
/// written without group commit (Postgres still merges concurrent fsyncs).
func pgbenchRate(pgbench: String, url: String, clients: Int, seconds: Int) throws -> Double {
    let script = NSTemporaryDirectory() + "im-bench-\(UUID().uuidString).sql"
    try """
        \\set n random(1, 1000000000)
        BEGIN;
        INSERT INTO bench_events (source, event_id, content_hash, incident_id) VALUES ('pgbench', :client_id || '-' || :n || '-' || random(), '\\x78', 'INC-X');
        INSERT INTO bench_incidents (id, status, severity, priority, title, description, source, event_type, category, tags, created_at, updated_at, position) VALUES ('INC-' || :client_id || '-' || :n || '-' || random(), 'NEW', 'high', 1, 'Prompt injection detected', 'benchmark', 'pgbench', 'prompt_injection', 'llm', '{"env": "bench"}', now(), now(), nextval('bench_positions'));
        INSERT INTO bench_change_log (position, incident_id, kind, version) VALUES (nextval('bench_positions'), 'INC-X', 'created', 1);
        INSERT INTO bench_audit_log (seq, incident_id, actor, action, new_value, at, prev_hash, hash) VALUES (nextval('bench_positions'), 'INC-X', 'bench', 'created', '{"status": "NEW"}', now(), '\\x00', sha256('\\x00'));
        COMMIT;
        """.write(toFile: script, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: script) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: pgbench)
    process.arguments = ["-n", "-f", script, "-c", String(clients), "-j", "2", "-T", String(seconds), url]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("tps = ") }),
          let tps = Double(line.dropFirst(6).prefix { $0 == "." || $0.isNumber }) else {
        throw BenchmarkFailure(description: "pgbench output had no tps line:\n\(text)")
    }
    return tps
}

/// Tables shaped exactly like the store's (same columns, constraints and indexes) for pgbench to fill.
func preparePgbenchTables(psql: String, url: String) throws {
    let ddl = """
        CREATE TABLE IF NOT EXISTS bench_events (LIKE events INCLUDING ALL);
        CREATE TABLE IF NOT EXISTS bench_incidents (LIKE incidents INCLUDING ALL);
        CREATE TABLE IF NOT EXISTS bench_change_log (LIKE change_log INCLUDING ALL);
        CREATE TABLE IF NOT EXISTS bench_audit_log (LIKE audit_log INCLUDING ALL);
        CREATE SEQUENCE IF NOT EXISTS bench_positions;
        """
    let process = Process()
    process.executableURL = URL(fileURLWithPath: psql)
    process.arguments = ["-q", "-v", "ON_ERROR_STOP=1", "-c", ddl, url]
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw BenchmarkFailure(description: "psql could not create bench tables") }
}

struct BenchmarkFailure: Error, CustomStringConvertible {
    let description: String
}

let options = BenchmarkOptions()
let settings = ConnectionSettings(url: options.url)
let store = try await IncidentStore.open(StoreConfiguration(connection: settings, poolSize: 2, writers: 2,
                                                            maxBatch: 512))
if let pgbench = options.pgbench {
    try preparePgbenchTables(psql: URL(fileURLWithPath: pgbench).deletingLastPathComponent().appendingPathComponent("psql").path,
                             url: options.url)
}
print("StoreBenchmark: \(options.seconds)s per run, synchronous_commit on, \(ProcessInfo.processInfo.activeProcessorCount) cores")
var run = 0
for callers in options.concurrency {
    run += 1
    let groupRate = try await groupCommitRate(store: store, callers: callers, seconds: options.seconds,
                                              run: Int(Date().timeIntervalSince1970) * 10 + run)
    var line = String(format: "callers=%d  group-commit=%.0f incidents/s", callers, groupRate)
    if let pgbench = options.pgbench {
        let single = try pgbenchRate(pgbench: pgbench, url: options.url, clients: callers, seconds: options.seconds)
        line += String(format: "  pgbench-one-tx-each=%.0f incidents/s  ratio=%.1fx", single, groupRate / single)
    }
    print(line)
}
store.shutdown()
