// Serializes a linked file as google.protobuf.FileDescriptorProto, the form protoc's --descriptor_set_out writes
// and server reflection sends. Fields are written in field-number order, as protoc does. Its source_code_info
// holds only the declarations that carry a comment (what reflection clients show), to keep the descriptor small.

/// Builds the `FileDescriptorProto` bytes of one file of a `ProtoSchema`.
public struct DescriptorWriter {
    private let schema: ProtoSchema

    public init(schema: ProtoSchema) { self.schema = schema }

    /// The serialized `FileDescriptorProto` of `fileName`; with `includingComments`, its `source_code_info` has a
    /// location for each commented message, field, oneof, enum, enum value, service and method.
    public func fileDescriptor(_ fileName: String, includingComments: Bool = true) throws(ProtoSyntaxError) -> [UInt8] {
        guard let file = schema.files[fileName] else {
            throw ProtoSyntaxError("no such file \(fileName)", at: SourceLocation(file: fileName, line: 1, column: 1))
        }
        var out = ProtoBytesWriter()
        out.string(1, file.name)
        if !file.package.isEmpty { out.string(2, file.package) }
        for imp in file.imports { out.string(3, imp.path) }
        let scope = file.package.isEmpty ? "" : "." + file.package
        for message in file.messages { out.message(4, try messageDescriptor(message, scope: scope)) }
        for e in file.enums { out.message(5, enumDescriptor(e)) }
        for service in file.services { out.message(6, serviceDescriptor(service)) }
        let options = try fileOptions(file.options)
        if !options.bytes.isEmpty { out.message(8, options) }
        if includingComments, let info = Self.sourceCodeInfo(file) { out.message(9, info) }
        for (i, imp) in file.imports.enumerated() where imp.kind == .public { out.varint(10, UInt64(i)) }
        for (i, imp) in file.imports.enumerated() where imp.kind == .weak { out.varint(11, UInt64(i)) }
        out.string(12, "proto3")
        return out.bytes
    }

    /// Every message, enum, service and method `fileName` defines, fully qualified without a leading dot.
    public func symbols(_ fileName: String) -> [String] {
        guard let file = schema.files[fileName] else { return [] }
        let prefix = file.package.isEmpty ? "" : file.package + "."
        var names: [String] = []
        func walk(_ message: MessageDecl, _ scope: String) {
            guard !message.isMapEntry else { return }
            let name = scope + message.name
            names.append(name)
            for nested in message.messages { walk(nested, name + ".") }
            for e in message.enums { names.append(name + "." + e.name) }
        }
        for message in file.messages { walk(message, prefix) }
        for e in file.enums { names.append(prefix + e.name) }
        for service in file.services {
            names.append(prefix + service.name)
            for method in service.methods { names.append(prefix + service.name + "." + method.name) }
        }
        return names
    }

    private func messageDescriptor(_ message: MessageDecl, scope: String) throws(ProtoSyntaxError) -> ProtoBytesWriter {
        var out = ProtoBytesWriter()
        let fullName = scope + "." + message.name
        out.string(1, message.name)
        // proto3 `optional` fields each get a synthetic oneof, numbered after the real ones.
        var syntheticOneofs: [String] = []
        for field in message.fields {
            var f = ProtoBytesWriter()
            f.string(1, field.name)
            f.varint(3, UInt64(field.number))
            f.varint(4, field.label == .repeated ? 3 : 1)
            switch field.type {
            case .scalar(let s):
                f.varint(5, Self.typeNumber(s))
            case .named:
                f.varint(5, field.resolvesToEnum ? 14 : 11)
                f.string(6, field.resolvedTypeName ?? "")
            case .map:
                f.varint(5, 11)
                f.string(6, fullName + "." + Naming.upperCamel(field.name) + "Entry")
            }
            var fieldOptions = ProtoBytesWriter()
            for option in field.options {
                switch (option.name, option.value) {
                case ("packed", .bool(let b)): fieldOptions.varint(2, b ? 1 : 0)
                case ("deprecated", .bool(let b)): fieldOptions.varint(3, b ? 1 : 0)
                default: break
                }
            }
            if !fieldOptions.bytes.isEmpty { f.message(8, fieldOptions.sortedByField()) }
            if let index = field.oneofIndex {
                f.varint(9, UInt64(index))
            } else if field.label == .optional {
                f.varint(9, UInt64(message.oneofs.count + syntheticOneofs.count))
                syntheticOneofs.append(Self.syntheticOneofName(field.name, message: message))
            }
            f.string(10, field.jsonName)
            if field.label == .optional { f.varint(17, 1) }
            out.message(2, f)
        }
        for nested in message.messages { out.message(3, try messageDescriptor(nested, scope: fullName)) }
        for e in message.enums { out.message(4, enumDescriptor(e)) }
        var options = ProtoBytesWriter()
        for option in message.options {
            if case ("deprecated", .bool(let b)) = (option.name, option.value) { options.varint(3, b ? 1 : 0) }
        }
        if message.isMapEntry { options.varint(7, 1) }
        if !options.bytes.isEmpty { out.message(7, options) }
        for oneof in message.oneofs {
            var o = ProtoBytesWriter()
            o.string(1, oneof.name)
            out.message(8, o)
        }
        for name in syntheticOneofs {
            var o = ProtoBytesWriter()
            o.string(1, name)
            out.message(8, o)
        }
        for range in message.reservedRanges {
            var r = ProtoBytesWriter()
            r.varint(1, UInt64(range.start))
            r.varint(2, UInt64(range.end + 1))
            out.message(9, r)
        }
        for name in message.reservedNames { out.string(10, name) }
        return out
    }

    /// `SourceCodeInfo` (a `Location` per commented declaration, with descriptor.proto's path numbering), or nil
    /// when nothing is commented.
    static func sourceCodeInfo(_ file: ProtoFile) -> ProtoBytesWriter? {
        var info = ProtoBytesWriter()
        func add(_ path: [Int], _ source: DeclarationSource?) {
            guard let source, source.leadingComment != nil || source.trailingComment != nil else { return }
            var location = ProtoBytesWriter()
            location.packed(1, path)
            location.packed(2, source.span.protoValues)
            if let leading = source.leadingComment { location.string(3, leading) }
            if let trailing = source.trailingComment { location.string(4, trailing) }
            info.message(1, location)
        }
        // DescriptorProto: field 2, nested_type 3, enum_type 4, oneof_decl 8; EnumDescriptorProto.value 2.
        func addEnum(_ e: EnumDecl, _ path: [Int]) {
            add(path, e.source)
            for (i, value) in e.values.enumerated() { add(path + [2, i], value.source) }
        }
        func addMessage(_ message: MessageDecl, _ path: [Int]) {
            add(path, message.source)
            for (i, field) in message.fields.enumerated() { add(path + [2, i], field.source) }
            for (i, nested) in message.messages.enumerated() { addMessage(nested, path + [3, i]) }
            for (i, e) in message.enums.enumerated() { addEnum(e, path + [4, i]) }
            for (i, oneof) in message.oneofs.enumerated() { add(path + [8, i], oneof.source) }
        }
        // FileDescriptorProto: message_type 4, enum_type 5, service 6; ServiceDescriptorProto.method 2.
        for (i, message) in file.messages.enumerated() { addMessage(message, [4, i]) }
        for (i, e) in file.enums.enumerated() { addEnum(e, [5, i]) }
        for (i, service) in file.services.enumerated() {
            add([6, i], service.source)
            for (j, method) in service.methods.enumerated() { add([6, i, 2, j], method.source) }
        }
        return info.bytes.isEmpty ? nil : info
    }

    /// protoc's name for the synthetic oneof of `optional` field `name`: `_name`, prefixed with X while it clashes.
    static func syntheticOneofName(_ name: String, message: MessageDecl) -> String {
        var candidate = "_" + name
        let taken = Set(message.fields.map(\.name) + message.oneofs.map(\.name))
        while taken.contains(candidate) { candidate = "X" + candidate }
        return candidate
    }

    private func enumDescriptor(_ e: EnumDecl) -> ProtoBytesWriter {
        var out = ProtoBytesWriter()
        out.string(1, e.name)
        for value in e.values {
            var v = ProtoBytesWriter()
            v.string(1, value.name)
            v.varint(2, UInt64(bitPattern: Int64(value.number)))
            for option in value.options {
                if case ("deprecated", .bool(let b)) = (option.name, option.value) {
                    var o = ProtoBytesWriter()
                    o.varint(1, b ? 1 : 0)
                    v.message(3, o)
                }
            }
            out.message(2, v)
        }
        var options = ProtoBytesWriter()
        for option in e.options {
            switch (option.name, option.value) {
            case ("allow_alias", .bool(let b)): options.varint(2, b ? 1 : 0)
            case ("deprecated", .bool(let b)): options.varint(3, b ? 1 : 0)
            default: break
            }
        }
        if !options.bytes.isEmpty { out.message(3, options.sortedByField()) }
        for range in e.reservedRanges {
            var r = ProtoBytesWriter()
            r.varint(1, UInt64(bitPattern: Int64(range.start)))
            r.varint(2, UInt64(bitPattern: Int64(range.end)))
            out.message(4, r)
        }
        for name in e.reservedNames { out.string(5, name) }
        return out
    }

    private func serviceDescriptor(_ service: ServiceDecl) -> ProtoBytesWriter {
        var out = ProtoBytesWriter()
        out.string(1, service.name)
        for method in service.methods {
            var m = ProtoBytesWriter()
            m.string(1, method.name)
            m.string(2, method.resolvedInputType)
            m.string(3, method.resolvedOutputType)
            if let deprecated = Self.deprecatedOption(method.options) { m.message(4, deprecated) }
            if method.clientStreaming { m.varint(5, 1) }
            if method.serverStreaming { m.varint(6, 1) }
            out.message(2, m)
        }
        if let deprecated = Self.deprecatedOption(service.options) { out.message(3, deprecated) }
        return out
    }

    private static func deprecatedOption(_ options: [OptionDecl]) -> ProtoBytesWriter? {
        for option in options {
            if case ("deprecated", .bool(let b)) = (option.name, option.value) {
                var o = ProtoBytesWriter()
                o.varint(33, b ? 1 : 0)
                return o
            }
        }
        return nil
    }

    /// The standard FileOptions this parser accepts, by field number; anything else is refused.
    private func fileOptions(_ options: [OptionDecl]) throws(ProtoSyntaxError) -> ProtoBytesWriter {
        let strings: [String: Int] = [
            "java_package": 1, "java_outer_classname": 8, "go_package": 11, "objc_class_prefix": 36,
            "csharp_namespace": 37, "swift_prefix": 39, "php_class_prefix": 40, "php_namespace": 41,
            "php_metadata_namespace": 44, "ruby_package": 45,
        ]
        let bools: [String: Int] = [
            "java_multiple_files": 10, "java_generate_equals_and_hash": 20, "java_string_check_utf8": 27,
            "cc_generic_services": 16, "java_generic_services": 17, "py_generic_services": 18, "deprecated": 23,
            "cc_enable_arenas": 31,
        ]
        var out = ProtoBytesWriter()
        for option in options {
            if let number = strings[option.name] {
                guard case .string(let s) = option.value else {
                    throw ProtoSyntaxError("option \(option.name) takes a string", at: option.location)
                }
                out.string(number, s)
            } else if let number = bools[option.name] {
                guard case .bool(let b) = option.value else {
                    throw ProtoSyntaxError("option \(option.name) takes true or false", at: option.location)
                }
                out.varint(number, b ? 1 : 0)
            } else if option.name == "optimize_for" {
                let modes = ["SPEED": UInt64(1), "CODE_SIZE": 2, "LITE_RUNTIME": 3]
                guard case .identifier(let mode) = option.value, let value = modes[mode] else {
                    throw ProtoSyntaxError("optimize_for takes SPEED, CODE_SIZE or LITE_RUNTIME", at: option.location)
                }
                out.varint(9, value)
            } else {
                throw ProtoSyntaxError("unsupported file option '\(option.name)'", at: option.location)
            }
        }
        return out.sortedByField()
    }

    static func typeNumber(_ s: ScalarType) -> UInt64 {
        switch s {
        case .double: 1
        case .float: 2
        case .int64: 3
        case .uint64: 4
        case .int32: 5
        case .fixed64: 6
        case .fixed32: 7
        case .bool: 8
        case .string: 9
        case .bytes: 12
        case .uint32: 13
        case .sfixed32: 15
        case .sfixed64: 16
        case .sint32: 17
        case .sint64: 18
        }
    }
}

/// A minimal protobuf writer for descriptors; the generator does not depend on the ProtoWire runtime.
struct ProtoBytesWriter {
    private(set) var bytes: [UInt8] = []
    // (field number, byte range) of each top-level field, for putting options in field-number order.
    private var spans: [(number: Int, start: Int, end: Int)] = []

    mutating func varint(_ number: Int, _ value: UInt64) {
        let start = bytes.count
        appendVarint(UInt64(number << 3))
        appendVarint(value)
        spans.append((number, start, bytes.count))
    }

    mutating func string(_ number: Int, _ value: String) {
        let start = bytes.count
        appendVarint(UInt64(number << 3 | 2))
        appendVarint(UInt64(value.utf8.count))
        bytes += value.utf8
        spans.append((number, start, bytes.count))
    }

    /// A packed repeated int32 of non-negative values (a location's path and span).
    mutating func packed(_ number: Int, _ values: [Int]) {
        var body = ProtoBytesWriter()
        for value in values { body.appendVarint(UInt64(value)) }
        message(number, body)
    }

    mutating func message(_ number: Int, _ value: ProtoBytesWriter) {
        let start = bytes.count
        appendVarint(UInt64(number << 3 | 2))
        appendVarint(UInt64(value.bytes.count))
        bytes += value.bytes
        spans.append((number, start, bytes.count))
    }

    /// The same fields reordered by field number (stable for repeated ones).
    func sortedByField() -> ProtoBytesWriter {
        var sorted = ProtoBytesWriter()
        for span in spans.enumerated().sorted(by: { ($0.element.number, $0.offset) < ($1.element.number, $1.offset) }) {
            let start = sorted.bytes.count
            sorted.bytes += bytes[span.element.start..<span.element.end]
            sorted.spans.append((span.element.number, start, sorted.bytes.count))
        }
        return sorted
    }

    private mutating func appendVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }
}
