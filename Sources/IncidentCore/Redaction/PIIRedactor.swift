// Masks personal data and secrets in free text before an incident is stored (`redact_pii`).
// Each finding is replaced by a fixed marker, so a reader still sees *what* was there without
// learning the value, and the same input always redacts to the same output.
//
// A hand-written scanner over UTF-8 rather than regular expressions: it runs on every create,
// Swift's Regex has no look-behind, and the shapes we look for (cards with Luhn, IPv4 octets,
// dates that must *not* be phones) need checks a pattern cannot express anyway.

/// What kind of sensitive value the redactor found.
public enum PIIKind: String, Sendable, CaseIterable {
    case email
    case phone
    case cardNumber = "card"
    case ipAddress = "ip"
    case apiKey = "secret"

    /// The text that replaces a value of this kind.
    public var marker: String { "[REDACTED:\(rawValue)]" }
}

/// Finds and masks emails, phone numbers, payment card numbers, IP addresses and API-key-like tokens.
public struct PIIRedactor: Sendable {
    public init() {}

    /// Returns `text` with every sensitive value replaced by its kind's marker, and the kinds found.
    public func redact(_ text: String) -> (text: String, found: Set<PIIKind>) {
        var scanner = Scanner(bytes: Array(text.utf8))
        scanner.run()
        if scanner.found.isEmpty { return (text, []) }
        return (String(decoding: scanner.output, as: UTF8.self), scanner.found)
    }

    /// Redacts every value of a string map (keys are identifiers chosen by the sender and kept).
    public func redact(_ map: [String: String]) -> (map: [String: String], found: Set<PIIKind>) {
        var found = Set<PIIKind>()
        var output = [String: String](minimumCapacity: map.count)
        for (key, value) in map {
            let result = redact(value)
            found.formUnion(result.found)
            output[key] = result.text
        }
        return (output, found)
    }

    /// How many bytes the scan stepped over for `text`, counting every rescan: the tests hold it to a small
    /// multiple of the length, the measure of linear time that no machine load can skew.
    static func scanSteps(_ text: String) -> Int {
        var scanner = Scanner(bytes: Array(text.utf8))
        scanner.run()
        return scanner.steps
    }

    /// The Luhn checksum every payment card number satisfies; it keeps order ids and timestamps unmasked.
    /// (The scanner sums it digit by digit as it reads; this is the plain form of the same rule.)
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
///
/// Linear time. A failed shape at one word start used to rescan the same run for the next word start
/// (`1.1.1.…`, `1-1-1-…`, `a:a:a:…`: quadratic, up to seconds of CPU per 16 KiB). Now every unbounded run is
/// measured once and remembered for the word starts inside it (`RunMemo`, the `@` memo, `parenRunEnds`), and
/// the shapes with a natural size limit stop at it (IPv6: 39 bytes; numbers: 19 digits), a limit past which
/// the old scan could only fail too, so what is redacted is unchanged.
private struct Scanner {
    let bytes: [UInt8]
    var output: [UInt8] = []
    var found = Set<PIIKind>()
    var i = 0
    /// Bytes stepped over, rescans included (`PIIRedactor.scanSteps`).
    var steps = 0
    /// Email local parts (`isLocalPartByte`).
    private var localRun = RunMemo()
    /// The domain after the last `@` tried: its position and where the address ends (nil: no valid domain).
    private var domainAfterAt: (at: Int, end: Int?) = (-1, nil)
    /// JWT bodies (base64url and dots).
    private var jwtRun = RunMemo()
    /// Key bodies after a secret prefix (base64url).
    private var keyRun = RunMemo()
    /// For each `(`, where its run of `(` ends; built the first time a number starts or runs into one.
    private var parenRunEnds: [Int]?

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
        let at = localRun.end(from: start, in: bytes, steps: &steps, accepting: isLocalPartByte)
        guard at > start, at < bytes.count, bytes[at] == UInt8(ascii: "@") else { return nil }
        // Every word start in the local part reaches the same `@`: its domain is read once.
        if domainAfterAt.at != at { domainAfterAt = (at, domainEnd(after: at)) }
        return domainAfterAt.end
    }

    private mutating func domainEnd(after at: Int) -> Int? {
        var j = at + 1
        let domainStart = j
        var lastDot = -1
        while j < bytes.count, isAlnum(bytes[j]) || bytes[j] == UInt8(ascii: "-") || bytes[j] == UInt8(ascii: ".") {
            if bytes[j] == UInt8(ascii: ".") { lastDot = j }
            j += 1
            steps += 1
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
        // `Bearer <token>`: the token is the secret; the word stays readable. (Linear already: a token run
        // ends at the space before any later `Bearer `, so no two of these scans overlap.)
        if hasPrefix("Bearer ", at: start) {
            let tokenStart = start + 7
            let end = run(from: tokenStart) { isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
            return end - tokenStart >= 16 ? end : nil
        }
        // A JWT: three base64url parts, the first starting with `eyJ` (`{"`): exactly two dots after `start`.
        if hasPrefix("eyJ", at: start) {
            let end = jwtRun.end(from: start, in: bytes, steps: &steps,
                                 accepting: { isBase64URL($0) || $0 == UInt8(ascii: ".") })
            let (third, second, last) = jwtRun.lastDots
            if third < start, second >= start, second - start >= 8, last - second - 1 >= 8, end - last - 1 >= 8 {
                return end
            }
        }
        for prefix in Self.secretPrefixes where hasPrefix(prefix, at: start) {
            var j = start + prefix.count
            if j < bytes.count, bytes[j] == UInt8(ascii: "-") || bytes[j] == UInt8(ascii: "_") { j += 1 }
            let end = keyRun.end(from: j, in: bytes, steps: &steps, accepting: isBase64URL)
            // Long, and not a plain word: real keys mix digits in.
            if end - j >= 16, keyRun.lastDigit >= j, end == bytes.count || !isWordByte(bytes[end]) {
                return end
            }
        }
        return nil
    }

    /// The longest run of hex digits and colons an address can be: 8 groups of 4 and 7 colons.
    private static let ipv6MaxLength = 39

    private mutating func ipv6(at start: Int) -> Int? {
        let limit = min(bytes.count, start + Self.ipv6MaxLength + 1)
        let end = run(from: start, upTo: limit) { isHex($0) || $0 == UInt8(ascii: ":") }
        // Longer runs have more than 7 colons or a group of more than 4 digits: never an address.
        guard end - start <= Self.ipv6MaxLength else { return nil }
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

    /// More digits than any card (19), phone (15) or IPv4 address (12) has.
    private static let numericMaxDigits = 19

    /// Digits with separators: an IPv4 address, a card number (Luhn) or a phone number.
    ///
    /// Reads what it needs as it goes instead of collecting the run: it stops after 19 digits (no shape has
    /// more), and skips a run of `(` in one step, so a number costs at most a few dozen steps wherever it starts.
    private mutating func numeric(at start: Int) -> (Int, PIIKind)? {
        guard start < bytes.count else { return nil }
        let first = bytes[start]
        guard isDigit(first) || first == UInt8(ascii: "+") || first == UInt8(ascii: "(") else { return nil }
        var j = start
        var digitCount = 0
        // Luhn sums for the digits so far, with the last digit taken as-is (`luhnPlain`) or doubled.
        var luhnPlain = 0, luhnDoubled = 0
        var separatorCount = 0
        var allDots = true, anyDot = false, allSpacesOrDashes = true
        var firstDash = Int.max
        // The trimmed end: just after the last digit or `)`.
        var keep = start
        // Lengths of digit groups: the two last closed ones and the open one; whether 4-2-2 (a date) occurred.
        var (groupBeforeLast, lastGroup, openGroup) = (-1, -1, 0)
        var hasDateGroups = false
        func closeGroup() {
            guard openGroup > 0 else { return }
            if groupBeforeLast == 4, lastGroup == 2, openGroup == 2 { hasDateGroups = true }
            (groupBeforeLast, lastGroup, openGroup) = (lastGroup, openGroup, 0)
        }
        while j < bytes.count {
            steps += 1
            let b = bytes[j]
            if isDigit(b) {
                digitCount += 1
                if digitCount > Self.numericMaxDigits { return nil }
                let digit = Int(b - UInt8(ascii: "0"))
                let doubled = digit * 2 > 9 ? digit * 2 - 9 : digit * 2
                (luhnPlain, luhnDoubled) = (digit + luhnDoubled, doubled + luhnPlain)
                openGroup += 1
                keep = j + 1
            } else if b == UInt8(ascii: " ") || b == UInt8(ascii: "-") || b == UInt8(ascii: ".")
                        || b == UInt8(ascii: "(") || b == UInt8(ascii: ")") || (b == UInt8(ascii: "+") && j == start) {
                if b == UInt8(ascii: "(") {
                    // Every `(` of a run but the last is followed by `(`, so it is taken: jump to the last.
                    let runEnd = parenRunEnd(at: j)
                    if runEnd - 1 > j {
                        closeGroup()
                        separatorCount += runEnd - 1 - j
                        allDots = false
                        allSpacesOrDashes = false
                        j = runEnd - 1
                    }
                }
                // A separator counts only when a digit (or an opening bracket) follows.
                guard j + 1 < bytes.count, isDigit(bytes[j + 1]) || bytes[j + 1] == UInt8(ascii: "(")
                        || (b == UInt8(ascii: ")") && bytes[j + 1] == UInt8(ascii: " ")) else { break }
                closeGroup()
                separatorCount += 1
                if b == UInt8(ascii: ".") { anyDot = true } else { allDots = false }
                if b != UInt8(ascii: " ") && b != UInt8(ascii: "-") { allSpacesOrDashes = false }
                if b == UInt8(ascii: "-") { firstDash = min(firstDash, j) }
                if b == UInt8(ascii: ")") { keep = j + 1 }
            } else {
                break
            }
            j += 1
        }
        closeGroup()
        // Trailing separators are not part of the value (but count above, as they always have).
        j = keep
        guard digitCount > 0, j == bytes.count || !isWordByte(bytes[j]) else { return nil }
        let text = bytes[start..<j]

        if allDots, separatorCount == 3 {
            let octets = text.split(separator: UInt8(ascii: "."))
            if octets.count == 4, octets.allSatisfy({ (1...3).contains($0.count) && Int(String(decoding: $0, as: UTF8.self))! <= 255 }) {
                return (j, .ipAddress)
            }
            return nil
        }
        if anyDot { return nil }  // versions, decimals
        if allSpacesOrDashes, (13...19).contains(digitCount), luhnPlain % 10 == 0 {
            return (j, .cardNumber)
        }
        // Dates (2025-11-11) and bare ids are not phone numbers: a phone has a `+`, brackets,
        // or at least nine digits split into groups.
        let looksLikeDate = firstDash < j && hasDateGroups
        let followedByTime = j + 1 < bytes.count && bytes[j] == UInt8(ascii: ":") && isDigit(bytes[j + 1])
        if followedByTime { return nil }
        let international = first == UInt8(ascii: "+") || first == UInt8(ascii: "(")
        if (7...15).contains(digitCount), !looksLikeDate,
           international || (digitCount >= 9 && separatorCount > 0) {
            return (j, .phone)
        }
        return nil
    }

    /// Where the run of `(` containing `j` ends.
    private mutating func parenRunEnd(at j: Int) -> Int {
        if parenRunEnds == nil {
            var ends = [Int](repeating: 0, count: bytes.count)
            var end = bytes.count
            steps += bytes.count
            for k in stride(from: bytes.count - 1, through: 0, by: -1) {
                if bytes[k] != UInt8(ascii: "(") { end = k }
                ends[k] = end
            }
            parenRunEnds = ends
        }
        return parenRunEnds![j]
    }

    // MARK: byte classes

    private func hasPrefix(_ prefix: String, at start: Int) -> Bool { hasPrefix(Array(prefix.utf8), at: start) }

    private func hasPrefix(_ prefix: [UInt8], at start: Int) -> Bool {
        start + prefix.count <= bytes.count && bytes[start..<(start + prefix.count)].elementsEqual(prefix)
    }

    private mutating func run(from start: Int, upTo limit: Int? = nil, while accept: (UInt8) -> Bool) -> Int {
        let limit = limit ?? bytes.count
        var j = start
        while j < limit, accept(bytes[j]) { j += 1 }
        steps += j - start
        return j
    }
}

/// The last maximal run of one byte class measured, with what the shapes ask about it. Word starts only move
/// forward, so a later start inside the run gets its end without scanning again.
private struct RunMemo {
    /// The run measured covers `from..<end`; the byte at `end` is outside the class (or the text ends).
    private var from = 0
    private var end = -1
    /// The last digit in the run, or -1.
    private(set) var lastDigit = -1
    /// The positions of the run's last three dots, oldest first; -1 where it has fewer.
    private(set) var lastDots = (-1, -1, -1)

    /// The end of the run of accepted bytes starting at `start`.
    mutating func end(from start: Int, in bytes: [UInt8], steps: inout Int, accepting accept: (UInt8) -> Bool) -> Int {
        if start >= from, start <= end { return end }
        from = start
        lastDigit = -1
        lastDots = (-1, -1, -1)
        var j = start
        while j < bytes.count, accept(bytes[j]) {
            if isDigit(bytes[j]) { lastDigit = j }
            if bytes[j] == UInt8(ascii: ".") { lastDots = (lastDots.1, lastDots.2, j) }
            j += 1
        }
        steps += j - start
        end = j
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
