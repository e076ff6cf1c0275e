// Incident identifiers of the form INC-YYYYMMDD-NNNNN.

/// An incident identifier: the UTC day it was opened and that day's counter, `INC-20261123-00042`.
///
/// The counter has at least five digits; a day with more than 99 999 incidents simply gets longer ids
/// rather than wrapping or failing.
public struct IncidentID: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The UTC day as `YYYYMMDD`.
    public let day: Int
    /// The position of this incident among those opened that day, from 1.
    public let counter: Int

    /// Builds an id from its parts; nil when the day is not a plausible `YYYYMMDD` or the counter is below 1.
    public init?(day: Int, counter: Int) {
        let month = (day / 100) % 100
        let dayOfMonth = day % 100
        guard (1970_01_01...9999_12_31).contains(day), (1...12).contains(month), (1...31).contains(dayOfMonth),
              counter >= 1 else { return nil }
        self.day = day
        self.counter = counter
    }

    /// Parses `INC-YYYYMMDD-NNNNN`; nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "INC", parts[1].count == 8, parts[2].count >= 5,
              parts[1].allSatisfy(\.isASCIIDigit), parts[2].allSatisfy(\.isASCIIDigit),
              let day = Int(parts[1]), let counter = Int(parts[2]) else { return nil }
        self.init(day: day, counter: counter)
    }

    public var description: String {
        let digits = String(counter)
        let padded = String(repeating: "0", count: max(0, 5 - digits.count)) + digits
        return "INC-\(day)-\(padded)"
    }

    public static func < (lhs: IncidentID, rhs: IncidentID) -> Bool {
        (lhs.day, lhs.counter) < (rhs.day, rhs.counter)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
