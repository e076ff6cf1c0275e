// Links parsed files: resolves every type name to the message or enum it means, following protobuf's scoping,
// and checks what only a whole set of files can show (imports, duplicate names and numbers, reserved numbers).

/// What a fully qualified type name refers to.
public struct TypeEntry: Sendable, Hashable {
    public enum Kind: Sendable, Hashable { case message, `enum` }
    /// With a leading dot: `.incident_manager.Resource`.
    public var fullName: String
    public var kind: Kind
    /// The file that defines it.
    public var file: String
    /// Nesting path inside the file's package: `["HealthCheckResponse", "ServingStatus"]`.
    public var path: [String]
    /// True for a map field's synthesized entry message.
    public var isMapEntry: Bool
}

/// A set of parsed files, linked.
public struct ProtoSchema: Sendable {
    /// Every file by name, with resolved type names.
    public var files: [String: ProtoFile]
    /// Every message and enum by fully qualified name (leading dot).
    public var types: [String: TypeEntry]

    /// Links `files`, which must include every file they import.
    public init(files parsed: [ProtoFile]) throws(ProtoSyntaxError) {
        var byName: [String: ProtoFile] = [:]
        for file in parsed { byName[file.name] = file }
        var types: [String: TypeEntry] = [:]
        for file in parsed {
            let prefix = file.package.isEmpty ? "" : "." + file.package
            func register(_ name: String, _ kind: TypeEntry.Kind, _ path: [String], _ mapEntry: Bool,
                          _ location: SourceLocation) throws(ProtoSyntaxError) {
                let full = prefix + "." + path.joined(separator: ".")
                if let existing = types[full] {
                    throw ProtoSyntaxError("\"\(full.dropFirst())\" is already defined in \(existing.file)", at: location)
                }
                types[full] = TypeEntry(fullName: full, kind: kind, file: file.name, path: path, isMapEntry: mapEntry)
            }
            func walk(_ message: MessageDecl, _ path: [String]) throws(ProtoSyntaxError) {
                let here = path + [message.name]
                try register(message.name, .message, here, message.isMapEntry, message.location)
                for nested in message.messages { try walk(nested, here) }
                for e in message.enums { try register(e.name, .enum, here + [e.name], false, e.location) }
            }
            for message in file.messages { try walk(message, []) }
            for e in file.enums { try register(e.name, .enum, [e.name], false, e.location) }
        }
        self.types = types
        self.files = [:]
        for file in parsed {
            for imp in file.imports where byName[imp.path] == nil {
                throw ProtoSyntaxError("imported file \"\(imp.path)\" was not found in the proto path", at: imp.location)
            }
            let visible = Self.visibleFiles(of: file, in: byName)
            var linked = file
            let scope = file.package.isEmpty ? [] : file.package.split(separator: ".").map(String.init)
            for i in linked.messages.indices {
                try resolve(&linked.messages[i], scope: scope, visible: visible)
            }
            for s in linked.services.indices {
                for m in linked.services[s].methods.indices {
                    let method = linked.services[s].methods[m]
                    linked.services[s].methods[m].resolvedInputType =
                        try resolveMessage(method.inputType, scope: scope, visible: visible, at: method.location)
                    linked.services[s].methods[m].resolvedOutputType =
                        try resolveMessage(method.outputType, scope: scope, visible: visible, at: method.location)
                }
            }
            try Self.checkNames(linked)
            files[file.name] = linked
        }
    }

    /// The file itself, its imports, and what those re-export with `import public`.
    private static func visibleFiles(of file: ProtoFile, in all: [String: ProtoFile]) -> Set<String> {
        var visible: Set<String> = [file.name]
        var queue = file.imports.map(\.path)
        while let name = queue.popLast() {
            guard visible.insert(name).inserted, let imported = all[name] else { continue }
            queue += imported.imports.filter { $0.kind == .public }.map(\.path)
        }
        return visible
    }

    private func lookup(_ name: String, scope: [String], visible: Set<String>) -> TypeEntry? {
        if name.hasPrefix(".") { return types[name].flatMap { visible.contains($0.file) ? $0 : nil } }
        for depth in stride(from: scope.count, through: 0, by: -1) {
            let prefix = scope[0..<depth].joined(separator: ".")
            let candidate = "." + (prefix.isEmpty ? name : prefix + "." + name)
            if let entry = types[candidate] { return entry }
        }
        return nil
    }

    private func lookupVisible(_ name: String, scope: [String], visible: Set<String>, at location: SourceLocation)
        throws(ProtoSyntaxError) -> TypeEntry {
        guard let entry = lookup(name, scope: scope, visible: visible) else {
            throw ProtoSyntaxError("unknown type \"\(name)\"", at: location)
        }
        guard visible.contains(entry.file) else {
            throw ProtoSyntaxError("\"\(name)\" is defined in \"\(entry.file)\", which this file does not import",
                                   at: location)
        }
        return entry
    }

    private func resolveMessage(_ name: String, scope: [String], visible: Set<String>, at location: SourceLocation)
        throws(ProtoSyntaxError) -> String {
        let entry = try lookupVisible(name, scope: scope, visible: visible, at: location)
        guard entry.kind == .message else {
            throw ProtoSyntaxError("\"\(name)\" is an enum; methods take and return messages", at: location)
        }
        return entry.fullName
    }

    private func resolve(_ message: inout MessageDecl, scope: [String], visible: Set<String>) throws(ProtoSyntaxError) {
        let inner = scope + [message.name]
        for i in message.fields.indices {
            let field = message.fields[i]
            var named: String?
            switch field.type {
            case .named(let n): named = n
            case .map(_, .named(let n)): named = n
            default: named = nil
            }
            guard let name = named else { continue }
            let entry = try lookupVisible(name, scope: inner, visible: visible, at: field.location)
            if entry.isMapEntry {
                throw ProtoSyntaxError("map entry types cannot be named directly", at: field.location)
            }
            message.fields[i].resolvedTypeName = entry.fullName
            message.fields[i].resolvesToEnum = entry.kind == .enum
            if entry.kind == .enum, field.options.contains(where: { $0.name == "packed" }), field.label != .repeated {
                throw ProtoSyntaxError("[packed] applies only to repeated fields", at: field.location)
            }
        }
        for i in message.messages.indices { try resolve(&message.messages[i], scope: inner, visible: visible) }
    }

    /// Duplicate field names and numbers, numbers that are reserved, names that are reserved.
    private static func checkNames(_ file: ProtoFile) throws(ProtoSyntaxError) {
        func check(_ message: MessageDecl) throws(ProtoSyntaxError) {
            var numbers: [Int: String] = [:]
            var names: Set<String> = []
            var jsonNames: [String: String] = [:]
            for field in message.fields {
                if let other = numbers[field.number] {
                    throw ProtoSyntaxError("field number \(field.number) is used by both \(other) and \(field.name)",
                                           at: field.location)
                }
                numbers[field.number] = field.name
                guard names.insert(field.name).inserted else {
                    throw ProtoSyntaxError("field \"\(field.name)\" is declared twice", at: field.location)
                }
                if let other = jsonNames[field.jsonName] {
                    throw ProtoSyntaxError("fields \(other) and \(field.name) have the same JSON name "
                        + "\"\(field.jsonName)\"", at: field.location)
                }
                jsonNames[field.jsonName] = field.name
                for range in message.reservedRanges where (range.start...range.end).contains(field.number) {
                    throw ProtoSyntaxError("field \(field.name) uses reserved number \(field.number)", at: field.location)
                }
                if message.reservedNames.contains(field.name) {
                    throw ProtoSyntaxError("field name \"\(field.name)\" is reserved", at: field.location)
                }
            }
            for nested in message.messages { try check(nested) }
            for e in message.enums { try checkEnum(e) }
        }
        func checkEnum(_ e: EnumDecl) throws(ProtoSyntaxError) {
            for value in e.values {
                for range in e.reservedRanges where (range.start...range.end).contains(Int(value.number)) {
                    throw ProtoSyntaxError("\(value.name) uses reserved number \(value.number)", at: value.location)
                }
                if e.reservedNames.contains(value.name) {
                    throw ProtoSyntaxError("enum value name \"\(value.name)\" is reserved", at: value.location)
                }
            }
        }
        for message in file.messages { try check(message) }
        for e in file.enums { try checkEnum(e) }
    }
}
