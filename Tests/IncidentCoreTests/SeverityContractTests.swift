// The integration guide's contract on severity, as pure logic: levels and words in events and filters, the default
// public_url the links use, and timeline entries stored before details and positions existed.
import Foundation
import Testing
@testable import IncidentCore

@Suite struct SeverityNameTests {
    @Test("an event may name a level (the guide's custom source sends P2), any case; its word is the default scale's")
    func eventsMayNameALevel() throws {
        for (sent, level, word) in [("P2", Priority.p2, Severity.medium), (" p0 ", .p0, .critical), ("P4", .p4, .info)] {
            var event = shieldEvent()
            event.severity = sent
            let validated = try EventValidator().validate(event)
            #expect(validated.level == level, "\(sent)")
            #expect(validated.severity == word, "\(sent)")
            #expect(validated.event.severity == level.description, "normalized for the content hash")
            // A named level is taken as given, whatever the mapping says of words.
            var config = ServiceConfig.defaults
            config.severityMapping[word] = .p4
            #expect(config.level(of: validated) == level)
        }
        var word = shieldEvent()
        word.severity = "High"
        var config = ServiceConfig.defaults
        config.severityMapping[.high] = .p0
        let validated = try EventValidator().validate(word)
        #expect(validated.level == nil)
        #expect(config.level(of: validated) == .p0, "a word goes through the configured mapping")
    }

    @Test("an unknown severity names the field and both kinds of accepted names", arguments: ["P5", "urgent", "P-1"])
    func unknownSeverity(name: String) {
        var event = shieldEvent()
        event.severity = name
        #expect {
            _ = try EventValidator().validate(event)
        } throws: { error in
            guard let error = error as? EventValidationError else { return false }
            return error.field == "severity" && error.problem.contains("P0, P1, P2, P3, P4, critical, high")
        }
    }

    @Test("a filter mixes levels (matched against the level) and words (matched against the event's word)")
    func filters() throws {
        let filter = try SeverityFilter(names: ["P0", "low"])
        #expect(filter.matches(level: .p0, word: .high))
        #expect(filter.matches(level: .p3, word: .low))
        #expect(!filter.matches(level: .p1, word: .critical))
        #expect(try SeverityFilter(names: []).matches(level: .p4, word: .info))
        #expect(throws: UnknownSeverityName(name: "sev1")) { _ = try SeverityFilter(names: ["P1", "sev1"]) }
    }

    @Test("timeline entries stored before details and positions existed still read")
    func oldTimelineEntriesDecode() throws {
        let old = #"[{"actor":"secops","at":1700000000,"kind":"note","message":"on it"}]"#
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        let entries = try decoder.decode([TimelineEntry].self, from: Data(old.utf8))
        #expect(entries.first?.details == [:] && entries.first?.position == 0)
    }

    @Test("links point where the guide puts them: the default public_url is the HTTP door's 127.0.0.1:8443")
    func defaultPublicURL() {
        #expect(ServiceConfig.defaults.publicURL == "https://127.0.0.1:8443")
    }
}
