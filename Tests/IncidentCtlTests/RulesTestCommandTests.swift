import Foundation
import Testing

/// Runs the real `incidentctl` binary that `swift build --build-tests` put beside the test bundle.
struct CLI {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static var binary: URL {
        // The test bundle lives in the build products folder next to the executables.
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        if url.lastPathComponent.hasSuffix(".xctest") { url.deleteLastPathComponent() }
        return url.appendingPathComponent("incidentctl")
    }

    static func fixture(_ name: String) -> String {
        Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil)!.path
    }

    static func run(_ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }
}

@Suite struct RulesTestCommandTests {
    @Test func showsWhoIsPagedAndWhatActsForEachRecordedEvent() throws {
        let result = try CLI.run(["rules", "test", "--config", CLI.fixture("rules.yaml"),
                                  "--events", CLI.fixture("events.jsonl"), "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let plans = result.stdout.split(separator: "\n").map {
            try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        #expect(plans.count == 6)
        func states(_ i: Int) -> [String] { (plans[i]["actions"] as! [[String: Any]]).map { $0["state"] as! String } }
        #expect(plans[0]["page"] as? Bool == true)
        #expect(states(0) == ["pending"])                 // P0 prompt injection blocks user-789
        // The same user's repeat a second later folds into the first incident (correlation): nothing starts.
        func correlation(_ i: Int) -> [String: Any] { plans[i]["correlation"] as! [String: Any] }
        #expect(states(1).isEmpty && plans[1]["page"] as? Bool == false)
        #expect(correlation(1)["folds"] as? Bool == true && correlation(1)["incident"] as? Int == 1)
        #expect(correlation(1)["opened_by"] as? String == "shield-1")
        #expect((2...5).map { correlation($0)["incident"] as? Int } == [2, 3, 4, 5])
        #expect((0...5).filter { correlation($0)["folds"] as? Bool == true } == [1])
        #expect(states(2) == ["awaiting_approval"])       // P1 policy violation: rate limit waits for a human
        #expect(states(3) == ["pending"])                 // second user of the tenant
        #expect(states(4) == ["capped_blast_radius"])     // third: the cap of 2 per 10 minutes stops automation
        #expect((plans[4]["page_reasons"] as! [String]).contains("blast-radius cap reached"))
        #expect(plans[5]["page"] as? Bool == false && states(5).isEmpty)
    }

    @Test func aRecordedEventMayNameALevelAsTheServerAccepts() throws {
        let events = FileManager.default.temporaryDirectory.appendingPathComponent("levels-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: events) }
        try Data(#"{"eventId": "custom-1", "source": "custom-monitor", "severity": "P2", "title": "Custom Alert"}"#
            .utf8).write(to: events)
        let result = try CLI.run(["rules", "test", "--config", CLI.fixture("rules.yaml"), "--events", events.path,
                                  "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let plan = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(plan?["priority"] as? String == "P2")
    }

    @Test func showsWhichIncidentEachEventFoldsIntoWithinTheWindow() throws {
        let events = FileManager.default.temporaryDirectory.appendingPathComponent("burst-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: events) }
        func line(_ id: String, _ time: String, _ severity: String, _ user: String) -> String {
            #"{"eventId": "\#(id)", "source": "llm-shield", "timestamp": "2025-11-11T\#(time)Z", "#
                + #""eventType": "prompt_injection", "severity": "\#(severity)", "tags": {"user_id": "\#(user)"}}"#
        }
        try [line("a1", "10:00:00", "high", "u1"), line("a2", "10:01:00", "critical", "u1"),
             line("a3", "10:17:00", "high", "u1"), line("b1", "10:17:01", "high", "u2")]
            .joined(separator: "\n").write(to: events, atomically: true, encoding: .utf8)
        let result = try CLI.run(["rules", "test", "--config", CLI.fixture("rules.yaml"), "--events", events.path,
                                  "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let fates = result.stdout.split(separator: "\n").map {
            (try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any])["correlation"] as! [String: Any]
        }
        #expect(fates.map { $0["incident"] as? Int } == [1, 1, 2, 3])
        #expect(fates.map { $0["folds"] as? Bool } == [false, true, false, false])
        // The critical raises the P1 it folds into; a3 comes 16 minutes after a2, past the 15-minute window.
        #expect(fates[1]["raises_from"] as? String == "P1")
        let text = try CLI.run(["rules", "test", "--config", CLI.fixture("rules.yaml"), "--events", events.path])
        #expect(text.stdout.contains("a2  critical/P0  prompt_injection  -> folds into incident #1 (opened by a1)"))
    }

    @Test func aBadRuleIsAConfigErrorNamingTheRule() throws {
        let result = try CLI.run(["rules", "test", "--config", CLI.fixture("unknown-action.yaml"),
                                  "--events", CLI.fixture("events.jsonl")])
        #expect(result.status == 78)
        #expect(result.stderr.contains("auto_remediation.actions[0].type: unknown action \"nuke\""))
    }
}
