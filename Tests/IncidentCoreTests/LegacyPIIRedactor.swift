// The redactor as it was before it became linear-time (commit e251ff3), kept only as the oracle the
// property test compares the current one with: same input, same output, on many random short texts.
@testable import IncidentCore

/// The quadratic-time scanner, unchanged apart from its name.
struct LegacyPIIRedactor {
    func redact(_ text: String) -> (text: String, found: Set<PIIKind>) {
        var scanner = LegacyScanner(bytes: Array(text.utf8))
        scanner.run()
        if scanner.found.isEmpty { return (text, []) }
        return (String(decoding: scanner.output, as: UTF8.self), scanner.found)
    }

    /// Bytes the old scan stepped over (main loop, runs, email and number loops), to show the step bound bites.
    static func scanSteps(_ text: String) -> Int {
        var scanner = LegacyScanner(bytes: Array(text.utf8))
        scanner.run()
        return scanner.steps
    }

    static func passesLuhn<S: Sequence>(_ digits: S) -> Bool where S.Element == Int {
        let digits = Array(digits)
        guard (13...19).contains(digits.count) else { return false }
        var sum = 0
        for (offset, digit) in digits.reversed().enumerated() {
            if offset % 2 == 1 {
                let doubled = digit * 2
                sum += doubled > 9 ? doubled - 9 : doubled
            } else {
                sum += digit
            }
        }
        return sum % 10 == 0
    }
}

/// One pass over the bytes: at each word start try the shapes, longest-lived first, else copy a byte.
private struct LegacyScanner {
    let bytes: [UInt8]
    var output: [UInt8] = []
    var found = Set<PIIKind>()
    var i = 0
    var steps = 0

    init(bytes: [UInt8]) {
        self.bytes = bytes
        output.reserveCapacity(bytes.count)
    }

    mutating func run() {
        while i < bytes.count {
            steps += 1
            if atWordStart, let (end, kind) = match(at: i) {
                output.append(contentsOf: kind.marker.utf8)
                found.insert(kind)
                i = end
            } else {
                output.append(bytes[i])
                i += 1
            }
        }
    }

    private var atWordStart: Bool { i == 0 || !isWordByte(bytes[i - 1]) }

    private mutating func match(at start: Int) -> (Int, PIIKind)? {
        if let end = email(at: start) { return (end, .email) }
        if let end = secret(at: start) { return (end, .apiKey) }
        if let end = ipv6(at: start) { return (end, .ipAddress) }
        if let (end, kind) = numeric(at: start) { return (end, kind) }
        return nil
    }

    // MARK: shapes

    private mutating func email(at start: Int) -> Int? {
        var j = start
        while j < bytes.count, isLocalPartByte(bytes[j]) { j += 1 }
        steps += j - start
        guard j > start, j < bytes.count, bytes[j] == UInt8(ascii: "@") else { return nil }
        j += 1
        let domainStart = j
        var lastDot = -1
        while j < bytes.count, isAlnum(bytes[j]) || bytes[j] == UInt8(ascii: "-") || bytes[j] == UInt8(ascii: ".") {
            if bytes[j] == UInt8(ascii: ".") { lastDot = j }
            j += 1
        }
        // A sentence may end right after the address: the final dot is not part of it.
        while j > domainStart, bytes[j - 1] == UInt8(ascii: ".") { j -= 1 }
        if lastDot >= j { lastDot = bytes[domainStart..<j].lastIndex(of: UInt8(ascii: ".")) ?? -1 }
        guard lastDot > domainStart, j - lastDot - 1 >= 2,
              bytes[(lastDot + 1)..<j].allSatisfy(isAlpha) else { return nil }
        return j
    }

    private static let secretPrefixes: [[UInt8]] = [
        "sk", "pk", "rk", "api", "key", "token", "ghp", "gho", "ghs", "xoxa", "xoxb", "xoxp", "xoxr", "AKIA",
    ].map { Array($0.utf8) }

    private mutating func secret(at start: Int) -> Int? {
        // `Bearer <token>`: the token is the secret; the word stays readable.
        if hasPrefix("Bearer ", at: start) {
            let tokenStart = start + 7
            let end = run(from: tokenStart) { isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
            return end - tokenStart >= 16 ? end : nil
        }
        // A JWT: three base64url parts, the first starting with `eyJ` (`{"`).
        if hasPrefix("eyJ", at: start) {
            let end = run(from: start) { isBase64URL($0) || $0 == UInt8(ascii: ".") }
            let parts = bytes[start..<end].split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
            if parts.count == 3, parts.allSatisfy({ $0.count >= 8 }) { return end }
        }
        for prefix in Self.secretPrefixes where hasPrefix(prefix, at: start) {
            var j = start + prefix.count
            if j < bytes.count, bytes[j] == UInt8(ascii: "-") || bytes[j] == UInt8(ascii: "_") { j += 1 }
            let end = run(from: j, while: isBase64URL)
            let body = bytes[j..<end]
            // Long, and not a plain word: real keys mix digits in.
            if body.count >= 16, body.contains(where: isDigit), end == bytes.count || !isWordByte(bytes[end]) {
                return end
            }
        }
        return nil
    }

    private mutating func ipv6(at start: Int) -> Int? {
        let end = run(from: start) { isHex($0) || $0 == UInt8(ascii: ":") }
        guard end > start, end == bytes.count || !isWordByte(bytes[end]) else { return nil }
        let text = bytes[start..<end]
        let colons = text.filter { $0 == UInt8(ascii: ":") }.count
        let groups = text.split(separator: UInt8(ascii: ":"))
        guard groups.allSatisfy({ $0.count <= 4 }) else { return nil }
        let compressed = text.indices.contains { i in
            i + 1 < text.endIndex && text[i] == UInt8(ascii: ":") && text[i + 1] == UInt8(ascii: ":")
        }
        // Times (10:35:00) have two colons and no `::`; a full address has seven.
        if colons == 7, groups.count == 8 { return end }
        if compressed, colons >= 2, groups.count >= 2, colons <= 7 { return end }
        return nil
    }

    /// Digits with separators: an IPv4 address, a card number (Luhn) or a phone number.
    private mutating func numeric(at start: Int) -> (Int, PIIKind)? {
        guard start < bytes.count else { return nil }
        let first = bytes[start]
        guard isDigit(first) || first == UInt8(ascii: "+") || first == UInt8(ascii: "(") else { return nil }
        var j = start
        var digits: [Int] = []
        var separators: [UInt8] = []
        while j < bytes.count {
            steps += 1
            let b = bytes[j]
            if isDigit(b) {
                digits.append(Int(b - UInt8(ascii: "0")))
            } else if b == UInt8(ascii: " ") || b == UInt8(ascii: "-") || b == UInt8(ascii: ".")
                        || b == UInt8(ascii: "(") || b == UInt8(ascii: ")") || (b == UInt8(ascii: "+") && j == start) {
                // A separator counts only when a digit (or an opening bracket) follows.
                guard j + 1 < bytes.count, isDigit(bytes[j + 1]) || bytes[j + 1] == UInt8(ascii: "(")
                        || (b == UInt8(ascii: ")") && bytes[j + 1] == UInt8(ascii: " ")) else { break }
                separators.append(b)
            } else {
                break
            }
            j += 1
        }
        while j > start, !isDigit(bytes[j - 1]) && bytes[j - 1] != UInt8(ascii: ")") { j -= 1 }
        guard !digits.isEmpty, j == bytes.count || !isWordByte(bytes[j]) else { return nil }
        let text = bytes[start..<j]

        if separators.allSatisfy({ $0 == UInt8(ascii: ".") }), separators.count == 3 {
            let octets = text.split(separator: UInt8(ascii: "."))
            if octets.count == 4, octets.allSatisfy({ (1...3).contains($0.count) && Int(String(decoding: $0, as: UTF8.self))! <= 255 }) {
                return (j, .ipAddress)
            }
            return nil
        }
        if separators.contains(UInt8(ascii: ".")) { return nil }  // versions, decimals
        if separators.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "-") }),
           LegacyPIIRedactor.passesLuhn(digits) {
            return (j, .cardNumber)
        }
        // Dates (2025-11-11) and bare ids are not phone numbers: a phone has a `+`, brackets,
        // or at least nine digits split into groups.
        let groups = text.split(whereSeparator: { !isDigit($0) }).map(\.count)
        let looksLikeDate = text.contains(UInt8(ascii: "-")) && zip(groups, zip(groups.dropFirst(), groups.dropFirst(2)))
            .contains { $0 == 4 && $1.0 == 2 && $1.1 == 2 }
        let followedByTime = j + 1 < bytes.count && bytes[j] == UInt8(ascii: ":") && isDigit(bytes[j + 1])
        if followedByTime { return nil }
        let international = first == UInt8(ascii: "+") || first == UInt8(ascii: "(")
        if (7...15).contains(digits.count), !looksLikeDate,
           international || (digits.count >= 9 && !separators.isEmpty) {
            return (j, .phone)
        }
        return nil
    }

    // MARK: byte classes

    private func hasPrefix(_ prefix: String, at start: Int) -> Bool { hasPrefix(Array(prefix.utf8), at: start) }

    private func hasPrefix(_ prefix: [UInt8], at start: Int) -> Bool {
        start + prefix.count <= bytes.count && bytes[start..<(start + prefix.count)].elementsEqual(prefix)
    }

    private mutating func run(from start: Int, while accept: (UInt8) -> Bool) -> Int {
        var j = start
        while j < bytes.count, accept(bytes[j]) { j += 1 }
        steps += j - start
        return j
    }
}

private func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
private func isAlpha(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }
private func isAlnum(_ b: UInt8) -> Bool { isDigit(b) || isAlpha(b) }
private func isHex(_ b: UInt8) -> Bool { isDigit(b) || ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x66) }
private func isWordByte(_ b: UInt8) -> Bool { isAlnum(b) || b == UInt8(ascii: "_") || b >= 0x80 }
private func isBase64URL(_ b: UInt8) -> Bool { isAlnum(b) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_") }
private func isLocalPartByte(_ b: UInt8) -> Bool {
    isAlnum(b) || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "%")
        || b == UInt8(ascii: "+") || b == UInt8(ascii: "-")
}
