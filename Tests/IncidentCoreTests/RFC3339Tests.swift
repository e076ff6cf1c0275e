// The hand-written RFC 3339 reader against Foundation's ISO8601DateFormatter as an independent oracle.
import Foundation
import Testing
@testable import IncidentCore

@Suite("RFC 3339 timestamps")
struct RFC3339Tests {
    private static func foundation(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }

    @Test("agrees with Foundation on valid times across eras, offsets and leap days",
          arguments: [
              "2025-11-11T10:35:00Z", "1970-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "2000-02-29T12:00:00Z",
              "2024-02-29T23:59:59+05:30", "2100-03-01T00:00:00-08:00", "1900-01-01T00:00:00Z",
              "2026-12-31T23:59:59.999Z", "2025-06-15T08:07:06.5+01:00", "1583-01-01T00:00:00Z",
              "9999-12-31T23:59:59Z", "2025-11-11T10:35:00.123Z", "2025-11-11T12:35:00+02:00",
          ])
    func agreesWithFoundation(_ text: String) throws {
        let ours = try #require(RFC3339.date(from: text))
        let theirs = try #require(Self.foundation(text))
        #expect(abs(ours.timeIntervalSince1970 - theirs.timeIntervalSince1970) < 0.001)
    }

    @Test("every day of four years, as Foundation counts them")
    func everyDay() throws {
        var components = DateComponents()
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        for dayOffset in stride(from: -800, to: 800, by: 1) {
            let date = Date(timeIntervalSince1970: 946_684_800 + Double(dayOffset) * 86_400 + 3_723)
            components = calendar.dateComponents([.year, .month, .day], from: date)
            let text = String(format: "%04d-%02d-%02dT01:02:03Z", components.year!, components.month!,
                              components.day!)
            #expect(RFC3339.date(from: text) == date, "\(text)")
        }
    }

    @Test("proleptic Gregorian before 1582, as RFC 3339 asks (ICU switches to the Julian calendar there)")
    func prolepticGregorian() {
        #expect(RFC3339.date(from: "0001-01-01T00:00:00Z")?.timeIntervalSince1970 == -62_135_596_800)
    }

    @Test("fractions: any length, nanoseconds kept")
    func fractions() {
        #expect(RFC3339.date(from: "1970-01-01T00:00:01.25Z")?.timeIntervalSince1970 == 1.25)
        #expect(RFC3339.date(from: "1970-01-01T00:00:00.123456789123Z")!.timeIntervalSince1970 > 0.1234567)
        #expect(RFC3339.date(from: "1970-01-01t00:00:00z")?.timeIntervalSince1970 == 0)
    }

    @Test("refuses what is not an RFC 3339 date-time",
          arguments: [
              "", "2025-11-11", "2025-11-11 10:35", "2025-11-11T10:35:00", "2025-13-01T00:00:00Z",
              "2025-02-29T00:00:00Z", "2025-04-31T00:00:00Z", "2025-11-11T24:00:00Z", "2025-11-11T10:60:00Z",
              "2025-11-11T10:35:00.Z", "2025-11-11T10:35:00+0200", "2025-11-11T10:35:00+24:00",
              "2025-11-11T10:35:00Zjunk", "25-11-11T10:35:00Z", "2025-1-11T10:35:00Z", "２０２５-11-11T10:35:00Z",
              "2025-11-11T10:35:00Z\u{0}",
          ])
    func refuses(_ text: String) {
        #expect(RFC3339.date(from: text) == nil)
    }
}
