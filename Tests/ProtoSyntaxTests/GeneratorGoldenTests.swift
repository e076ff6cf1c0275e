// Golden files: the Swift the generator writes for our protos, checked against committed expected text, so a
// generator change shows its effect on the generated code as a diff in review.
//
// The protos are the live Protos/: a change to the API or to the generator fails this test until the golden files
// are regenerated, so the review shows what the change does to the generated Swift. Expected files end in
// `.swift.golden` and the folder is excluded from the target, so they are never compiled (generated code is not
// committed as source).
//
// Regenerate after an intended change: `make golden` (PROTO_GOLDEN_UPDATE=1 swift test --filter
// GeneratorGoldenTests), then review the diff.
import Foundation
import ProtoSwiftGenerator
import ProtoSyntax
import Testing

@Suite("generator golden files")
struct GeneratorGoldenTests {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "Golden")
    /// The repository's Protos/, two folders above this file's.
    static let protos = golden.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appending(path: "Protos")
    static let updating = ProcessInfo.processInfo.environment["PROTO_GOLDEN_UPDATE"] == "1"

    /// Every .proto under Protos/, relative to it, sorted (as the build plugin lists them).
    static func protoNames() throws -> [String] {
        let walker = try #require(FileManager.default.enumerator(atPath: protos.path()))
        var names: [String] = []
        while let path = walker.nextObject() as? String {
            if path.hasSuffix(".proto") { names.append(path) }
        }
        return names.sorted()
    }

    /// `grpc/health/v1/health.proto` → `grpc_health_v1_health.pb.swift.golden` (the plugin's output name).
    static func goldenName(for proto: String) -> String {
        String(proto.dropLast(".proto".count)).replacingOccurrences(of: "/", with: "_") + ".pb.swift.golden"
    }

    /// What the generator writes now: one text per expected file name.
    static func generated() throws -> [String: String] {
        let names = try protoNames()
        let files = try names.map { name in
            try Parser.parse(String(contentsOf: protos.appending(path: name), encoding: .utf8), name: name)
        }
        let generator = SwiftGenerator(schema: try ProtoSchema(files: files))
        var texts: [String: String] = [:]
        for name in names { texts[goldenName(for: name)] = try generator.generate(name) }
        texts["ProtoFileIndex.pb.swift.golden"] = generator.generateIndex(names)
        return texts
    }

    @Test("the generated Swift for Protos/ matches the committed golden files")
    func matchesGolden() throws {
        let texts = try Self.generated()
        #expect(texts.count >= 6)
        let existing = (try? FileManager.default.contentsOfDirectory(atPath: Self.golden.path())) ?? []
        let expectedNames = Set(existing.filter { $0.hasSuffix(".golden") })
        if Self.updating {
            for name in expectedNames.subtracting(texts.keys) {
                try FileManager.default.removeItem(at: Self.golden.appending(path: name))
            }
            for (name, text) in texts {
                try text.write(to: Self.golden.appending(path: name), atomically: true, encoding: .utf8)
            }
            return
        }
        #expect(expectedNames == Set(texts.keys), "golden files differ from the generated files: run `make golden`")
        for (name, text) in texts.sorted(by: { $0.key < $1.key }) {
            let expected = try? String(contentsOf: Self.golden.appending(path: name), encoding: .utf8)
            // Only the first differing line: whole files in the failure would bury it.
            if expected != text {
                Issue.record("""
                    \(name) differs from the generator's output: \(Self.firstDifference(expected ?? "", text)); \
                    if the change is intended, run `make golden` and review the diff
                    """)
            }
        }
    }

    /// The first differing line, so a failure says where to look without printing whole files.
    static func firstDifference(_ expected: String, _ actual: String) -> String {
        let old = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let new = actual.split(separator: "\n", omittingEmptySubsequences: false)
        for index in 0..<max(old.count, new.count) {
            let before = index < old.count ? String(old[index]) : "<end of file>"
            let after = index < new.count ? String(new[index]) : "<end of file>"
            if before != after { return "line \(index + 1): expected `\(before)`, generated `\(after)`" }
        }
        return "no line differs"
    }
}
