// Our FileDescriptorProto against protoc's: byte for byte without source info, and with it the same leading and
// trailing comments (and spans) on every message, field, oneof, enum, enum value, service and method, by
// SourceCodeInfo path. protoc's --include_source_info output is read with a small wire reader below.
import Foundation
@testable import ProtoSyntax
import Testing

@Suite("descriptors against protoc")
struct SourceInfoTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let protos = root.appending(path: "Protos")

    /// Runs protoc, answering its stdout; protoc comes from the Makefile's `protobuf-compiler`.
    static func protoc(_ arguments: [String]) throws -> [UInt8] {
        let scratch = FileManager.default.temporaryDirectory.appending(path: "protoc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let out = scratch.appending(path: "set.pb")
        let err = scratch.appending(path: "err")
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["protoc", "--descriptor_set_out=\(out.path)"] + arguments
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let message = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
            throw CocoaError(.fileReadUnknown, userInfo: [
                NSLocalizedDescriptionKey: "protoc failed (install protobuf-compiler): \(message)",
            ])
        }
        return try [UInt8](Data(contentsOf: out))
    }

    /// The one FileDescriptorProto in protoc's FileDescriptorSet (field 1; no --include_imports).
    static func protocFile(_ name: String, protoPath: URL, sourceInfo: Bool) throws -> [UInt8] {
        let set = try protoc(["-I", protoPath.path] + (sourceInfo ? ["--include_source_info"] : []) + [name])
        let files = try WireFields(set).bytes(1)
        try #require(files.count == 1)
        return files[0]
    }

    /// Every .proto under `dir`, relative to it, parsed into one schema (imports resolve among them).
    static func schema(of dir: URL) throws -> (names: [String], schema: ProtoSchema) {
        let walker = try #require(FileManager.default.enumerator(atPath: dir.path))
        var names: [String] = []
        while let path = walker.nextObject() as? String {
            if path.hasSuffix(".proto") { names.append(path) }
        }
        names.sort()
        let files = try names.map { name in
            try Parser.parse(String(contentsOf: dir.appending(path: name), encoding: .utf8), name: name)
        }
        return (names, try ProtoSchema(files: files))
    }

    /// A location's comments and span, keyed by its path.
    struct Commented: Hashable, CustomStringConvertible {
        var span: [Int]
        var leading: String?
        var trailing: String?
        var description: String { "span \(span) leading \(leading.debugDescription) trailing \(trailing.debugDescription)" }
    }

    /// The commented locations of a FileDescriptorProto's source_code_info whose path names a declaration our
    /// writer records (protoc also comments `syntax`, `package`, options, reserved ranges: those are skipped).
    static func commentedDeclarations(_ file: [UInt8]) throws -> [[Int]: Commented] {
        var out: [[Int]: Commented] = [:]
        for info in try WireFields(file).bytes(9) {
            for location in try WireFields(info).bytes(1) {
                let fields = try WireFields(location)
                let path = try fields.packedInts(1)
                let leading = fields.bytes(3).last.map { String(decoding: $0, as: UTF8.self) }
                let trailing = fields.bytes(4).last.map { String(decoding: $0, as: UTF8.self) }
                guard leading != nil || trailing != nil, isDeclaration(path) else { continue }
                out[path] = Commented(span: try fields.packedInts(2), leading: leading, trailing: trailing)
            }
        }
        return out
    }

    /// Whether `path` leads to a message, field, oneof, enum, enum value, service or method (descriptor.proto's
    /// field numbers, each followed by an index).
    static func isDeclaration(_ path: [Int]) -> Bool {
        enum Scope { case file, message, enumeration, service, leaf }
        var scope = Scope.file
        var rest = path[...]
        guard !rest.isEmpty, rest.count % 2 == 0 else { return false }
        while let number = rest.popFirst() {
            _ = rest.popFirst()
            switch (scope, number) {
            case (.file, 4), (.message, 3): scope = .message
            case (.file, 5), (.message, 4): scope = .enumeration
            case (.file, 6): scope = .service
            case (.message, 2), (.message, 8), (.enumeration, 2), (.service, 2): scope = .leaf
            default: return false
            }
        }
        return true
    }

    /// Compares every file under `dir` with protoc's.
    static func compareWithProtoc(_ dir: URL) throws {
        let (names, schema) = try schema(of: dir)
        let writer = DescriptorWriter(schema: schema)
        for name in names {
            let plain = try protocFile(name, protoPath: dir, sourceInfo: false)
            #expect(try writer.fileDescriptor(name, includingComments: false) == plain, "\(name) without source info")

            let theirs = try commentedDeclarations(try protocFile(name, protoPath: dir, sourceInfo: true))
            let ours = try commentedDeclarations(try writer.fileDescriptor(name))
            for path in Set(theirs.keys).union(ours.keys).sorted(by: { $0.lexicographicallyPrecedes($1) })
            where theirs[path] != ours[path] {
                Issue.record("\(name) \(path): protoc \(theirs[path]?.description ?? "none"), ours \(ours[path]?.description ?? "none")")
            }
        }
    }

    @Test("every file of Protos/ has protoc's bytes and protoc's comments")
    func serviceProtos() throws {
        try Self.compareWithProtoc(Self.protos)
        // What the issue asks grpcurl users to see.
        let (_, schema) = try Self.schema(of: Self.protos)
        let types = try Self.commentedDeclarations(DescriptorWriter(schema: schema).fileDescriptor("incident_types.proto"))
        let incident = try #require(schema.files["incident_types.proto"]?.messages.firstIndex { $0.name == "Incident" })
        #expect(types[[4, incident, 2, 2]]?.leading?.contains("P0 (page now) to P4") == true)
    }

    /// Where protoc's rules are subtle: blank lines, block comments, same-line comments, comments closing a scope,
    /// tabs and multi-byte characters in spans, declarations over several lines.
    static let edgeCases = #"""
        // Detached from syntax by the blank line.

        // Leads syntax.
        syntax = "proto3";

        package edge.v1;

        /* A block comment
         * over two lines. */
        message Outer { // Trails the message.
          // Leads a.
          int32 a = 1; // Trails a.
          int32 b = 2;
          // Trails b: nothing is below it in the scope.
        }

        // Detached by the blank line below.

        message Second {
        	// Tab-indented.
        	string tabbed = 1;
          /* café */ int32 after_block = 2;
          int32 x = 3; /* same line as y */ int32 y = 4;
          /* block */
          // then a line: the block trails y, the line leads z.
          int32 z = 5;
          repeated string long_field = 6
              [deprecated = true]; // Trails a field over two lines.
          // Leads a map.
          map<string, Outer> by_name = 7;
          // Leads an optional.
          optional uint64 count = 8;

          // Leads the oneof.
          oneof pick { // Trails the oneof.
            // Leads a member.
            string text = 9;
            Outer outer = 10; // Trails a member.
          }
          // Leads the nested enum.
          enum Mode {
            // Leads the zero value.
            MODE_UNSPECIFIED = 0;
            MODE_ON = 1; // Trails a value.
          }
          Mode mode = 11;
          message /* dropped */ Inner { int32 v = 1; } // After a closing brace: nobody's.
          Inner inner = 12;
        };

        // Leads a top-level enum.
        enum Level {
          LEVEL_UNSPECIFIED = 0;
          /** Javadoc style. */
          LEVEL_HIGH = 1;
        }

        // Leads the service.
        service Edge {
          // Leads a method.
          rpc Get(Outer) returns (Second); // Trails a method.
          // Leads a method with options.
          rpc Watch(stream Outer) returns (stream Second) { // Trails its brace.
            option deprecated = true;
          }
        }
        // At the end of the file.
        """#

    @Test("protoc's comment rules and spans on the edge cases")
    func edgeCaseComments() throws {
        let dir = FileManager.default.temporaryDirectory.appending(path: "edge-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.edgeCases.write(to: dir.appending(path: "edge.proto"), atomically: true, encoding: .utf8)
        try Self.compareWithProtoc(dir)
        // Not vacuous: protoc records these, and so must we.
        let (_, schema) = try Self.schema(of: dir)
        let ours = try Self.commentedDeclarations(DescriptorWriter(schema: schema).fileDescriptor("edge.proto"))
        #expect(ours[[4, 0]] == Commented(span: [9, 0, 14, 1], leading: " A block comment\n over two lines. ",
                                          trailing: " Trails the message.\n"))
        #expect(ours[[4, 0, 2, 1]]?.trailing == " Trails b: nothing is below it in the scope.\n")
        #expect(ours[[4, 1]] == nil)
        #expect(ours[[4, 1, 2, 1]]?.leading == " café ")
        #expect(ours[[6, 0, 2, 1]]?.trailing == " Trails its brace.\n")
        #expect(ours.count >= 20)
    }

    @Test("a file without comments gets no source_code_info")
    func noComments() throws {
        let file = try Parser.parse("syntax = \"proto3\";\nmessage A { int32 x = 1; }\n", name: "plain.proto")
        let writer = DescriptorWriter(schema: try ProtoSchema(files: [file]))
        #expect(try writer.fileDescriptor("plain.proto") == writer.fileDescriptor("plain.proto", includingComments: false))
        #expect(try WireFields(writer.fileDescriptor("plain.proto")).bytes(9).isEmpty)
    }
}

/// The top-level fields of one protobuf message, enough to read descriptors: varints and length-delimited values.
struct WireFields {
    struct Malformed: Error, CustomStringConvertible {
        var description: String { "malformed protobuf bytes" }
    }

    private var fields: [(number: Int, varint: UInt64?, bytes: [UInt8]?)] = []

    init(_ data: [UInt8]) throws {
        var index = 0
        func varint() throws -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard index < data.count, shift < 64 else { throw Malformed() }
                let byte = data[index]
                index += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
        }
        while index < data.count {
            let key = try varint()
            switch key & 7 {
            case 0: fields.append((Int(key >> 3), try varint(), nil))
            case 2:
                let length = Int(try varint())
                guard length <= data.count - index else { throw Malformed() }
                fields.append((Int(key >> 3), nil, Array(data[index..<index + length])))
                index += length
            case 1: index += 8
            case 5: index += 4
            default: throw Malformed()
            }
        }
    }

    /// Every length-delimited value of field `number`, in order.
    func bytes(_ number: Int) -> [[UInt8]] {
        fields.filter { $0.number == number }.compactMap(\.bytes)
    }

    /// A repeated int32, packed or not.
    func packedInts(_ number: Int) throws -> [Int] {
        var out: [Int] = []
        for field in fields where field.number == number {
            if let value = field.varint { out.append(Int(Int32(truncatingIfNeeded: value))) }
            if let packed = field.bytes { out += try Self.varints(packed).map { Int(Int32(truncatingIfNeeded: $0)) } }
        }
        return out
    }

    private static func varints(_ data: [UInt8]) throws -> [UInt64] {
        var out: [UInt64] = []
        var value: UInt64 = 0
        var shift: UInt64 = 0
        for byte in data {
            guard shift < 64 else { throw Malformed() }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                out.append(value)
                value = 0
                shift = 0
            } else {
                shift += 7
            }
        }
        guard shift == 0 else { throw Malformed() }
        return out
    }
}
