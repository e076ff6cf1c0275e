// The JSON log handler and the call scope: lines parse as JSON whatever the message holds, carry the call's
// ids, and a client's request id is echoed only when it is plain.
import Foundation
import IncidentServer
import Logging
import RPC
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("log lines")
struct LogLineTests {
    /// Runs `body` with a ServerLog writing JSON into a pipe and returns the lines written.
    private func captured(_ body: (ServerLog) async -> Void) async throws -> [[String: String]] {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let handler = LineLogHandler(label: "test", format: .json, level: .info, descriptor: fds[1])
        await body(ServerLog(logger: Logger(label: "test") { _ in handler }))
        close(fds[1])
        let data = FileHandle(fileDescriptor: fds[0], closeOnDealloc: true).readDataToEndOfFile()
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String], "\(line)")
        }
    }

    @Test("each record is one JSON object with ts, level, msg, logger and the call's ids")
    func jsonLines() async throws {
        let scope = CallScope(requestID: "req-1", method: "incident_manager.IncidentService/CreateIncident",
                              identity: "llm-shield")
        let lines = try await captured { log in
            CallScope.$current.withValue(scope) {
                log.info("quote \" backslash \\ newline \n tab \t bell \u{7} done", ["incident_id": "INC-1"])
            }
            log.error("outside a call")
            log.info("verbose off still logs errors only")
        }
        #expect(lines.count == 3)
        #expect(lines[0]["msg"] == "quote \" backslash \\ newline \n tab \t bell \u{7} done")
        #expect(lines[0]["level"] == "info" && lines[0]["logger"] == "test" && lines[0]["ts"] != nil)
        #expect(lines[0]["request_id"] == "req-1" && lines[0]["incident_id"] == "INC-1")
        #expect(lines[0]["identity"] == "llm-shield")
        #expect(lines[1]["level"] == "error" && lines[1]["request_id"] == nil)
    }

    @Test("a quiet log writes errors only; levels parse from INCIDENT_LOG_LEVEL's names")
    func levels() async throws {
        let lines = try await captured { log in
            var quiet = log
            quiet.verbose = false
            quiet.info("hidden")
            quiet.error("shown")
        }
        #expect(lines.map { $0["msg"] } == ["shown"])
        #expect(LineLogHandler.level(named: "WARNING") == .warning)
        #expect(LineLogHandler.level(named: "loud") == nil)
    }
}

@Suite("request ids")
struct RequestIDTests {
    private func scope(requestID: String?) -> CallScope {
        var metadata = Metadata()
        if let requestID { metadata.addString(requestID, forKey: "x-request-id") }
        return CallScope(context: ServerContext(
            method: MethodDescriptor(service: "incident_manager.IncidentService", method: "GetIncident"),
            peer: PeerIdentity(commonName: "secops", dnsNames: [], uris: [], fingerprintSHA256: ""),
            peerAddress: "ipv4:127.0.0.1:1", requestMetadata: metadata, deadline: nil))
    }

    @Test("a plain x-request-id is kept; a missing, long or odd one is replaced by 32 hex digits")
    func sanity() {
        #expect(scope(requestID: "abc-123_X.y:z").requestID == "abc-123_X.y:z")
        #expect(scope(requestID: "abc").method == "incident_manager.IncidentService/GetIncident")
        #expect(scope(requestID: "abc").identity == "secops")
        for odd in [nil, "", String(repeating: "a", count: 129), "a b", "x\",\"level\":\"error", "é"] {
            let made = scope(requestID: odd).requestID
            #expect(made.count == 32 && made.allSatisfy(\.isHexDigit), "\(String(describing: odd)) -> \(made)")
        }
        #expect(scope(requestID: nil).requestID != scope(requestID: nil).requestID)
    }
}

@Suite("operations flags")
struct OperationsFlagsTests {
    @Test("--metrics-listen and --log-format are read; a log format other than json or text is a usage error")
    func flags() throws {
        let options = try ServerOptions(arguments: ["--metrics-listen", "127.0.0.1:9464", "--log-format=json"])
        #expect(options.metricsListen == "127.0.0.1:9464" && options.logFormat == "json")
        let error = #expect(throws: UsageError.self) { try ServerOptions(arguments: ["--log-format", "xml"]) }
        #expect(error?.message.contains("json or text") == true)
        #expect(LogFormat(rawValue: "text") == .text)
    }
}
