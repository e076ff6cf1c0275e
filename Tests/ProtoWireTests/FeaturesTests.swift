// Every proto3 feature of Protos/conformance_features.proto, through our codec and protoc's.
import Foundation
import ProtoWire
import Testing

typealias Everything = Conformance_Features_Everything
typealias Scalars = Conformance_Features_Scalars
typealias Tree = Conformance_Features_Tree

enum Fixtures {
    static let protosDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "Protos")

    static func run(_ arguments: [String], input: [UInt8]) throws -> [UInt8] {
        let scratch = FileManager.default.temporaryDirectory.appending(path: "wire-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        try Data(input).write(to: scratch.appending(path: "in"))
        _ = FileManager.default.createFile(atPath: scratch.appending(path: "out").path, contents: nil)
        _ = FileManager.default.createFile(atPath: scratch.appending(path: "err").path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["protoc"] + arguments
        process.standardInput = try FileHandle(forReadingFrom: scratch.appending(path: "in"))
        process.standardOutput = try FileHandle(forWritingTo: scratch.appending(path: "out"))
        process.standardError = try FileHandle(forWritingTo: scratch.appending(path: "err"))
        try process.run()
        process.waitUntilExit()
        let err = (try? String(contentsOf: scratch.appending(path: "err"), encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "protoc failed (install protobuf-compiler): \(err)"])
        }
        return try [UInt8](Data(contentsOf: scratch.appending(path: "out")))
    }

    static var scalars: Scalars {
        var s = Scalars()
        s.fDouble = -2.5e-300
        s.fFloat = 3.25
        s.fInt32 = -5
        s.fInt64 = Int64.min
        s.fUint32 = UInt32.max
        s.fUint64 = UInt64.max
        s.fSint32 = Int32.min
        s.fSint64 = -1
        s.fFixed32 = 0xDEAD_BEEF
        s.fFixed64 = 1 << 63
        s.fSfixed32 = -7
        s.fSfixed64 = Int64.max
        s.fBool = true
        s.fString = "héllo \u{1F525}"
        s.fBytes = [0, 255, 128]
        s.fColor = .blue
        return s
    }

    static var everything: Everything {
        var e = Everything()
        e.scalars = scalars
        e.maybeInt = 0
        e.maybeString = ""
        e.maybeColor = .unrecognized(77)
        e.rInt32 = [1, -1, 300]
        e.rSint64 = [-3, 3, Int64.min]
        e.rDouble = [0.5, -0.0, .infinity]
        e.rFixed32 = [1, 2]
        e.rBool = [true, false]
        e.rColor = [.red, .unrecognized(9)]
        e.rString = ["a", ""]
        e.rBytes = [[], [1]]
        e.rScalars = [Scalars(), scalars]
        e.rUnpacked = [5, 6]
        e.mStringInt64 = ["a": -1, "": 0]
        e.mInt32String = [-1: "neg", 0: ""]
        e.mUint64Message = [7: scalars, 0: Scalars()]
        e.mBoolColor = [true: .green, false: .unspecified]
        e.mSint32Bytes = [-9: [9]]
        e.choice = .choiceMessage(scalars)
        var nested = Everything.Nested()
        nested.mood = .calm
        nested.note = "n"
        e.nested = nested
        var tree = Tree()
        tree.name = "root"
        var leaf = Tree()
        leaf.extra = .leaf("x")
        tree.left = leaf
        tree.children = [leaf, leaf]
        tree.extra = .only(leaf)
        e.tree = tree
        var label = Conformance_Features_Imported_Label()
        label.key = "k"
        label.values = ["v1", "v2"]
        e.label = label
        e.fieldWithBigNumber = 42
        return e
    }
}

@Suite("proto3 features")
struct FeaturesTests {
    @Test("everything survives our encoder, protoc's decoder and encoder, and our decoder")
    func throughProtoc() throws {
        let original = Fixtures.everything
        let args = ["-I", Fixtures.protosDir.path, "conformance_features.proto"]
        let text = String(decoding: try Fixtures.run(["--decode=conformance.features.Everything"] + args,
                                                     input: original.serializedBytes()), as: UTF8.self)
        #expect(text.contains("f_string: \"h\\303\\251llo \\360\\237\\224\\245\""))
        #expect(text.contains("maybe_color: 77"))
        #expect(text.contains("field_with_big_number: 42"))
        let back = try Fixtures.run(["--encode=conformance.features.Everything"] + args, input: Array(text.utf8))
        #expect(try Everything(serializedBytes: back) == original)
    }

    @Test("JSON round-trips every feature")
    func json() throws {
        let original = Fixtures.everything
        let json = original.jsonString()
        #expect(json.contains("\"fInt64\":\"-9223372036854775808\""))
        #expect(json.contains("\"customNote\":\"n\""))
        #expect(json.contains("\"rDouble\":[0.5,-0,\"Infinity\"]"))
        #expect(json.contains("\"mBoolColor\":{\"false\":\"COLOR_UNSPECIFIED\",\"true\":\"COLOR_GREEN\"}"))
        #expect(try Everything(jsonString: json) == original)
    }

    @Test("fields unknown to the reader are kept and re-encoded byte for byte")
    func unknownFieldsKept() throws {
        let bytes = Fixtures.everything.serializedBytes()
        let empty = try Conformance_Features_Empty(serializedBytes: bytes)
        #expect(empty.unknownFields.bytes == bytes)
        #expect(empty.serializedBytes() == bytes)
    }

    @Test("repeated scalars are read packed and unpacked; packed ones are written packed")
    func packedAndUnpacked() throws {
        // r_int32 = 5: unpacked 1, then packed [2, 3], then unpacked 4.
        let bytes: [UInt8] = [0x28, 0x01, 0x2A, 0x02, 0x02, 0x03, 0x28, 0x04]
        let e = try Everything(serializedBytes: bytes)
        #expect(e.rInt32 == [1, 2, 3, 4])
        #expect(e.serializedBytes() == [0x2A, 0x04, 0x01, 0x02, 0x03, 0x04])
        // [packed = false] stays unpacked.
        var u = Everything()
        u.rUnpacked = [1, 2]
        #expect(u.serializedBytes() == [0x70, 0x01, 0x70, 0x02])
        // A packed fixed32 run whose length is not a multiple of 4 is malformed.
        #expect(throws: ProtoDecodingError.malformedField(field: 8)) {
            try Everything(serializedBytes: [0x42, 0x03, 0x01, 0x02, 0x03])
        }
    }

    @Test("a recursive message nests to the limit and no further")
    func recursion() throws {
        func nested(_ depth: Int) -> Tree {
            var t = Tree()
            t.name = "leaf"
            for _ in 0..<depth {
                var parent = Tree()
                parent.left = t
                t = parent
            }
            return t
        }
        let ok = nested(100)
        #expect(try Tree(serializedBytes: ok.serializedBytes()) == ok)
        #expect(throws: ProtoDecodingError.recursionLimitExceeded(limit: 100)) {
            try Tree(serializedBytes: nested(101).serializedBytes())
        }
    }

    @Test("a repeated message field merges, a repeated singular message merges into the first")
    func merging() throws {
        var a = Everything()
        a.scalars = Scalars()
        a.scalars?.fInt32 = 1
        var b = Everything()
        b.scalars = Scalars()
        b.scalars?.fString = "s"
        let merged = try Everything(serializedBytes: a.serializedBytes() + b.serializedBytes())
        #expect(merged.scalars?.fInt32 == 1)
        #expect(merged.scalars?.fString == "s")
    }

    @Test("enums keep unknown values and know their names")
    func enums() {
        #expect(Conformance_Features_Color(rawValue: -3) == .blue)
        #expect(Conformance_Features_Color(rawValue: 5) == .unrecognized(5))
        #expect(Conformance_Features_Color.blue.protoName == "COLOR_BLUE")
        #expect(Conformance_Features_Aliased(protoName: "ALIASED_UNO") == .one)
        #expect(Conformance_Features_Aliased.uno == .one)
    }

    @Test("the descriptor equals protoc's")
    func descriptor() throws {
        let ours = ConformanceFeaturesProtoFile.descriptor.serializedDescriptor
        let theirs = try Fixtures.run(["-I", Fixtures.protosDir.path, "--descriptor_set_out=/dev/stdout",
                                       "conformance_features.proto"], input: [])
        let decode = ["-I", "/usr/include", "--decode=google.protobuf.FileDescriptorSet", "google/protobuf/descriptor.proto"]
        var set: [UInt8] = [0x0A]
        var n = ours.count
        while n >= 0x80 { set.append(UInt8(n & 0x7F) | 0x80); n >>= 7 }
        set.append(UInt8(n))
        let oursText = try Fixtures.run(decode, input: set + ours)
        let theirsText = try Fixtures.run(decode, input: theirs)
        // Ours carries the comments in source_code_info; protoc's has none without --include_source_info.
        var oursLines = String(decoding: oursText, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        if let start = oursLines.firstIndex(of: "  source_code_info {"),
           let end = oursLines[start...].firstIndex(of: "  }") {
            oursLines.removeSubrange(start...end)
        }
        #expect(oursLines.joined(separator: "\n") == String(decoding: theirsText, as: UTF8.self))
    }
}
