// A recursive-descent parser for proto3 files; what proto3 does not allow, or the generator does not support,
// is refused with the position where it was written.

/// Parses one `.proto` file into a `ProtoFile`.
public struct Parser {
    private var tokens: [Token]
    private var index = 0
    private let fileName: String

    private init(tokens: [Token], fileName: String) {
        self.tokens = tokens
        self.fileName = fileName
    }

    /// Parses `source`, naming it `name` (its path relative to the proto root) in errors and descriptors.
    public static func parse(_ source: String, name: String) throws(ProtoSyntaxError) -> ProtoFile {
        var parser = Parser(tokens: try Lexer.tokenize(source, file: name), fileName: name)
        return try parser.parseFile()
    }

    // MARK: token helpers

    private var current: Token { tokens[index] }

    private mutating func take() -> Token {
        let t = tokens[index]
        if t.kind != .end { index += 1 }
        return t
    }

    private func isSymbol(_ s: String) -> Bool { current.kind == .symbol && current.text == s }
    private func isKeyword(_ s: String) -> Bool { current.kind == .identifier && current.text == s }

    private func fail(_ message: String, at token: Token? = nil) -> ProtoSyntaxError {
        let t = token ?? current
        let found = t.kind == .end ? "end of file" : "'\(t.text)'"
        return ProtoSyntaxError(message.replacingFound(with: found), at: t.location)
    }

    private mutating func expectSymbol(_ s: String) throws(ProtoSyntaxError) {
        guard isSymbol(s) else { throw fail("expected '\(s)', found {found}") }
        index += 1
    }

    private mutating func acceptSymbol(_ s: String) -> Bool {
        if isSymbol(s) {
            index += 1
            return true
        }
        return false
    }

    /// The declaration that began at `first` and ended with the token just taken; protoc takes its leading
    /// comment from above `first` and its trailing one from after its `;` or `{` (`trailing`).
    private func declarationSource(from first: Token, trailing: String?) -> DeclarationSource {
        DeclarationSource(span: SourceSpan(start: first.span.start, end: tokens[index - 1].span.end),
                          leadingComment: first.protocComments.leading, trailingComment: trailing)
    }

    /// protoc's trailing comment of the token just taken (a `;` or `{` that ends a declaration).
    private var trailingCommentOfLastToken: String? { current.protocComments.previousTrailing }

    private mutating func expectIdentifier(_ what: String) throws(ProtoSyntaxError) -> Token {
        guard current.kind == .identifier else { throw fail("expected \(what), found {found}") }
        return take()
    }

    /// `a.b.c`, optionally with a leading dot.
    private mutating func parseTypeName() throws(ProtoSyntaxError) -> String {
        var name = acceptSymbol(".") ? "." : ""
        name += try expectIdentifier("a type name").text
        while acceptSymbol(".") { name += "." + (try expectIdentifier("a name after '.'").text) }
        return name
    }

    private mutating func parseInteger(_ what: String) throws(ProtoSyntaxError) -> Int64 {
        let negative = acceptSymbol("-")
        let token = current
        guard token.kind == .integer else { throw fail("expected \(what), found {found}") }
        index += 1
        let text = token.text
        let magnitude: UInt64?
        if text.hasPrefix("0x") || text.hasPrefix("0X") {
            magnitude = UInt64(text.dropFirst(2), radix: 16)
        } else if text.count > 1, text.hasPrefix("0") {
            magnitude = UInt64(text.dropFirst(), radix: 8)
        } else {
            magnitude = UInt64(text)
        }
        guard let m = magnitude, m <= UInt64(Int64.max) else { throw fail("integer \(text) is out of range", at: token) }
        return negative ? -Int64(m) : Int64(m)
    }

    // MARK: file

    private mutating func parseFile() throws(ProtoSyntaxError) -> ProtoFile {
        var file = ProtoFile(name: fileName)
        if isKeyword("syntax") {
            let start = take()
            try expectSymbol("=")
            guard current.kind == .string else { throw fail("expected a syntax string, found {found}") }
            let syntax = take()
            guard syntax.text == "proto3" else {
                throw fail("only proto3 is supported; this file declares \"\(syntax.text)\"", at: syntax)
            }
            try expectSymbol(";")
            _ = start
        } else if isKeyword("edition") {
            throw fail("editions are not supported; declare syntax = \"proto3\"")
        } else {
            throw fail("expected syntax = \"proto3\"; as the first statement (proto2 is not supported), found {found}")
        }
        var sawPackage = false
        while current.kind != .end {
            let token = current
            if acceptSymbol(";") { continue }
            guard token.kind == .identifier else { throw fail("expected a declaration, found {found}") }
            switch token.text {
            case "import":
                index += 1
                var kind = ImportDecl.Kind.normal
                if acceptKeyword("public") { kind = .public } else if acceptKeyword("weak") { kind = .weak }
                guard current.kind == .string else { throw fail("expected the imported file's name, found {found}") }
                let path = take()
                try expectSymbol(";")
                file.imports.append(ImportDecl(path: path.text, kind: kind, location: path.location))
            case "package":
                index += 1
                guard !sawPackage else { throw fail("a file may declare only one package", at: token) }
                sawPackage = true
                let name = try parseTypeName()
                guard !name.hasPrefix(".") else { throw fail("a package name cannot start with '.'", at: token) }
                file.package = name
                try expectSymbol(";")
            case "option":
                file.options.append(try parseOptionStatement())
            case "message":
                file.messages.append(try parseMessage())
            case "enum":
                file.enums.append(try parseEnum())
            case "service":
                file.services.append(try parseService())
            case "extend":
                throw fail("extensions ('extend') are not supported")
            default:
                throw fail("expected import, package, option, message, enum or service, found {found}")
            }
        }
        return file
    }

    private mutating func acceptKeyword(_ s: String) -> Bool {
        if isKeyword(s) {
            index += 1
            return true
        }
        return false
    }

    // MARK: options

    private mutating func parseOptionName() throws(ProtoSyntaxError) -> String {
        if isSymbol("(") {
            throw fail("custom options are not supported")
        }
        var name = try expectIdentifier("an option name").text
        while acceptSymbol(".") { name += "." + (try expectIdentifier("an option name").text) }
        return name
    }

    private mutating func parseOptionValue() throws(ProtoSyntaxError) -> OptionValue {
        let token = current
        switch token.kind {
        case .string:
            var s = take().text
            while current.kind == .string { s += take().text }
            return .string(s)
        case .identifier:
            index += 1
            switch token.text {
            case "true": return .bool(true)
            case "false": return .bool(false)
            case "inf": return .float(.infinity)
            case "nan": return .float(.nan)
            default: return .identifier(token.text)
            }
        case .integer:
            return .integer(try parseInteger("a value"))
        case .float:
            index += 1
            guard let d = Double(token.text) else { throw fail("invalid number \(token.text)", at: token) }
            return .float(d)
        case .symbol where token.text == "-" || token.text == "+":
            index += 1
            let sign: Double = token.text == "-" ? -1 : 1
            if current.kind == .integer {
                index -= 1
                if token.text == "+" { index += 1 }
                return .integer(try parseInteger("a value"))
            }
            if current.kind == .float, let d = Double(take().text) { return .float(sign * d) }
            if acceptKeyword("inf") { return .float(sign * .infinity) }
            if acceptKeyword("nan") { return .float(.nan) }
            throw fail("expected a number after '\(token.text)', found {found}")
        case .symbol where token.text == "{":
            throw fail("aggregate option values are not supported")
        default:
            throw fail("expected an option value, found {found}")
        }
    }

    /// `option name = value;`
    private mutating func parseOptionStatement() throws(ProtoSyntaxError) -> OptionDecl {
        let start = take()
        let name = try parseOptionName()
        try expectSymbol("=")
        let value = try parseOptionValue()
        try expectSymbol(";")
        return OptionDecl(name: name, value: value, location: start.location)
    }

    /// `[a = 1, b = 2]`, or nothing.
    private mutating func parseBracketOptions() throws(ProtoSyntaxError) -> [OptionDecl] {
        guard acceptSymbol("[") else { return [] }
        var options: [OptionDecl] = []
        repeat {
            let at = current.location
            let name = try parseOptionName()
            try expectSymbol("=")
            options.append(OptionDecl(name: name, value: try parseOptionValue(), location: at))
        } while acceptSymbol(",")
        try expectSymbol("]")
        return options
    }

    // MARK: messages

    private mutating func parseMessage() throws(ProtoSyntaxError) -> MessageDecl {
        let keyword = take()
        let name = try expectIdentifier("a message name")
        var message = MessageDecl(name: name.text, location: name.location)
        message.comment = keyword.leadingComment
        try expectSymbol("{")
        let trailing = trailingCommentOfLastToken
        while !acceptSymbol("}") {
            let token = current
            if acceptSymbol(";") { continue }
            guard token.kind == .identifier else { throw fail("expected a field or declaration, found {found}") }
            switch token.text {
            case "message": message.messages.append(try parseMessage())
            case "enum": message.enums.append(try parseEnum())
            case "option": message.options.append(try parseOptionStatement())
            case "reserved":
                try parseReserved(ranges: &message.reservedRanges, names: &message.reservedNames, max: FieldNumbers.max)
            case "oneof": try parseOneof(into: &message)
            case "extensions": throw fail("extension ranges are not supported in proto3")
            case "extend": throw fail("extensions ('extend') are not supported")
            case "required": throw fail("'required' is not allowed in proto3")
            case "group": throw fail("groups are not supported in proto3")
            case "map": try parseMapField(into: &message)
            default: message.fields.append(try parseField(oneofIndex: nil))
            }
        }
        for option in message.options where !["deprecated"].contains(option.name) {
            throw ProtoSyntaxError("unsupported message option '\(option.name)'", at: option.location)
        }
        message.source = declarationSource(from: keyword, trailing: trailing)
        return message
    }

    private mutating func parseField(oneofIndex: Int?) throws(ProtoSyntaxError) -> FieldDecl {
        let first = current
        var label = FieldLabel.implicit
        if oneofIndex == nil {
            if acceptKeyword("repeated") { label = .repeated } else if acceptKeyword("optional") { label = .optional }
        } else if isKeyword("repeated") || isKeyword("optional") {
            throw fail("fields in a oneof cannot be '\(current.text)'")
        }
        if isKeyword("map"), oneofIndex == nil, label != .implicit {
            throw fail("map fields cannot be '\(label == .repeated ? "repeated" : "optional")'")
        }
        if isKeyword("group") { throw fail("groups are not supported in proto3") }
        let typeToken = current
        let typeName = try parseTypeName()
        let type: FieldType = ScalarType(rawValue: typeName).map { .scalar($0) } ?? .named(typeName)
        _ = typeToken
        let name = try expectIdentifier("a field name")
        try expectSymbol("=")
        let numberToken = current
        let number = try parseInteger("a field number")
        try FieldNumbers.check(number, at: numberToken.location)
        let options = try parseBracketOptions()
        try checkFieldOptions(options, type: type, label: label)
        try expectSymbol(";")
        return FieldDecl(name: name.text, number: Int(number), label: label, type: type, oneofIndex: oneofIndex,
                         options: options, comment: first.leadingComment, location: name.location,
                         source: declarationSource(from: first, trailing: trailingCommentOfLastToken))
    }

    private func checkFieldOptions(_ options: [OptionDecl], type: FieldType, label: FieldLabel) throws(ProtoSyntaxError) {
        for option in options {
            switch option.name {
            case "deprecated":
                guard case .bool = option.value else { throw ProtoSyntaxError("deprecated must be true or false", at: option.location) }
            case "json_name":
                guard case .string = option.value else { throw ProtoSyntaxError("json_name must be a string", at: option.location) }
            case "packed":
                guard case .bool = option.value else { throw ProtoSyntaxError("packed must be true or false", at: option.location) }
                guard label == .repeated, case .scalar(let s) = type, s.isPackable else {
                    throw ProtoSyntaxError("[packed] applies only to repeated numeric, bool or enum fields", at: option.location)
                }
            default:
                throw ProtoSyntaxError("unsupported field option '\(option.name)'", at: option.location)
            }
        }
    }

    private mutating func parseMapField(into message: inout MessageDecl) throws(ProtoSyntaxError) {
        let first = take()
        try expectSymbol("<")
        let keyToken = current
        let keyName = try parseTypeName()
        guard let key = ScalarType(rawValue: keyName), key.isValidMapKey else {
            throw ProtoSyntaxError("map keys must be an integer type, bool or string, not '\(keyName)'", at: keyToken.location)
        }
        try expectSymbol(",")
        let valueName = try parseTypeName()
        let value: FieldType = ScalarType(rawValue: valueName).map { .scalar($0) } ?? .named(valueName)
        try expectSymbol(">")
        let name = try expectIdentifier("a field name")
        try expectSymbol("=")
        let numberToken = current
        let number = try parseInteger("a field number")
        try FieldNumbers.check(number, at: numberToken.location)
        let options = try parseBracketOptions()
        try checkFieldOptions(options, type: .map(key: key, value: value), label: .repeated)
        try expectSymbol(";")
        message.fields.append(FieldDecl(name: name.text, number: Int(number), label: .repeated,
                                        type: .map(key: key, value: value), oneofIndex: nil, options: options,
                                        comment: first.leadingComment, location: name.location,
                                        source: declarationSource(from: first, trailing: trailingCommentOfLastToken)))
        // protoc models a map as a repeated nested XxxEntry message; the descriptor must show it.
        var entry = MessageDecl(name: Naming.upperCamel(name.text) + "Entry", location: name.location)
        entry.isMapEntry = true
        entry.fields = [
            FieldDecl(name: "key", number: 1, label: .implicit, type: .scalar(key), oneofIndex: nil, options: [],
                      comment: nil, location: name.location),
            FieldDecl(name: "value", number: 2, label: .implicit, type: value, oneofIndex: nil, options: [],
                      comment: nil, location: name.location),
        ]
        message.messages.append(entry)
    }

    private mutating func parseOneof(into message: inout MessageDecl) throws(ProtoSyntaxError) {
        let keyword = take()
        let name = try expectIdentifier("a oneof name")
        let oneofIndex = message.oneofs.count
        message.oneofs.append(OneofDecl(name: name.text, comment: keyword.leadingComment, location: name.location))
        try expectSymbol("{")
        let trailing = trailingCommentOfLastToken
        var count = 0
        while !acceptSymbol("}") {
            if acceptSymbol(";") { continue }
            if isKeyword("option") { throw fail("oneof options are not supported") }
            if isKeyword("map") { throw fail("map fields cannot be in a oneof") }
            message.fields.append(try parseField(oneofIndex: oneofIndex))
            count += 1
        }
        guard count > 0 else { throw ProtoSyntaxError("oneof '\(name.text)' has no fields", at: name.location) }
        message.oneofs[oneofIndex].source = declarationSource(from: keyword, trailing: trailing)
    }

    private mutating func parseReserved(ranges: inout [ReservedRange], names: inout [String], max: Int64)
        throws(ProtoSyntaxError) {
        index += 1
        if current.kind == .string {
            repeat {
                guard current.kind == .string else { throw fail("expected a reserved name, found {found}") }
                names.append(take().text)
            } while acceptSymbol(",")
        } else {
            repeat {
                let at = current
                let start = try parseInteger("a reserved number")
                var end = start
                if acceptKeyword("to") {
                    end = acceptKeyword("max") ? max : try parseInteger("the end of a reserved range")
                }
                guard start <= end else { throw fail("reserved range \(start) to \(end) is empty", at: at) }
                ranges.append(ReservedRange(start: Int(start), end: Int(end)))
            } while acceptSymbol(",")
        }
        try expectSymbol(";")
    }

    // MARK: enums

    private mutating func parseEnum() throws(ProtoSyntaxError) -> EnumDecl {
        let keyword = take()
        let name = try expectIdentifier("an enum name")
        var decl = EnumDecl(name: name.text, comment: keyword.leadingComment, location: name.location)
        try expectSymbol("{")
        let trailing = trailingCommentOfLastToken
        while !acceptSymbol("}") {
            if acceptSymbol(";") { continue }
            if isKeyword("option") {
                let option = try parseOptionStatement()
                guard ["allow_alias", "deprecated"].contains(option.name) else {
                    throw ProtoSyntaxError("unsupported enum option '\(option.name)'", at: option.location)
                }
                decl.options.append(option)
                continue
            }
            if isKeyword("reserved") {
                try parseReserved(ranges: &decl.reservedRanges, names: &decl.reservedNames, max: Int64(Int32.max))
                continue
            }
            let valueName = try expectIdentifier("an enum value name")
            try expectSymbol("=")
            let numberToken = current
            let number = try parseInteger("an enum value number")
            guard let n = Int32(exactly: number) else {
                throw ProtoSyntaxError("enum value \(number) does not fit in int32", at: numberToken.location)
            }
            let options = try parseBracketOptions()
            for option in options where option.name != "deprecated" {
                throw ProtoSyntaxError("unsupported enum value option '\(option.name)'", at: option.location)
            }
            try expectSymbol(";")
            decl.values.append(EnumValueDecl(name: valueName.text, number: n, options: options,
                                             comment: valueName.leadingComment, location: valueName.location,
                                             source: declarationSource(from: valueName,
                                                                       trailing: trailingCommentOfLastToken)))
        }
        decl.source = declarationSource(from: keyword, trailing: trailing)
        guard let first = decl.values.first else {
            throw ProtoSyntaxError("enum '\(decl.name)' has no values", at: name.location)
        }
        guard first.number == 0 else {
            throw ProtoSyntaxError("the first value of a proto3 enum must be 0", at: first.location)
        }
        var seen: [Int32: String] = [:]
        for value in decl.values {
            if let other = seen[value.number], !decl.allowsAlias {
                throw ProtoSyntaxError("\(value.name) reuses number \(value.number) of \(other); "
                    + "set option allow_alias = true; if that is intended", at: value.location)
            }
            seen[value.number] = value.name
        }
        return decl
    }

    // MARK: services

    private mutating func parseService() throws(ProtoSyntaxError) -> ServiceDecl {
        let keyword = take()
        let name = try expectIdentifier("a service name")
        var service = ServiceDecl(name: name.text, comment: keyword.leadingComment, location: name.location)
        try expectSymbol("{")
        let trailing = trailingCommentOfLastToken
        while !acceptSymbol("}") {
            if acceptSymbol(";") { continue }
            if isKeyword("option") {
                let option = try parseOptionStatement()
                guard option.name == "deprecated" else {
                    throw ProtoSyntaxError("unsupported service option '\(option.name)'", at: option.location)
                }
                service.options.append(option)
                continue
            }
            guard isKeyword("rpc") else { throw fail("expected 'rpc', found {found}") }
            let rpc = take()
            let methodName = try expectIdentifier("a method name")
            try expectSymbol("(")
            let clientStreaming = acceptKeyword("stream")
            let input = try parseTypeName()
            try expectSymbol(")")
            guard acceptKeyword("returns") else { throw fail("expected 'returns', found {found}") }
            try expectSymbol("(")
            let serverStreaming = acceptKeyword("stream")
            let output = try parseTypeName()
            try expectSymbol(")")
            var options: [OptionDecl] = []
            let methodTrailing: String?
            if acceptSymbol("{") {
                methodTrailing = trailingCommentOfLastToken
                while !acceptSymbol("}") {
                    if acceptSymbol(";") { continue }
                    guard isKeyword("option") else { throw fail("expected 'option' or '}', found {found}") }
                    let option = try parseOptionStatement()
                    guard option.name == "deprecated" else {
                        throw ProtoSyntaxError("unsupported method option '\(option.name)'", at: option.location)
                    }
                    options.append(option)
                }
            } else {
                try expectSymbol(";")
                methodTrailing = trailingCommentOfLastToken
            }
            service.methods.append(MethodDecl(name: methodName.text, inputType: input, outputType: output,
                                              clientStreaming: clientStreaming, serverStreaming: serverStreaming,
                                              options: options, comment: rpc.leadingComment,
                                              location: methodName.location,
                                              source: declarationSource(from: rpc, trailing: methodTrailing)))
        }
        service.source = declarationSource(from: keyword, trailing: trailing)
        return service
    }
}

/// Limits on field numbers.
enum FieldNumbers {
    static let max: Int64 = 536_870_911

    static func check(_ number: Int64, at location: SourceLocation) throws(ProtoSyntaxError) {
        guard number >= 1, number <= max else {
            throw ProtoSyntaxError("field number \(number) is out of range 1...\(max)", at: location)
        }
        guard !(19000...19999).contains(number) else {
            throw ProtoSyntaxError("field numbers 19000 to 19999 are reserved for the protobuf implementation",
                                   at: location)
        }
    }
}

extension String {
    func replacingFound(with found: String) -> String {
        split(separator: "{found}", omittingEmptySubsequences: false).joined(separator: found)
    }
}
