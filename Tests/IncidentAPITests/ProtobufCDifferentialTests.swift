// Differential test against libprotobuf-c: random messages encoded by us, decoded and re-encoded by protobuf-c,
// must decode in ours to the same message; protobuf-c must refuse none of them.
import Foundation
import IncidentAPI
import ProtoWire
import Testing

@Suite("libprotobuf-c differential")
struct ProtobufCDifferentialTests {
    /// protoc-c's C code for Protos/ and the round-trip program, built once per test run.
    static let harness: Result<String, ToolFailure> = {
        do {
            let dir = FileManager.default.temporaryDirectory.appending(path: "codec-protobuf-c-\(getpid())")
            try? FileManager.default.removeItem(at: dir)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            for name in ["incident_manager.proto", "incident_types.proto"] {
                let source = try String(contentsOf: ExternalTools.protosDir.appending(path: name), encoding: .utf8)
                // protoc-c 1.4 rejects proto3 `optional`; dropping it changes presence, not the wire format.
                try source.replacingOccurrences(of: "  optional ", with: "  ")
                    .write(to: dir.appending(path: name), atomically: true, encoding: .utf8)
            }
            _ = try ExternalTools.run("protoc-c", ["-I", dir.path, "--c_out=\(dir.path)", "incident_manager.proto",
                                                   "incident_types.proto"])
            let harnessSource = ExternalTools.packageRoot.appending(path: "Tests/Conformance/protobuf_c_roundtrip.c")
            let binary = dir.appending(path: "roundtrip").path
            // The Swift toolchain's clang will do when the system has no `cc`.
            let compiler = (try? ExternalTools.find("cc")) ?? "clang"
            _ = try ExternalTools.run(compiler, ["-O1", "-I", dir.path, "-o", binary, harnessSource.path,
                                             dir.appending(path: "incident_manager.pb-c.c").path,
                                             dir.appending(path: "incident_types.pb-c.c").path, "-lprotobuf-c"])
            return .success(binary)
        } catch let failure as ToolFailure {
            return .failure(failure)
        } catch {
            return .failure(ToolFailure(description: "\(error)"))
        }
    }()

    /// Sends messages through protobuf-c; returns its re-encodings (`nil` where it refused one).
    func throughProtobufC(_ type: String, _ messages: [[UInt8]]) throws -> [[UInt8]?] {
        let binary = try Self.harness.get()
        var input: [UInt8] = []
        for m in messages {
            withUnsafeBytes(of: UInt32(m.count).littleEndian) { input += $0 }
            input += m
        }
        let out = try ExternalTools.run(binary, [type], input: input)
        var results: [[UInt8]?] = []
        var i = 0
        while i + 4 <= out.count {
            let len = out[i..<i + 4].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
            i += 4
            if len == 0xFFFF_FFFF {
                results.append(nil)
                continue
            }
            results.append(Array(out[i..<i + Int(len)]))
            i += Int(len)
        }
        return results
    }

    func check<M: ProtoMessage>(_ messages: [M]) throws {
        let results = try throughProtobufC(M.protoMessageName, messages.map { $0.serializedBytes() })
        try #require(results.count == messages.count)
        for (message, result) in zip(messages, results) {
            let bytes = try #require(result, "protobuf-c refused a \(M.protoMessageName) we encoded")
            #expect(try M(serializedBytes: bytes) == message)
        }
    }

    @Test("random messages of every request and response type agree")
    func randomMessagesAgree() throws {
        var rng = SeededGenerator(seed: 20251111)
        try check([ShieldExample.request] + (0..<300).map { _ in RandomMessages.createRequest(&rng) })
        try check((0..<200).map { _ in RandomMessages.createResponse(&rng) })
        try check((0..<200).map { _ in RandomMessages.incident(&rng) })
        try check((0..<200).map { _ in RandomMessages.updateRequest(&rng) })
        try check((0..<200).map { _ in RandomMessages.streamRequest(&rng) })
        try check((0..<50).map { _ in RandomMessages.listResponse(&rng) })
    }

    @Test("unknown fields survive a trip through protobuf-c and back")
    func unknownFieldsSurvive() throws {
        var request = ShieldExample.request
        // Field 99 (length-delimited) and 100 (varint): unknown to both schemas.
        request.unknownFields.bytes = [0x9A, 0x06, 0x03, 0x61, 0x62, 0x63, 0xA0, 0x06, 0x96, 0x01]
        try check([request])
    }
}
