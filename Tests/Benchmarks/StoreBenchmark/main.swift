// Durable incident inserts per second through group commit at several concurrency levels, beside pgbench
// inserting the same rows one transaction each, on the same database in the same run; then creates with correlation
// off against correlation on with 10% of the events folding into open incidents (issue 17), in the same run.
import Foundation
import Glibc
import IncidentCore
import IncidentStore

/// What the benchmark was asked to do.
struct BenchmarkOptions {
    var url: String
    var seconds = 5
    var concurrency = [64, 256]
    var pgbench: String?
    var writers = 1

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
        if let writers = environment["BENCH_WRITERS"].flatMap(Int.init) { self.writers = writers }
    }
}

/// How the creates of a run correlate.
enum CorrelationMix {
    /// No correlation key: every event opens its own incident (correlation off).
    case off
    /// Every event carries a key (correlation on, as llm-shield's `[source, event_type, tags.user_id]`): one in ten
    /// uses one of a few attackers' keys and folds into their open incident, the rest are users seen once.
    case tenPercentCorrelated
    /// Every event carries a key of its own: what keys cost without any fold (to tell the two costs apart).
    case keyedNoneFolded

    func key(run: Int, caller: Int, count: Int) -> CorrelationKey? {
        switch self {
        case .off: nil
        case .keyedNoneFolded: CorrelationKey(value: "bench:r\(run)-c\(caller)-\(count)", windowSeconds: 900)
        case .tenPercentCorrelated:
            CorrelationKey(value: count % 10 == 0 ? "bench:r\(run)-attacker-\(caller % 4)"
                                                  : "bench:r\(run)-c\(caller)-\(count)", windowSeconds: 900)
        }
    }
}

/// Runs `callers` tasks creating distinct incidents for `seconds`; returns acked creates per second.
func groupCommitRate(store: IncidentStore, callers: Int, seconds: Int, run: Int,
                     correlation: CorrelationMix = .off) async throws -> Double {
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
                    _ = try await store.createIncident(CreateIncidentRequest(
                        draft: draft, actor: "bench",
                        correlation: correlation.key(run: run, caller: caller, count: count)))
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

/// pgbench, one transaction per incident: the same event, incident, change-log and audit rows our writer stores,
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
    let text = try runTool(pgbench, ["-n", "-f", script, "-c", String(clients), "-j", "2", "-T", String(seconds), url])
    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("tps = ") }),
          let tps = Double(line.dropFirst(6).prefix { $0 == "." || $0.isNumber }) else {
        throw BenchmarkFailure(description: "pgbench output had no tps line:\n\(text)")
    }
    return tps
}

/// Tables shaped exactly like the store's (same columns, constraints and indexes) for pgbench to fill.
func preparePgbenchTables(psql: String, url: String) throws {
    let ddl = """
        SET client_min_messages = warning;
        CREATE TABLE IF NOT EXISTS bench_events (LIKE events INCLUDING ALL);
        CREATE TABLE IF NOT EXISTS bench_incidents (LIKE incidents INCLUDING ALL);
        CREATE TABLE IF NOT EXISTS bench_change_log (LIKE change_log INCLUDING ALL);
        CREATE TABLE IF NOT EXISTS bench_audit_log (LIKE audit_log INCLUDING ALL);
        CREATE SEQUENCE IF NOT EXISTS bench_positions;
        """
    _ = try runTool(psql, ["-q", "-v", "ON_ERROR_STOP=1", "-c", ddl, url])
}

/// Runs a tool to completion and returns its output. posix_spawn with an empty signal mask: the threads Swift
/// runs us on block signals, and a child inheriting that mask never sees pgbench's own SIGALRM for -T.
func runTool(_ path: String, _ arguments: [String]) throws -> String {
    let outputPath = NSTemporaryDirectory() + "im-bench-out-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: outputPath) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var noSignals = sigset_t()
    sigemptyset(&noSignals)
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    guard posix_spawn(&pid, path, &actions, &attributes, argv, environ) == 0 else {
        throw BenchmarkFailure(description: "cannot start \(path)")
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    guard status == 0 else { throw BenchmarkFailure(description: "\(path) failed (status \(status)):\n\(text)") }
    return text
}

/// Writes a line to stdout at once (print buffers when stdout is a pipe, and a crash would lose it).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

struct BenchmarkFailure: Error, CustomStringConvertible {
    let description: String
}

let options = BenchmarkOptions()
let settings = ConnectionSettings(url: options.url)
let store = try await IncidentStore.open(StoreConfiguration(connection: settings, poolSize: 2, writers: options.writers,
                                                            maxBatch: 512))
if let pgbench = options.pgbench {
    let psql = URL(fileURLWithPath: pgbench).deletingLastPathComponent().appendingPathComponent("psql").path
    try preparePgbenchTables(psql: psql,
                             url: options.url)
}
let cores = ProcessInfo.processInfo.activeProcessorCount
say("StoreBenchmark: \(options.seconds)s per run, \(options.writers) writers, synchronous_commit on, \(cores) cores")
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
    say(line)
}
// Correlation off and on in the same run, alternated so drift of the shared machine hits both alike.
for callers in options.concurrency {
    var rates: [CorrelationMix: [Double]] = [:]
    for mix in [CorrelationMix.off, .tenPercentCorrelated, .keyedNoneFolded, .off, .tenPercentCorrelated,
                .keyedNoneFolded] {
        run += 1
        rates[mix, default: []].append(try await groupCommitRate(
            store: store, callers: callers, seconds: options.seconds,
            run: Int(Date().timeIntervalSince1970) * 10 + run, correlation: mix))
    }
    let off = rates[.off]!.reduce(0, +) / 2, on = rates[.tenPercentCorrelated]!.reduce(0, +) / 2
    let keyed = rates[.keyedNoneFolded]!.reduce(0, +) / 2
    say(String(format: "callers=%d  correlation-off=%.0f incidents/s  correlation-on-10%%-folded=%.0f events/s  "
               + "on/off=%.2f  (keyed, none folded=%.0f/s)", callers, off, on, on / off, keyed))
}
store.shutdown()
