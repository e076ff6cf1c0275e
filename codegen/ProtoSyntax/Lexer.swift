// Splits .proto text into tokens, keeping each token's position and the comment written just before it.

/// One token of a `.proto` file.
public struct Token: Sendable, Hashable {
    /// What kind of token it is.
    public enum Kind: Sendable, Hashable {
        case identifier
        case integer
        case float
        case string
        case symbol
        case end
    }

    public var kind: Kind
    /// The token's text; for strings, the decoded value without quotes.
    public var text: String
    public var location: SourceLocation
    /// The comment block directly above the token (no blank line between), without comment markers.
    public var leadingComment: String?
    /// The token's extent as protoc counts positions, for `SourceCodeInfo` spans.
    public var span = SourceSpan(start: ProtocPosition(line: 0, column: 0), end: ProtocPosition(line: 0, column: 0))
    /// The comments before the token by protoc's rules: its leading one and the previous token's trailing one.
    public var protocComments = ProtocComments()
}

/// Turns `.proto` source into tokens.
public struct Lexer {
    private let bytes: [UInt8]
    private let file: String
    private var index = 0
    private var line = 1
    private var column = 1
    // protoc's column (bytes, tabs to multiples of 8, 0-based), for descriptor spans; `column` is for messages.
    private var protocColumn = 0
    private var atFileStart = true

    public init(source: String, file: String) {
        self.bytes = Array(source.utf8)
        self.file = file
    }

    /// All tokens of the file, ending with an `.end` token.
    public static func tokenize(_ source: String, file: String) throws(ProtoSyntaxError) -> [Token] {
        var lexer = Lexer(source: source, file: file)
        var tokens: [Token] = []
        while true {
            let token = try lexer.next()
            tokens.append(token)
            if token.kind == .end { return tokens }
        }
    }

    private var location: SourceLocation { SourceLocation(file: file, line: line, column: column) }

    private func peek(_ offset: Int = 0) -> UInt8? {
        index + offset < bytes.count ? bytes[index + offset] : nil
    }

    private mutating func advance() {
        if bytes[index] == 0x0A {
            line += 1
            column = 1
            protocColumn = 0
        } else {
            if bytes[index] & 0xC0 != 0x80 { column += 1 }
            protocColumn += bytes[index] == 0x09 ? 8 - protocColumn % 8 : 1
        }
        index += 1
    }

    /// Skips space and comments, returning the comment block that ends right before the next token.
    private mutating func skipTrivia() throws(ProtoSyntaxError) -> String? {
        var commentLines: [String] = []
        var newlinesSinceComment = 0
        while let c = peek() {
            if c == 0x0A {
                newlinesSinceComment += 1
                // A blank line detaches the comment above it from the next declaration.
                if newlinesSinceComment >= 2 { commentLines = [] }
                advance()
            } else if c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0C || c == 0x0B {
                advance()
            } else if c == UInt8(ascii: "/"), peek(1) == UInt8(ascii: "/") {
                advance(); advance()
                let start = index
                while let d = peek(), d != 0x0A { advance() }
                var text = String(decoding: bytes[start..<index], as: UTF8.self)
                if text.hasPrefix(" ") { text.removeFirst() }
                if newlinesSinceComment >= 2 { commentLines = [] }
                commentLines.append(text)
                newlinesSinceComment = 0
            } else if c == UInt8(ascii: "/"), peek(1) == UInt8(ascii: "*") {
                let start = location
                advance(); advance()
                let textStart = index
                while true {
                    guard let d = peek() else { throw ProtoSyntaxError("unterminated /* comment", at: start) }
                    if d == UInt8(ascii: "*"), peek(1) == UInt8(ascii: "/") { break }
                    advance()
                }
                let text = String(decoding: bytes[textStart..<index], as: UTF8.self)
                advance(); advance()
                if newlinesSinceComment >= 2 { commentLines = [] }
                for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
                    var l = raw.drop(while: { $0 == " " || $0 == "\t" })
                    if l.hasPrefix("*") { l = l.dropFirst() }
                    if l.hasPrefix(" ") { l = l.dropFirst() }
                    while l.last == " " || l.last == "\t" { l = l.dropLast() }
                    commentLines.append(String(l))
                }
                newlinesSinceComment = 0
            } else {
                break
            }
        }
        if newlinesSinceComment >= 2 { commentLines = [] }
        while let last = commentLines.last, last.isBlank { commentLines.removeLast() }
        while let first = commentLines.first, first.isBlank { commentLines.removeFirst() }
        return commentLines.isEmpty ? nil : commentLines.joined(separator: "\n")
    }

    private mutating func next() throws(ProtoSyntaxError) -> Token {
        let triviaStart = index
        let comment = try skipTrivia()
        let trivia = bytes[triviaStart..<index]
        let start = ProtocPosition(line: line - 1, column: protocColumn)
        var token = try scanToken(leadingComment: comment)
        token.span = SourceSpan(start: start, end: ProtocPosition(line: line - 1, column: protocColumn))
        // protoc tells a `}` closing a scope from a string "}" by the quotes its token text keeps.
        let nextText = token.kind == .end ? nil : token.kind == .symbol ? token.text : ""
        token.protocComments = ProtocComments.read(trivia, atFileStart: atFileStart, nextToken: nextText)
        atFileStart = false
        return token
    }

    private mutating func scanToken(leadingComment comment: String?) throws(ProtoSyntaxError) -> Token {
        let start = location
        guard let c = peek() else { return Token(kind: .end, text: "", location: start, leadingComment: comment) }
        func isIdentStart(_ b: UInt8) -> Bool {
            (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == UInt8(ascii: "_")
        }
        func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
        if isIdentStart(c) {
            let s = index
            while let d = peek(), isIdentStart(d) || isDigit(d) { advance() }
            return Token(kind: .identifier, text: String(decoding: bytes[s..<index], as: UTF8.self),
                         location: start, leadingComment: comment)
        }
        if isDigit(c) || (c == UInt8(ascii: ".") && peek(1).map(isDigit) == true) {
            let s = index
            var isFloat = false
            if c == UInt8(ascii: "0"), peek(1) == UInt8(ascii: "x") || peek(1) == UInt8(ascii: "X") {
                advance(); advance()
                while let d = peek(), isDigit(d) || (d | 0x20 >= 0x61 && d | 0x20 <= 0x66) { advance() }
            } else {
                while let d = peek() {
                    if isDigit(d) {
                        advance()
                    } else if d == UInt8(ascii: ".") {
                        isFloat = true
                        advance()
                    } else if d == UInt8(ascii: "e") || d == UInt8(ascii: "E") {
                        isFloat = true
                        advance()
                        if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { advance() }
                    } else {
                        break
                    }
                }
            }
            if let d = peek(), isIdentStart(d) {
                throw ProtoSyntaxError("invalid number literal", at: start)
            }
            return Token(kind: isFloat ? .float : .integer, text: String(decoding: bytes[s..<index], as: UTF8.self),
                         location: start, leadingComment: comment)
        }
        if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
            return Token(kind: .string, text: try readString(quote: c, start: start), location: start,
                         leadingComment: comment)
        }
        let symbols = Array("{}[]()<>;=,.-+:/".utf8)
        guard symbols.contains(c) else {
            throw ProtoSyntaxError("unexpected character '\(Unicode.Scalar(c))'", at: start)
        }
        advance()
        return Token(kind: .symbol, text: String(Unicode.Scalar(c)), location: start, leadingComment: comment)
    }

    private mutating func readString(quote: UInt8, start: SourceLocation) throws(ProtoSyntaxError) -> String {
        advance()
        var out: [UInt8] = []
        while true {
            guard let c = peek(), c != 0x0A else { throw ProtoSyntaxError("unterminated string", at: start) }
            advance()
            if c == quote { break }
            if c != UInt8(ascii: "\\") {
                out.append(c)
                continue
            }
            guard let e = peek() else { throw ProtoSyntaxError("unterminated string", at: start) }
            advance()
            switch e {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "?"): out.append(e)
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                var v = UInt32(e - 0x30)
                for _ in 0..<2 {
                    guard let d = peek(), d >= 0x30, d <= 0x37 else { break }
                    v = v * 8 + UInt32(d - 0x30)
                    advance()
                }
                out.append(UInt8(truncatingIfNeeded: v))
            case UInt8(ascii: "x"), UInt8(ascii: "X"):
                var v: UInt32 = 0
                var digits = 0
                while digits < 2, let d = peek(), let h = Lexer.hexValue(d) {
                    v = v * 16 + h
                    advance()
                    digits += 1
                }
                guard digits > 0 else { throw ProtoSyntaxError("invalid \\x escape", at: location) }
                out.append(UInt8(v))
            default:
                throw ProtoSyntaxError("unsupported escape \\\(Unicode.Scalar(e))", at: location)
            }
        }
        guard let s = String(validating: out, as: UTF8.self) else {
            throw ProtoSyntaxError("string literal is not valid UTF-8", at: start)
        }
        return s
    }

    private static func hexValue(_ d: UInt8) -> UInt32? {
        switch d {
        case 0x30...0x39: UInt32(d - 0x30)
        case 0x41...0x46: UInt32(d - 0x41 + 10)
        case 0x61...0x66: UInt32(d - 0x61 + 10)
        default: nil
        }
    }
}

extension String {
    var isBlank: Bool { allSatisfy { $0 == " " || $0 == "\t" } }
}
