// RFC 3339 timestamps read by hand: every CreateIncident carries one, and Foundation's ISO8601DateFormatter
// builds an ICU formatter per use (a fifth of the server's CPU per create when profiled).
import Foundation

/// Parses RFC 3339 date-times (`2025-11-11T10:35:00Z`, `…:00.123+02:00`) into instants.
public enum RFC3339 {
    /// The instant `text` names, or nil when it is not a valid RFC 3339 date-time.
    ///
    /// Accepts `T`/`t` between date and time, fractional seconds of any length, `Z`/`z` or a `±hh:mm` offset.
    /// Calendar fields are range-checked (February 30th is refused); a leap second `60` counts as the next second.
    public static func date(from text: String) -> Date? {
        var text = text
        return text.withUTF8(parse)
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Date? {
        var cursor = Cursor(bytes: bytes)
        guard let year = cursor.digits(4), cursor.take(UInt8(ascii: "-")),
              let month = cursor.digits(2), cursor.take(UInt8(ascii: "-")),
              let day = cursor.digits(2), cursor.take(UInt8(ascii: "T")) || cursor.take(UInt8(ascii: "t")),
              let hour = cursor.digits(2), cursor.take(UInt8(ascii: ":")),
              let minute = cursor.digits(2), cursor.take(UInt8(ascii: ":")),
              let second = cursor.digits(2) else { return nil }
        guard (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
              hour < 24, minute < 60, second <= 60 else { return nil }
        var fraction = 0.0
        if cursor.take(UInt8(ascii: ".")) {
            // Nanoseconds at most; further digits are read and dropped.
            var nanoseconds = 0
            var count = 0
            while let digit = cursor.digit() {
                if count < 9 { nanoseconds = nanoseconds * 10 + digit }
                count += 1
            }
            guard count > 0 else { return nil }
            for _ in min(count, 9)..<9 { nanoseconds *= 10 }
            fraction = Double(nanoseconds) / 1e9
        }
        let offsetSeconds: Int
        if cursor.take(UInt8(ascii: "Z")) || cursor.take(UInt8(ascii: "z")) {
            offsetSeconds = 0
        } else {
            let sign: Int
            if cursor.take(UInt8(ascii: "+")) { sign = 1 } else if cursor.take(UInt8(ascii: "-")) { sign = -1 } else {
                return nil
            }
            guard let offsetHours = cursor.digits(2), cursor.take(UInt8(ascii: ":")),
                  let offsetMinutes = cursor.digits(2), offsetHours < 24, offsetMinutes < 60 else { return nil }
            offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
        }
        guard cursor.atEnd else { return nil }
        let days = daysSinceEpoch(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    private static func isLeap(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days from 1970-01-01 in the proleptic Gregorian calendar, counted in 400-year eras of 146,097 days
    /// from a year that starts in March (so the leap day falls at the end of its year).
    private static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let marchYear = month <= 2 ? year - 1 : year
        let era = (marchYear >= 0 ? marchYear : marchYear - 399) / 400
        let yearOfEra = marchYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Reads ASCII digits and single characters from the front of the text.
    private struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        var atEnd: Bool { index == bytes.count }

        mutating func take(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        mutating func digit() -> Int? {
            guard index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else {
                return nil
            }
            defer { index += 1 }
            return Int(bytes[index] - UInt8(ascii: "0"))
        }

        mutating func digits(_ count: Int) -> Int? {
            var value = 0
            for _ in 0..<count {
                guard let digit = digit() else { return nil }
                value = value * 10 + digit
            }
            return value
        }
    }
}
