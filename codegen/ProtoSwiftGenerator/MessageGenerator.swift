// Emits one message: a Sendable, Hashable struct with binary and proto3 JSON coding that keeps unknown fields.
import ProtoSyntax

/// How one field is stored and coded.
struct FieldPlan {
    enum Kind {
        /// proto3 implicit presence: the default is not encoded.
        case implicit
        /// `optional` scalar or enum: `nil` when absent.
        case optional
        /// A singular message; `boxed` when it (indirectly) contains its own message type.
        case message(boxed: Bool)
        case repeated(packed: Bool)
        case map(keyCodec: String, valueCodec: String)
        case oneofMember(oneof: Int)
    }

    var field: FieldDecl
    var property: String
    var codec: String
    /// The Swift type of one value (element type for repeated fields).
    var swiftType: String
    var kind: Kind

    var number: Int { field.number }
    var wireType: Int {
        switch field.type {
        case .scalar(let s):
            switch s {
            case .double, .fixed64, .sfixed64: 1
            case .float, .fixed32, .sfixed32: 5
            case .string, .bytes: 2
            default: 0
            }
        case .named: field.resolvesToEnum ? 0 : 2
        case .map: 2
        }
    }
    var tag: UInt32 { UInt32(number << 3 | wireType) }
    var packedTag: UInt32 { UInt32(number << 3 | 2) }
    var tagSize: Int {
        var n = 1
        var v = tag >> 7
        while v > 0 { n += 1; v >>= 7 }
        return n
    }
}

extension SwiftGenerator {
    func plan(_ message: MessageDecl, fullName: String) -> [FieldPlan] {
        message.fields.map { field in
            let property = SwiftNames.property(field.name)
            switch field.type {
            case .map(let key, let value):
                let valueResolved = field.resolvedTypeName
                let valueCodec = codec(value, resolved: valueResolved, isEnum: field.resolvesToEnum)
                let valueType: String
                if case .scalar(let s) = value { valueType = Self.scalarSwiftType(s) } else {
                    valueType = swiftTypeName(valueResolved ?? "")
                }
                return FieldPlan(field: field, property: property, codec: valueCodec,
                                 swiftType: "[\(Self.scalarSwiftType(key)): \(valueType)]",
                                 kind: .map(keyCodec: Self.scalarCodec(key), valueCodec: valueCodec))
            case .scalar(let s):
                let c = Self.scalarCodec(s)
                let t = Self.scalarSwiftType(s)
                if let oneof = field.oneofIndex {
                    return FieldPlan(field: field, property: property, codec: c, swiftType: t,
                                     kind: .oneofMember(oneof: oneof))
                }
                switch field.label {
                case .implicit: return FieldPlan(field: field, property: property, codec: c, swiftType: t, kind: .implicit)
                case .optional: return FieldPlan(field: field, property: property, codec: c, swiftType: t, kind: .optional)
                case .repeated:
                    let packed = s.isPackable && !field.options.contains { $0.name == "packed" && $0.value == .bool(false) }
                    return FieldPlan(field: field, property: property, codec: c, swiftType: t, kind: .repeated(packed: packed))
                }
            case .named:
                let t = swiftTypeName(field.resolvedTypeName ?? "")
                let c = codec(field.type, resolved: field.resolvedTypeName, isEnum: field.resolvesToEnum)
                if let oneof = field.oneofIndex {
                    return FieldPlan(field: field, property: property, codec: c, swiftType: t,
                                     kind: .oneofMember(oneof: oneof))
                }
                switch field.label {
                case .repeated:
                    let packed = field.resolvesToEnum
                        && !field.options.contains { $0.name == "packed" && $0.value == .bool(false) }
                    return FieldPlan(field: field, property: property, codec: c, swiftType: t, kind: .repeated(packed: packed))
                case .optional where field.resolvesToEnum:
                    return FieldPlan(field: field, property: property, codec: c, swiftType: t, kind: .optional)
                case .implicit where field.resolvesToEnum:
                    return FieldPlan(field: field, property: property, codec: c, swiftType: t, kind: .implicit)
                default:
                    let boxed = recursiveEdges.contains(Edge(from: fullName, to: field.resolvedTypeName ?? ""))
                    return FieldPlan(field: field, property: property, codec: c, swiftType: t, kind: .message(boxed: boxed))
                }
            }
        }
    }

    func emitMessage(_ message: MessageDecl, fullName: String, file: ProtoFile, into w: inout CodeWriter) {
        let swiftName = swiftTypeName(fullName)
        let localName = String(swiftName.split(separator: ".").last!)
        let plans = plan(message, fullName: fullName)
        let oneofTypes = message.oneofs.map { "OneOf_" + Naming.upperCamel($0.name) }
        let oneofProps = message.oneofs.map { SwiftNames.property($0.name) }
        let protoName = String(fullName.dropFirst())
        w.doc(message.comment, fallback: "The `\(protoName)` message.")
        if message.options.contains(where: { $0.name == "deprecated" && $0.value == .bool(true) }) {
            w.line("@available(*, deprecated)")
        }
        w.block("public struct \(localName): ProtoMessage") { w in
            var emittedOneofs: Set<Int> = []
            for p in plans {
                switch p.kind {
                case .oneofMember(let o):
                    guard emittedOneofs.insert(o).inserted else { continue }
                    w.doc(message.oneofs[o].comment, fallback: "Which of the `\(message.oneofs[o].name)` fields is set, if any.")
                    w.line("public var \(oneofProps[o]): \(oneofTypes[o])? = nil")
                case .implicit:
                    w.doc(p.field.comment)
                    w.line("public var \(p.property): \(p.swiftType) = \(defaultValue(p))")
                case .optional:
                    w.doc(p.field.comment)
                    w.line("public var \(p.property): \(p.swiftType)? = nil")
                case .message(let boxed):
                    w.doc(p.field.comment)
                    if boxed {
                        w.block("public var \(p.property): \(p.swiftType)?") { w in
                            w.line("get { _\(p.field.name)Box?.value }")
                            w.line("set { _\(p.field.name)Box = newValue.map { ProtoBox($0) } }")
                        }
                        w.line("private var _\(p.field.name)Box: ProtoBox<\(p.swiftType)>? = nil")
                    } else {
                        w.line("public var \(p.property): \(p.swiftType)? = nil")
                    }
                case .repeated:
                    w.doc(p.field.comment)
                    w.line("public var \(p.property): [\(p.swiftType)] = []")
                case .map:
                    w.doc(p.field.comment)
                    w.line("public var \(p.property): \(p.swiftType) = [:]")
                }
            }
            w.doc("Fields this schema does not know, kept for re-encoding.")
            w.line("public var unknownFields = UnknownFields()")
            for (o, oneof) in message.oneofs.enumerated() {
                w.line()
                let members = plans.filter { if case .oneofMember(o) = $0.kind { true } else { false } }
                let indirect = members.contains { m in
                    recursiveEdges.contains(Edge(from: fullName, to: m.field.resolvedTypeName ?? "-"))
                }
                w.doc("The fields of `oneof \(oneof.name)`.")
                w.block("public \(indirect ? "indirect " : "")enum \(oneofTypes[o]): Sendable, Hashable") { w in
                    for m in members {
                        w.doc(m.field.comment)
                        w.line("case \(m.property)(\(m.swiftType))")
                    }
                }
            }
            emitFieldNumbers(plans.sorted { $0.number < $1.number }, protoName: protoName, into: &w)
            for nested in message.messages where !nested.isMapEntry {
                w.line()
                emitMessage(nested, fullName: fullName + "." + nested.name, file: file, into: &w)
            }
            for e in message.enums {
                w.line()
                emitEnum(e, fullName: fullName + "." + e.name, swiftName: swiftTypeName(fullName + "." + e.name), into: &w)
            }
            w.line()
            w.line("public init() {}")
            w.line()
            w.line("public static var protoMessageName: String { \(literal(protoName)) }")
            let ordered = plans.sorted { $0.number < $1.number }
            emitSize(ordered, message: message, oneofProps: oneofProps, into: &w)
            emitEncode(ordered, message: message, oneofProps: oneofProps, into: &w)
            emitDecode(plans, oneofProps: oneofProps, into: &w)
            emitJSONEncode(ordered, message: message, oneofProps: oneofProps, into: &w)
            emitJSONDecode(plans, oneofProps: oneofProps, into: &w)
        }
    }

    /// `FieldNumber`, the message's field numbers by property name: code that reads a few fields straight from the
    /// wire (admission, scanners) names them instead of repeating numbers the .proto may change.
    private func emitFieldNumbers(_ ordered: [FieldPlan], protoName: String, into w: inout CodeWriter) {
        guard !ordered.isEmpty else { return }
        w.line()
        w.doc("The field numbers of `\(protoName)`, for code that reads its wire format without decoding it.")
        w.block("public enum FieldNumber") { w in
            for p in ordered {
                w.doc("`\(p.field.name)`")
                w.line("public static let \(p.property) = \(p.number)")
            }
        }
    }

    private func defaultValue(_ p: FieldPlan) -> String {
        if case .scalar(let s) = p.field.type { return Self.scalarDefault(s) }
        return "\(p.swiftType)()"
    }

    /// Oneof groups in the order of their lowest field number, each with its members.
    private func oneofGroups(_ ordered: [FieldPlan]) -> [(index: Int, members: [FieldPlan])] {
        var groups: [(index: Int, members: [FieldPlan])] = []
        for p in ordered {
            guard case .oneofMember(let o) = p.kind else { continue }
            if let i = groups.firstIndex(where: { $0.index == o }) {
                groups[i].members.append(p)
            } else {
                groups.append((o, [p]))
            }
        }
        return groups
    }

    private func emitSize(_ ordered: [FieldPlan], message: MessageDecl, oneofProps: [String], into w: inout CodeWriter) {
        w.line()
        w.block("public func serializedSize() -> Int") { w in
            if ordered.isEmpty {
                w.line("unknownFields.bytes.count")
                return
            }
            w.line("var n = unknownFields.bytes.count")
            var done: Set<Int> = []
            for p in ordered {
                let x = "self.\(p.property)"
                switch p.kind {
                case .implicit:
                    w.line("if !\(p.codec).isDefault(\(x)) { n &+= \(p.tagSize) &+ \(p.codec).size(of: \(x)) }")
                case .optional, .message:
                    w.line("if let v = \(x) { n &+= \(p.tagSize) &+ \(p.codec).size(of: v) }")
                case .repeated(let packed):
                    w.line("n &+= WireSize.\(packed ? "packed" : "repeated")(\(p.codec).self, \(x), tagSize: \(p.tagSize))")
                case .map(let k, let v):
                    w.line("n &+= WireSize.map(\(k).self, \(v).self, \(x), tagSize: \(p.tagSize))")
                case .oneofMember(let o):
                    guard done.insert(o).inserted else { continue }
                    let group = oneofGroups(ordered).first { $0.index == o }!
                    w.block("switch self.\(oneofProps[o])") { w in
                        for m in group.members {
                            w.line("case .\(m.property)(let v)?: n &+= \(m.tagSize) &+ \(m.codec).size(of: v)")
                        }
                        w.line("case nil: break")
                    }
                }
            }
            w.line("return n")
        }
    }

    private func emitEncode(_ ordered: [FieldPlan], message: MessageDecl, oneofProps: [String],
                            into w: inout CodeWriter) {
        w.line()
        w.block("public func encode(to writer: inout BinaryWriter)") { w in
            var done: Set<Int> = []
            for p in ordered {
                let x = "self.\(p.property)"
                switch p.kind {
                case .implicit:
                    w.block("if !\(p.codec).isDefault(\(x))") { w in
                        w.line("writer.writeTag(\(p.tag))")
                        w.line("\(p.codec).write(\(x), to: &writer)")
                    }
                case .optional, .message:
                    w.block("if let v = \(x)") { w in
                        w.line("writer.writeTag(\(p.tag))")
                        w.line("\(p.codec).write(v, to: &writer)")
                    }
                case .repeated(let packed):
                    if packed {
                        w.line("writer.writePacked(\(p.codec).self, \(x), tag: \(p.packedTag))")
                    } else {
                        w.line("writer.writeRepeated(\(p.codec).self, \(x), tag: \(p.tag))")
                    }
                case .map(let k, let v):
                    w.line("writer.writeMap(\(k).self, \(v).self, \(x), tag: \(p.tag))")
                case .oneofMember(let o):
                    guard done.insert(o).inserted else { continue }
                    let group = oneofGroups(ordered).first { $0.index == o }!
                    w.block("switch self.\(oneofProps[o])") { w in
                        for m in group.members {
                            w.line("case .\(m.property)(let v)?:")
                            w.line("    writer.writeTag(\(m.tag))")
                            w.line("    \(m.codec).write(v, to: &writer)")
                        }
                        w.line("case nil: break")
                    }
                }
            }
            w.line("writer.writeUnknown(unknownFields)")
        }
    }

    private func emitDecode(_ plans: [FieldPlan], oneofProps: [String], into w: inout CodeWriter) {
        w.line()
        w.block("public mutating func decodeFields(from reader: inout BinaryReader) throws(ProtoDecodingError)") { w in
            w.block("while let tag = try reader.nextTag()") { w in
                w.block("switch tag") { w in
                    for p in plans {
                        let read = "try \(p.codec).read(from: &reader, field: \(p.number))"
                        switch p.kind {
                        case .implicit, .optional:
                            w.line("case \(p.tag): self.\(p.property) = \(read)")
                        case .message:
                            w.line("case \(p.tag):")
                            w.line("    var m = self.\(p.property) ?? \(p.swiftType)()")
                            w.line("    self.\(p.property) = nil")
                            w.line("    try reader.readMessage(into: &m)")
                            w.line("    self.\(p.property) = m")
                        case .repeated:
                            if p.field.type.isPackableElement(isEnum: p.field.resolvesToEnum) {
                                w.line("case \(p.packedTag): try reader.readPacked(\(p.codec).self, field: \(p.number), into: &self.\(p.property))")
                            }
                            w.line("case \(p.tag): self.\(p.property).append(\(read))")
                        case .map(let k, let v):
                            w.line("case \(p.tag): try reader.readMapEntry(\(k).self, \(v).self, field: \(p.number), into: &self.\(p.property))")
                        case .oneofMember(let o):
                            if p.wireType == 2, case .named = p.field.type {
                                w.line("case \(p.tag):")
                                w.line("    var m = \(p.swiftType)()")
                                w.line("    if case .\(p.property)(let existing)? = self.\(oneofProps[o]) { m = existing }")
                                w.line("    try reader.readMessage(into: &m)")
                                w.line("    self.\(oneofProps[o]) = .\(p.property)(m)")
                            } else {
                                w.line("case \(p.tag): self.\(oneofProps[o]) = .\(p.property)(\(read))")
                            }
                        }
                    }
                    w.line("default: try reader.readUnknown(tag: tag, into: &self.unknownFields)")
                }
            }
        }
    }

    private func emitJSONEncode(_ ordered: [FieldPlan], message: MessageDecl, oneofProps: [String],
                                into w: inout CodeWriter) {
        w.line()
        w.block("public func encodeJSON(to writer: inout JSONWriter)") { w in
            w.line("writer.beginObject()")
            var done: Set<Int> = []
            for p in ordered {
                let x = "self.\(p.property)"
                let name = literal(p.field.jsonName)
                switch p.kind {
                case .implicit:
                    w.line("if !\(p.codec).isDefault(\(x)) { JSONFields.write(\(p.codec).self, \(x), name: \(name), to: &writer) }")
                case .optional, .message:
                    w.line("if let v = \(x) { JSONFields.write(\(p.codec).self, v, name: \(name), to: &writer) }")
                case .repeated:
                    w.line("JSONFields.writeRepeated(\(p.codec).self, \(x), name: \(name), to: &writer)")
                case .map(let k, let v):
                    w.line("JSONFields.writeMap(\(k).self, \(v).self, \(x), name: \(name), to: &writer)")
                case .oneofMember(let o):
                    guard done.insert(o).inserted else { continue }
                    let group = oneofGroups(ordered).first { $0.index == o }!
                    w.block("switch self.\(oneofProps[o])") { w in
                        for m in group.members {
                            w.line("case .\(m.property)(let v)?: JSONFields.write(\(m.codec).self, v, name: \(literal(m.field.jsonName)), to: &writer)")
                        }
                        w.line("case nil: break")
                    }
                }
            }
            w.line("writer.endObject()")
        }
    }

    private func emitJSONDecode(_ plans: [FieldPlan], oneofProps: [String], into w: inout CodeWriter) {
        w.line()
        w.block("public mutating func decodeJSON(from object: JSONObject, options: JSONDecodingOptions) throws(ProtoJSONError)") { w in
            if plans.isEmpty {
                w.block("for member in object.members where !options.ignoreUnknownFields") { w in
                    w.line("throw .unknownField(message: Self.protoMessageName, name: member.name)")
                }
                return
            }
            w.block("for member in object.members") { w in
                w.block("switch member.name") { w in
                    for p in plans {
                        var names = [literal(p.field.jsonName)]
                        if p.field.name != p.field.jsonName { names.append(literal(p.field.name)) }
                        let label = literal(p.field.jsonName)
                        let args = "member.value, field: \(label), options: options"
                        w.line("case \(names.joined(separator: ", ")):")
                        switch p.kind {
                        case .implicit:
                            w.line("    self.\(p.property) = try JSONFields.read(\(p.codec).self, \(args))")
                        case .optional, .message:
                            w.line("    self.\(p.property) = try JSONFields.readPresent(\(p.codec).self, \(args))")
                        case .repeated:
                            w.line("    self.\(p.property) = try JSONFields.readRepeated(\(p.codec).self, \(args))")
                        case .map(let k, let v):
                            w.line("    self.\(p.property) = try JSONFields.readMap(\(k).self, \(v).self, \(args))")
                        case .oneofMember(let o):
                            w.line("    if let v = try JSONFields.readPresent(\(p.codec).self, \(args)) {")
                            w.line("        guard self.\(oneofProps[o]) == nil else {")
                            w.line("            throw .duplicateField(message: Self.protoMessageName, name: \(label))")
                            w.line("        }")
                            w.line("        self.\(oneofProps[o]) = .\(p.property)(v)")
                            w.line("    }")
                        }
                    }
                    w.line("default:")
                    w.line("    if !options.ignoreUnknownFields {")
                    w.line("        throw .unknownField(message: Self.protoMessageName, name: member.name)")
                    w.line("    }")
                }
            }
        }
    }
}

extension FieldType {
    /// Whether a repeated field of this type may arrive packed.
    func isPackableElement(isEnum: Bool) -> Bool {
        switch self {
        case .scalar(let s): s.isPackable
        case .named: isEnum
        case .map: false
        }
    }
}
