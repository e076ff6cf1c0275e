// Validates and normalizes an incoming event: required fields, known severity, RFC 3339 timestamps,
// length limits on everything, no control characters in identifiers.
import Foundation

/// An event that passed validation, normalized: severity parsed, identifiers trimmed, types lower-cased.
public struct ValidatedEvent: Sendable, Hashable {
    public var event: SecurityEvent
    /// The event's word; for an event that named a level, the word the default scale gives that level.
    public var severity: Severity
    /// The level the event named itself (`severity: "P2"`, the guide's custom sources); nil when it sent a word,
    /// whose level then comes from the configured `severity_mapping`.
    public var level: Priority?
    /// The event's own time, when it gave one.
    public var occurredAt: Date?
}

/// Checks events against the limits.
public struct EventValidator: Sendable {
    public var limits: EventLimits

    public init(limits: EventLimits = EventLimits()) {
        self.limits = limits
    }

    /// Validates and normalizes; the first problem found is thrown, naming its field.
    public func validate(_ input: SecurityEvent) throws(EventValidationError) -> ValidatedEvent {
        var event = input
        event.eventID = FastText.trimmed(event.eventID)
        event.source = FastText.trimmed(event.source)
        event.eventType = FastText.lowercased(FastText.trimmed(event.eventType))
        event.category = FastText.lowercased(FastText.trimmed(event.category))

        try requireIdentifier(event.eventID, field: "event_id")
        try requireIdentifier(event.source, field: "source")
        try check(event.sourceVersion, field: "source_version", max: limits.shortText, identifier: true)
        try check(event.eventType, field: "event_type", max: limits.shortText, identifier: true)
        try check(event.category, field: "category", max: limits.shortText, identifier: true)
        guard !FastText.isBlank(event.title) else {
            throw EventValidationError(field: "title", problem: "is required")
        }
        try check(event.title, field: "title", max: limits.title)
        try check(event.description, field: "description", max: limits.description)

        guard !FastText.trimmed(event.severity).isEmpty else {
            throw EventValidationError(field: "severity", problem: "is required")
        }
        let severity: Severity
        var level: Priority?
        switch SeverityName(event.severity) {
        case .word(let word):
            severity = word
            event.severity = word.rawValue
        case .level(let named):
            severity = Severity(level: named)
            level = named
            event.severity = named.description
        case nil:
            throw EventValidationError(field: "severity", problem: "must be one of \(SeverityName.allNames)")
        }

        var occurredAt: Date?
        if !event.timestamp.isEmpty {
            guard let date = Self.parseRFC3339(event.timestamp) else {
                throw EventValidationError(field: "timestamp", problem: "must be an RFC 3339 time such as 2025-11-11T10:35:00Z")
            }
            occurredAt = date
        }

        try check(event.resource.type, field: "resource.type", max: limits.shortText)
        try check(event.resource.id, field: "resource.id", max: limits.identifier)
        try check(event.resource.name, field: "resource.name", max: limits.identifier)
        try checkMap(event.resource.metadata, field: "resource.metadata")
        try checkMap(event.tags, field: "tags")
        guard event.metrics.count <= limits.mapEntries else {
            throw EventValidationError(field: "metrics", problem: "has \(event.metrics.count) entries; at most \(limits.mapEntries)")
        }
        for (key, value) in event.metrics {
            try check(key, field: "metrics key", max: limits.mapKey, identifier: true)
            guard value.isFinite else { throw EventValidationError(field: "metrics[\"\(key)\"]", problem: "must be a finite number") }
        }
        guard event.encryptedPayload.count <= limits.encryptedPayload else {
            throw EventValidationError(field: "encrypted_payload", problem: "is \(event.encryptedPayload.count) bytes; at most \(limits.encryptedPayload)")
        }
        return ValidatedEvent(event: event, severity: severity, level: level, occurredAt: occurredAt)
    }

    private func requireIdentifier(_ value: String, field: String) throws(EventValidationError) {
        guard !value.isEmpty else { throw EventValidationError(field: field, problem: "is required") }
        try check(value, field: field, max: limits.identifier, identifier: true)
    }

    private func check(_ value: String, field: String, max: Int, identifier: Bool = false) throws(EventValidationError) {
        let length = value.utf8.count
        guard length <= max else { throw EventValidationError(field: field, problem: "is \(length) bytes; at most \(max)") }
        // Identifiers end up in ids, logs and URLs: no control characters or spaces inside them.
        // Printable ASCII (nearly every identifier) needs no Unicode property lookup.
        if identifier, !value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }),
           value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0 == " " }) {
            throw EventValidationError(field: field, problem: "must not contain spaces or control characters")
        }
        if !identifier, value.utf8.contains(0) {
            throw EventValidationError(field: field, problem: "must not contain NUL characters")
        }
    }

    private func checkMap(_ map: [String: String], field: String) throws(EventValidationError) {
        guard map.count <= limits.mapEntries else {
            throw EventValidationError(field: field, problem: "has \(map.count) entries; at most \(limits.mapEntries)")
        }
        for (key, value) in map {
            guard !key.isEmpty else { throw EventValidationError(field: field, problem: "has an empty key") }
            try check(key, field: "\(field) key", max: limits.mapKey, identifier: true)
            try check(value, field: "\(field)[\"\(key)\"]", max: limits.mapValue)
        }
    }

    /// RFC 3339 with or without fractional seconds, `Z` or an offset.
    public static func parseRFC3339(_ text: String) -> Date? {
        RFC3339.date(from: text)
    }
}

/// Trimming and case folding for the validator's hot path: the answer Foundation gives, without Foundation's cost
/// when the text is ASCII with nothing to trim or fold (nearly every event); other text takes Foundation's path.
enum FastText {
    /// `text` without leading and trailing `CharacterSet.whitespaces`.
    static func trimmed(_ text: String) -> String {
        let bytes = text.utf8
        guard let first = bytes.first, let last = bytes.last else { return text }
        // Whitespace is a space or tab in ASCII, and only non-ASCII otherwise; an ASCII edge that is neither is kept.
        if first < 0x80, last < 0x80, first != 0x20, first != 0x09, last != 0x20, last != 0x09 { return text }
        return text.trimmingCharacters(in: .whitespaces)
    }

    /// `text.lowercased()`, skipped when `text` is ASCII without capitals.
    static func lowercased(_ text: String) -> String {
        text.utf8.allSatisfy({ $0 < 0x80 && !(0x41...0x5A).contains($0) }) ? text : text.lowercased()
    }

    /// Whether `text` is empty or only `CharacterSet.whitespacesAndNewlines`.
    static func isBlank(_ text: String) -> Bool {
        for byte in text.utf8 {
            switch byte {
            case 0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D: continue
            case 0x80...: return text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
            default: return false
            }
        }
        return true
    }
}
