// Our FileDescriptorProto for each file in Protos/ against protoc's --descriptor_set_out, compared decoded.
import Foundation
import IncidentAPI
import ProtoWire
import Testing

@Suite("file descriptors")
struct FileDescriptorTests {
    /// A FileDescriptorSet (field 1, repeated FileDescriptorProto) holding one file, as protoc's text format shows it.
    static func decodedSet(_ fileDescriptor: [UInt8]) throws -> String {
        var set: [UInt8] = [0x0A]
        var n = fileDescriptor.count
        while n >= 0x80 {
            set.append(UInt8(n & 0x7F) | 0x80)
            n >>= 7
        }
        set.append(UInt8(n))
        set += fileDescriptor
        return try decodeSet(set)
    }

    static func decodeSet(_ set: [UInt8]) throws -> String {
        let out = try ExternalTools.run("protoc", ["-I", "/usr/include", "--decode=google.protobuf.FileDescriptorSet",
                                                   "google/protobuf/descriptor.proto"], input: set)
        return String(decoding: out, as: UTF8.self)
    }

    /// The text without its `source_code_info` block: ours carries the comments for reflection, protoc's has none
    /// without --include_source_info (ProtoSyntaxTests' SourceInfoTests compares the comments with protoc's).
    static func withoutSourceInfo(_ text: String) -> String {
        var kept: [Substring] = []
        var skipping = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "  source_code_info {" {
                skipping = true
            } else if skipping {
                skipping = line != "  }"
            } else {
                kept.append(line)
            }
        }
        return kept.joined(separator: "\n")
    }

    @Test("every file's descriptor equals protoc's", arguments: ProtoFileIndex.files.map(\.name))
    func matchesProtoc(file: String) throws {
        let ours = try #require(ProtoFileIndex.files.first { $0.name == file })
        let theirs = try ExternalTools.run("protoc", ["-I", ExternalTools.protosDir.path, "--descriptor_set_out=/dev/stdout",
                                                      file])
        #expect(try Self.withoutSourceInfo(Self.decodedSet(ours.serializedDescriptor)) == Self.decodeSet(theirs))
    }

    @Test("the index lists every proto, imports first, with its symbols")
    func indexIsComplete() throws {
        let names = ProtoFileIndex.files.map(\.name)
        #expect(Set(names) == ["incident_manager.proto", "incident_types.proto", "grpc/health/v1/health.proto",
                               "grpc/reflection/v1alpha/reflection.proto", "grpc/reflection/v1/reflection.proto"])
        let manager = try #require(names.firstIndex(of: "incident_manager.proto"))
        let types = try #require(names.firstIndex(of: "incident_types.proto"))
        #expect(types < manager)
        let symbols = ProtoFileIndex.files[manager].symbols
        #expect(symbols.contains("incident_manager.IncidentService"))
        #expect(symbols.contains("incident_manager.IncidentService.StreamIncidents"))
        #expect(symbols.contains("incident_manager.ActionDecision.Decision"))
        #expect(IncidentManagerProtoFile.descriptor.dependencies == ["incident_types.proto"])
    }
}
