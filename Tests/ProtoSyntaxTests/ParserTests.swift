// The parser and resolver: what they accept, and the file:line:column errors for what they refuse.
import ProtoSwiftGenerator
@testable import ProtoSyntax
import Testing

@Suite("parser")
struct ParserTests {
    func parseError(_ source: String, _ extra: [ProtoFile] = []) -> String? {
        do {
            let file = try Parser.parse(source, name: "t.proto")
            _ = try ProtoSchema(files: [file] + extra)
            return nil
        } catch {
            return error.description
        }
    }

    @Test("comments become doc comments; blank lines detach them")
    func comments() throws {
        let file = try Parser.parse("""
            syntax = "proto3";
            // Detached.

            // Attached line one.
            // Line two.
            message A {
              /* block
               * comment */
              int32 x = 1;
              int32 y = 2; // trailing, not leading
            }
            """, name: "c.proto")
        #expect(file.messages[0].comment == "Attached line one.\nLine two.")
        #expect(file.messages[0].fields[0].comment == "block\ncomment")
        #expect(file.messages[0].fields[1].comment == nil)
    }

    @Test("nested types, maps, oneofs, optional and reserved ranges parse")
    func features() throws {
        let file = try Parser.parse("""
            syntax = "proto3";
            package a.b;
            message M {
              message N { enum E { E_ZERO = 0; } E e = 1; }
              map<string, N> by_name = 1;
              oneof pick { string s = 2; N n = 3; }
              optional uint64 count = 4;
              reserved 10 to 20, 30 to max;
              reserved "gone";
            }
            """, name: "f.proto")
        let schema = try ProtoSchema(files: [file])
        let m = try #require(schema.files["f.proto"]?.messages.first)
        #expect(m.messages.map(\.name) == ["N", "ByNameEntry"])
        #expect(m.fields.map(\.oneofIndex) == [nil, 0, 0, nil])
        #expect(m.fields[2].resolvedTypeName == ".a.b.M.N")
        #expect(m.reservedRanges == [ReservedRange(start: 10, end: 20), ReservedRange(start: 30, end: 536_870_911)])
        #expect(schema.types[".a.b.M.N.E"]?.kind == .enum)
    }

    @Test("unsupported or invalid input is refused at its position", arguments: [
        ("syntax = \"proto2\";", "t.proto:1:10: error: only proto3 is supported; this file declares \"proto2\""),
        ("syntax = \"proto3\";\nmessage A { required int32 x = 1; }", "t.proto:2:13: error: 'required' is not allowed in proto3"),
        ("syntax = \"proto3\";\nmessage A {\n  int32 x = 0;\n}", "t.proto:3:13: error: field number 0 is out of range 1...536870911"),
        ("syntax = \"proto3\";\nmessage A { int32 x = 1; int32 y = 1; }",
         "t.proto:2:32: error: field number 1 is used by both x and y"),
        ("syntax = \"proto3\";\nmessage A { Missing m = 1; }", "t.proto:2:21: error: unknown type \"Missing\""),
        ("syntax = \"proto3\";\nenum E { E_ONE = 1; }", "t.proto:2:10: error: the first value of a proto3 enum must be 0"),
        ("syntax = \"proto3\";\nmessage A { reserved 5; int32 x = 5; }", "t.proto:2:31: error: field x uses reserved number 5"),
        ("syntax = \"proto3\";\nmessage A { extensions 100 to 200; }", "t.proto:2:13: error: extension ranges are not supported in proto3"),
        ("syntax = \"proto3\";\noption (my.opt) = 1;", "t.proto:2:8: error: custom options are not supported"),
        ("syntax = \"proto3\";\nimport \"nope.proto\";", "t.proto:2:8: error: imported file \"nope.proto\" was not found in the proto path"),
        ("syntax = \"proto3\";\nmessage A { map<double, string> m = 1; }",
         "t.proto:2:17: error: map keys must be an integer type, bool or string, not 'double'"),
        ("syntax = \"proto3\";\nmessage A { int32 x = 1 }", "t.proto:2:25: error: expected ';', found '}'"),
        ("syntax = \"proto3\";\nmessage A { string s = 1 [default = \"x\"]; }",
         "t.proto:2:27: error: unsupported field option 'default'"),
        ("syntax = \"proto3\";\nmessage A { string s = \"x; }", "t.proto:2:24: error: unterminated string"),
    ])
    func errors(source: String, expected: String) {
        #expect(parseError(source) == expected)
    }

    @Test("a type from a file that is not imported is refused")
    func visibility() throws {
        let other = try Parser.parse("syntax = \"proto3\";\npackage o;\nmessage X {}", name: "o.proto")
        #expect(parseError("syntax = \"proto3\";\nmessage A { o.X x = 1; }", [other])
            == "t.proto:2:17: error: \"o.X\" is defined in \"o.proto\", which this file does not import")
    }
}

@Suite("generator")
struct GeneratorTests {
    @Test("generated files say where they come from and carry comments")
    func header() throws {
        let file = try Parser.parse("""
            syntax = "proto3";
            package demo.v1;
            // A thing.
            message Thing { string name = 1; }
            enum Kind { KIND_UNSPECIFIED = 0; KIND_BIG = 1; }
            """, name: "demo/v1/thing.proto")
        let text = try SwiftGenerator(schema: ProtoSchema(files: [file])).generate("demo/v1/thing.proto")
        #expect(text.hasPrefix("// DO NOT EDIT: generated by proto-codegen at build time.\n// Source: demo/v1/thing.proto\n"))
        #expect(text.contains("/// A thing.\npublic struct Demo_V1_Thing: ProtoMessage {"))
        #expect(text.contains("public enum Demo_V1_Kind: ProtoEnum {"))
        #expect(text.contains("case big // = 1"))
        #expect(text.contains("public enum Demo_V1_ThingProtoFile {"))
    }
}
