// The names a serialized FileDescriptorProto defines, read from the descriptor bytes themselves, so reflection
// finds exactly what a client will find in the file it is sent: messages (nested too), their fields and oneofs,
// enums and their values, services and their methods.

import ProtoWire

/// Reads the symbol names out of a serialized `google.protobuf.FileDescriptorProto`.
enum DescriptorSymbols {
    /// One name a file defines, and what it names.
    struct Symbol: Sendable, Hashable {
        enum Kind: Sendable, Hashable { case message, field, enumType, enumValue, service, method }
        var name: String
        var kind: Kind
    }

    /// Why the bytes are not a descriptor this reader can walk.
    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    // Field numbers from google/protobuf/descriptor.proto.
    private enum File { static let package = 2, messageType = 4, enumType = 5, service = 6 }
    private enum Message { static let name = 1, field = 2, nestedType = 3, enumType = 4, oneof = 8 }
    private enum Enum { static let name = 1, value = 2 }
    private enum Service { static let name = 1, method = 2 }
    private static let nameField = 1

    /// Fully qualified names (no leading dot) of everything the file defines, oneofs counted as fields.
    ///
    /// Enum values are listed both in their enum's enclosing scope, as protobuf scopes them (`pkg.VALUE`), and
    /// under the enum (`pkg.Enum.VALUE`), the spelling people also type.
    static func symbols(in descriptor: [UInt8]) throws(Malformed) -> [Symbol] {
        let fields = try WireFields(descriptor)
        let package = try fields.strings(File.package).last ?? ""
        let scope = package.isEmpty ? "" : package + "."
        var names: [Symbol] = []
        for message in fields.messages(File.messageType) { try addMessage(message, scope: scope, to: &names) }
        for enumType in fields.messages(File.enumType) { try addEnum(enumType, scope: scope, to: &names) }
        for service in fields.messages(File.service) {
            let body = try WireFields(service)
            let name = scope + (try body.strings(Service.name).last ?? "")
            names.append(Symbol(name: name, kind: .service))
            for method in body.messages(Service.method) {
                names.append(Symbol(name: name + "." + (try WireFields(method).strings(nameField).last ?? ""),
                                    kind: .method))
            }
        }
        return names
    }

    private static func addMessage(_ bytes: [UInt8], scope: String, to names: inout [Symbol]) throws(Malformed) {
        let body = try WireFields(bytes)
        let name = scope + (try body.strings(Message.name).last ?? "")
        names.append(Symbol(name: name, kind: .message))
        for part in body.messages(Message.field) + body.messages(Message.oneof) {
            names.append(Symbol(name: name + "." + (try WireFields(part).strings(nameField).last ?? ""), kind: .field))
        }
        for nested in body.messages(Message.nestedType) { try addMessage(nested, scope: name + ".", to: &names) }
        for enumType in body.messages(Message.enumType) { try addEnum(enumType, scope: name + ".", to: &names) }
    }

    private static func addEnum(_ bytes: [UInt8], scope: String, to names: inout [Symbol]) throws(Malformed) {
        let body = try WireFields(bytes)
        let name = scope + (try body.strings(Enum.name).last ?? "")
        names.append(Symbol(name: name, kind: .enumType))
        for value in body.messages(Enum.value) {
            let valueName = try WireFields(value).strings(nameField).last ?? ""
            names.append(Symbol(name: scope + valueName, kind: .enumValue))
            names.append(Symbol(name: name + "." + valueName, kind: .enumValue))
        }
    }
}

/// The length-delimited fields of one encoded message, by field number, read by ProtoWire's scan.
private struct WireFields {
    private var byNumber: [Int: [[UInt8]]] = [:]

    init(_ bytes: [UInt8]) throws(DescriptorSymbols.Malformed) {
        var byNumber: [Int: [[UInt8]]] = [:]
        do throws(ProtoDecodingError) {
            try BinaryReader.forEachLengthDelimitedField(in: bytes[...]) { number, payload throws(ProtoDecodingError) in
                byNumber[number, default: []].append(Array(payload))
            }
        } catch {
            throw .init(description: "\(error)")
        }
        self.byNumber = byNumber
    }

    func messages(_ number: Int) -> [[UInt8]] { byNumber[number] ?? [] }

    func strings(_ number: Int) throws(DescriptorSymbols.Malformed) -> [String] {
        try messages(number).map { bytes throws(DescriptorSymbols.Malformed) in
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw .init(description: "field \(number) is not UTF-8")
            }
            return text
        }
    }
}
