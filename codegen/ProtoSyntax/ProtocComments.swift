// Which comment protoc calls a token's "leading" comment and which the previous token's "trailing" one. Tools that
// read descriptors (grpcurl describe, IDEs, doc generators) show these, so the rules are protoc's own (its
// tokenizer's NextWithComments), applied to the space and comments between two tokens; the Swift doc comments keep
// the lexer's simpler rule (`Token.leadingComment`).

/// The comments protoc reads between one token and the next.
public struct ProtocComments: Sendable, Hashable {
    /// The previous token's trailing comment (protoc keeps it only after the `;` or `{` ending a declaration).
    public var previousTrailing: String?
    /// The next token's leading comment.
    public var leading: String?

    public init(previousTrailing: String? = nil, leading: String? = nil) {
        self.previousTrailing = previousTrailing
        self.leading = leading
    }

    /// Splits `trivia` (only spaces and whole comments, as the lexer skipped them) the way protoc does.
    /// `atFileStart`: nothing precedes it; `nextToken`: the token after it, nil at the end of the file.
    static func read(_ trivia: ArraySlice<UInt8>, atFileStart: Bool, nextToken: String?) -> ProtocComments {
        var reader = TriviaReader(bytes: Array(trivia))
        var collector = Collector()
        let previousLine = 0
        var trailingCommentEndLine = -1
        if atFileStart {
            collector.canAttachToPrevious = false
        } else {
            // A comment on the previous token's line belongs to that token.
            reader.skipSpaceInLine()
            if reader.startsLineComment {
                trailingCommentEndLine = reader.line
                collector.add(reader.lineComment(), isLine: true)
                collector.flush()
            } else if reader.startsBlockComment {
                collector.add(reader.blockComment(), isLine: false)
                trailingCommentEndLine = reader.line
                reader.skipSpaceInLine()
                // A token right after the comment on its line: protoc cannot tell whose it is and drops it.
                guard reader.consumeNewline() else { return ProtocComments() }
                collector.flush()
            } else if !reader.consumeNewline() {
                return ProtocComments()
            }
        }
        while true {
            reader.skipSpaceInLine()
            if reader.startsLineComment {
                collector.add(reader.lineComment(), isLine: true)
            } else if reader.startsBlockComment {
                collector.add(reader.blockComment(), isLine: false)
                // The rest of the line is not a blank line.
                reader.skipSpaceInLine()
                _ = reader.consumeNewline()
            } else if reader.consumeNewline() {
                // A blank line ends the block above it and detaches it from the previous token.
                collector.flush()
                collector.canAttachToPrevious = false
            } else {
                // At the next token (or the end of the file).
                if nextToken == nil || ["}", "]", ")"].contains(nextToken) {
                    // The end of a scope: a comment has nothing below to lead.
                    collector.flush()
                }
                if nextToken != nil, previousLine == reader.line || trailingCommentEndLine == reader.line {
                    collector.detachIfAlone()
                }
                return ProtocComments(previousTrailing: collector.trailing,
                                      leading: collector.hasComment ? collector.buffer : nil)
            }
        }
    }

    /// protoc's comment collector: consecutive line comments form one block; a block comment stands alone.
    private struct Collector {
        var buffer = ""
        var hasComment = false
        var isLineComment = false
        var canAttachToPrevious = true
        var trailing: String?
        var count = 0

        mutating func add(_ text: String, isLine: Bool) {
            if hasComment, !(isLine && isLineComment) { flush() }
            hasComment = true
            isLineComment = isLine
            buffer += text
        }

        /// The buffered block is complete and does not lead the next token.
        mutating func flush() {
            guard hasComment else { return }
            if canAttachToPrevious {
                trailing = (trailing ?? "") + buffer
                canAttachToPrevious = false
            }
            buffer = ""
            hasComment = false
            count += 1
        }

        /// A single comment on the line of either token is ambiguous, so protoc attaches it to neither.
        mutating func detachIfAlone() {
            guard count + (hasComment ? 1 : 0) == 1 else { return }
            trailing = nil
            canAttachToPrevious = false
            flush()
        }
    }
}

/// Reads trivia byte by byte, counting lines as protoc's tokenizer does.
private struct TriviaReader {
    let bytes: [UInt8]
    var index = 0
    var line = 0

    private func peek(_ offset: Int = 0) -> UInt8? {
        index + offset < bytes.count ? bytes[index + offset] : nil
    }

    private mutating func advance() {
        if bytes[index] == 0x0A { line += 1 }
        index += 1
    }

    var startsLineComment: Bool { peek() == UInt8(ascii: "/") && peek(1) == UInt8(ascii: "/") }
    var startsBlockComment: Bool { peek() == UInt8(ascii: "/") && peek(1) == UInt8(ascii: "*") }

    mutating func skipSpaceInLine() {
        while let c = peek(), c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0B || c == 0x0C { advance() }
    }

    mutating func consumeNewline() -> Bool {
        guard peek() == 0x0A else { return false }
        advance()
        return true
    }

    /// The text after `//` up to and including the newline.
    mutating func lineComment() -> String {
        index += 2
        let start = index
        while let c = peek(), c != 0x0A { advance() }
        _ = consumeNewline()
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    /// The text between `/*` and `*/`, without each continuation line's indentation and leading `*`.
    mutating func blockComment() -> String {
        index += 2
        var text: [UInt8] = []
        var start = index
        while let c = peek() {
            if c == 0x0A {
                advance()
                text += bytes[start..<index]
                skipSpaceInLine()
                if peek() == UInt8(ascii: "*") {
                    advance()
                    if peek() == UInt8(ascii: "/") {
                        advance()
                        return String(decoding: text, as: UTF8.self)
                    }
                }
                start = index
            } else if c == UInt8(ascii: "*"), peek(1) == UInt8(ascii: "/") {
                text += bytes[start..<index]
                index += 2
                return String(decoding: text, as: UTF8.self)
            } else {
                advance()
            }
        }
        // Unreachable for trivia the lexer accepted (it refuses an unterminated comment).
        text += bytes[start..<index]
        return String(decoding: text, as: UTF8.self)
    }
}
