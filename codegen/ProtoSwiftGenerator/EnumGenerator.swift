// Emits one open proto3 enum: known cases, `unrecognized(Int32)` for the rest, names for JSON.
import ProtoSyntax

extension SwiftGenerator {
    /// Swift case names for an enum's values: the enum's UPPER_SNAKE prefix dropped when every value has it.
    func caseNames(_ e: EnumDecl) -> [String] {
        let prefix = Self.upperSnake(e.name) + "_"
        let canStrip = e.values.allSatisfy { v in
            guard v.name.hasPrefix(prefix) else { return false }
            let rest = v.name.dropFirst(prefix.count)
            return !rest.isEmpty && !(rest.first?.isNumber ?? true)
        }
        func names(strip: Bool) -> [String] {
            e.values.map { v in
                let raw = strip ? String(v.name.dropFirst(prefix.count)) : v.name
                let name = Naming.lowerCamel(raw)
                return name == "unrecognized" ? "unrecognized_" : name
            }
        }
        let stripped = names(strip: canStrip)
        if Set(stripped).count == stripped.count { return stripped.map(SwiftNames.escaped) }
        return names(strip: false).map(SwiftNames.escaped)
    }

    /// `ActionState` → `ACTION_STATE`.
    static func upperSnake(_ name: String) -> String {
        var out = ""
        for (i, c) in name.enumerated() {
            if c.isUppercase, i > 0 { out += "_" }
            out += c.uppercased()
        }
        return out
    }

    func emitEnum(_ e: EnumDecl, fullName: String, swiftName: String, into w: inout CodeWriter) {
        let localName = String(swiftName.split(separator: ".").last!)
        let names = caseNames(e)
        // With allow_alias, the first name of a number is the case; later names become static aliases.
        var primary: [Int32: Int] = [:]
        for (i, v) in e.values.enumerated() where primary[v.number] == nil { primary[v.number] = i }
        let cases = e.values.indices.filter { primary[e.values[$0].number] == $0 }
        w.doc(e.comment, fallback: "The `\(fullName.dropFirst())` enum.")
        w.block("public enum \(localName): ProtoEnum") { w in
            for i in cases {
                w.doc(e.values[i].comment)
                w.line("case \(names[i]) // = \(e.values[i].number)")
            }
            w.doc("A number this schema does not name; kept so re-encoding loses nothing.")
            w.line("case unrecognized(Int32)")
            for (i, v) in e.values.enumerated() where primary[v.number] != i {
                w.line()
                w.doc(v.comment, fallback: "An alias of `\(names[primary[v.number]!])`.")
                w.line("public static let \(names[i]) = \(localName).\(names[primary[v.number]!])")
            }
            w.line()
            w.doc("The zero value, proto3's default.")
            w.line("public init() { self = .\(names[0]) }")
            w.line()
            w.block("public init(rawValue: Int32)") { w in
                w.block("switch rawValue") { w in
                    for i in cases { w.line("case \(e.values[i].number): self = .\(names[i])") }
                    w.line("default: self = .unrecognized(rawValue)")
                }
            }
            w.line()
            w.block("public var rawValue: Int32") { w in
                w.block("switch self") { w in
                    for i in cases { w.line("case .\(names[i]): \(e.values[i].number)") }
                    w.line("case .unrecognized(let value): value")
                }
            }
            w.line()
            w.block("public init?(protoName: String)") { w in
                w.block("switch protoName") { w in
                    for (i, v) in e.values.enumerated() {
                        w.line("case \(literal(v.name)): self = .\(names[primary[v.number]!])")
                        _ = i
                    }
                    w.line("default: return nil")
                }
            }
            w.line()
            w.block("public var protoName: String?") { w in
                w.block("switch self") { w in
                    for i in cases { w.line("case .\(names[i]): \(literal(e.values[i].name))") }
                    w.line("case .unrecognized: nil")
                }
            }
            w.line()
            w.doc("Every named value, in declaration order.")
            w.line("public static let allKnownCases: [\(localName)] = [\(cases.map { "." + names[$0] }.joined(separator: ", "))]")
        }
    }
}
