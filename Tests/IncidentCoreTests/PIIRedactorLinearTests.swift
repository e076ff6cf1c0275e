import Testing
@testable import IncidentCore

/// The redactor on inputs that used to cost quadratic time, and against the old algorithm on random texts:
/// making it linear must not change what it redacts.
@Suite struct PIIRedactorLinearTests {
    let redactor = PIIRedactor()
    /// Long enough that a quadratic scan shows (16 KiB, a description's size), short enough for a debug build.
    static let length = 16 * 1024

    static func repeated(_ unit: String, to length: Int = length) -> String {
        String(repeating: unit, count: length / unit.utf8.count)
    }

    @Test func longRunOfDottedDigitsRedactsOnlyTheTrailingAddress() {
        let text = Self.repeated("1.") + "1"
        let units = Self.length / 2
        #expect(redactor.redact(text).text == String(repeating: "1.", count: units - 3) + "[REDACTED:ip]")
    }

    @Test func longRunOfDottedLettersIsLeftAloneUnlessItEndsInAnAddress() {
        let text = Self.repeated("a.")
        #expect(redactor.redact(text).text == text)
        #expect(redactor.redact(text + "a@example.com").text == "[REDACTED:email]")
        #expect(redactor.redact(Self.repeated("a@")).found.isEmpty)
    }

    @Test func longRunOfDashedDigitsRedactsTheTrailingPhoneShape() {
        // 15 digits with separators is the longest phone; more digits are never a phone, card or address.
        let units = Self.length / 2
        let text = Self.repeated("1-") + "1"
        #expect(redactor.redact(text).text == String(repeating: "1-", count: units - 14) + "[REDACTED:phone]")
    }

    @Test func longRunsOfColonsBracketsAndPrefixesAreLeftAlone() {
        #expect(redactor.redact(Self.repeated("a:")).text == Self.repeated("a:"))
        #expect(redactor.redact(Self.repeated("(")).text == Self.repeated("("))
        #expect(redactor.redact(Self.repeated("sk-")).text == Self.repeated("sk-"))
        #expect(redactor.redact(Self.repeated("eyJ.")).text == Self.repeated("eyJ."))
    }

    @Test func longValuesAreStillRedactedWhole() {
        // The runs are remembered, not cut short: a long key or a phone behind many brackets is still found.
        #expect(redactor.redact(Self.repeated("sk-") + "abc123").text == "[REDACTED:secret]")
        #expect(redactor.redact(Self.repeated("(") + "4155550100").text == "[REDACTED:phone]")
        let jwt = "eyJ" + String(repeating: "a", count: 8000) + "." + String(repeating: "b", count: 8) + ".c2lnbmF0dXJl"
        #expect(redactor.redact("x " + jwt).text == "x [REDACTED:secret]")
    }

    static let pathologicalUnits = ["1.", "a.", "1-", "1 ", "a:", "1:", "(", "sk-", "eyJ.", "eyJ-", "a@", "1) ", "+1.",
                                    "(1-", "Bearer ", "x@a.", "AKIA-", "((1 "]

    /// Work, not time: the bytes the scan steps over stay within a small multiple of the length.
    @Test(arguments: pathologicalUnits)
    func workOnPathologicalRunsIsLinear(unit: String) {
        let text = Self.repeated(unit) + "1"
        let steps = PIIRedactor.scanSteps(text)
        #expect(steps <= 64 * text.utf8.count, "\(steps) steps for \(text.utf8.count) bytes")
    }

    @Test(arguments: ["1.", "a.", "1-", "1 ", "a:"])
    func theStepBoundCatchesTheOldQuadraticScan(unit: String) {
        // 2 KiB keeps the old scan quick in a debug build; it already steps far past the bound.
        let text = Self.repeated(unit, to: 2048) + "1"
        #expect(LegacyPIIRedactor.scanSteps(text) > 64 * text.utf8.count)
    }

    @Test(arguments: pathologicalUnits)
    func pathologicalRunsMatchTheOldAlgorithm(unit: String) {
        // 1 KiB: the old algorithm is quadratic, so the oracle side stays short.
        let text = Self.repeated(unit, to: 1024) + "1"
        let old = LegacyPIIRedactor().redact(text)
        let new = redactor.redact(text)
        #expect(new.text == old.text)
        #expect(new.found == old.found)
    }

    @Test func randomShortTextsRedactAsTheOldAlgorithmDid() {
        // Bytes the shapes care about, weighted toward separators and the starts of prefixes.
        let pieces = ["0", "1", "4", "5", "9", "2", ".", ".", "-", "-", " ", " ", ":", ":", "(", ")", "+", "@", "_",
                      "%", "a", "e", "f", "x", "Z", "eyJ", "sk", "AKIA", "Bearer ", "com", "é", "\n", "::", "192.168.",
                      "4111 1111 1111 111", "2025-11-", "aaaaaaaa", "12345678"]
        var random = SplitMix64(seed: 0x5eed)
        let oracle = LegacyPIIRedactor()
        var mismatches: [String] = []
        for _ in 0..<30_000 {
            let count = Int(random.next() % 24)
            let text = (0..<count).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }.joined()
            let old = oracle.redact(text)
            let new = redactor.redact(text)
            if new.text != old.text || new.found != old.found { mismatches.append(text) }
        }
        #expect(mismatches.isEmpty, "first differing inputs: \(mismatches.prefix(5))")
    }
}

/// A small seeded generator, so a failure names inputs that reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
